"""The bundled data loads completely, and loading it again changes nothing."""

import asyncio
import json
from collections import Counter

from sqlalchemy import func, select

from instcat.config import Settings
from instcat.db import Database
from instcat.models import Category, Feedback, MarketFigure, Product, Trial, Vendor
from instcat.seeding import seed
from tests.conftest import SEED_DIR


def _file_counts() -> Counter[str]:
    return Counter(
        {
            name: len(json.loads((SEED_DIR / f"{name}.json").read_text(encoding="utf-8")))
            for name in (
                "categories",
                "market_figures",
                "vendors",
                "products",
                "trials",
                "feedback",
            )
        }
    )


async def _seed_and_count(settings: Settings) -> tuple[Counter[str], Counter[str], dict[str, int]]:
    db = Database.from_settings(settings)
    try:
        first = await seed(db, SEED_DIR)
        second = await seed(db, SEED_DIR)
        async with db.read() as session:
            counts = {
                name: (await session.execute(select(func.count()).select_from(model))).scalar_one()
                for name, model in (
                    ("categories", Category),
                    ("market_figures", MarketFigure),
                    ("vendors", Vendor),
                    ("products", Product),
                    ("trials", Trial),
                    ("feedback", Feedback),
                )
            }
    finally:
        await db.dispose()
    return first, second, counts


def test_seed_loads_every_record_and_is_safe_to_run_twice(settings: Settings) -> None:
    first, second, counts = asyncio.run(_seed_and_count(settings))
    expected = _file_counts()
    assert first == expected
    assert sum(second.values()) == 0
    assert counts == dict(expected)


def test_every_bundled_example_record_is_marked_illustrative() -> None:
    for name in ("products", "vendors", "trials", "feedback"):
        records = json.loads((SEED_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert all(r.get("illustrative") is True for r in records), name


def test_every_bundled_market_figure_carries_its_source() -> None:
    figures = json.loads((SEED_DIR / "market_figures.json").read_text(encoding="utf-8"))
    for figure in figures:
        source = figure["source"]
        assert source["publication"] and source["title"], figure["ref"]
        assert source["quote"], figure["ref"]
    refs = {f["ref"].split("-")[0] for f in figures}
    assert {f"A{i}" for i in range(1, 16)} <= refs


def test_source_a_records_credit_both_publications_and_use_the_articles_wording() -> None:
    figures = {
        f["ref"]: f
        for f in json.loads((SEED_DIR / "market_figures.json").read_text(encoding="utf-8"))
    }
    vendors = json.loads((SEED_DIR / "vendors.json").read_text(encoding="utf-8"))
    sources = [f["source"] for f in figures.values()] + [
        v["source"] for v in vendors if v["source"]
    ]
    assert len(sources) == len(figures) + 5
    for source in sources:
        assert (
            source["publication"]
            == "阿仪网 (reprinted in 《浙江机械》 总第569期); reporting by 科技日报"
        )
    for vendor in vendors:
        if vendor["source"]:
            assert "2021; reporting by 科技日报)" in vendor["description"], vendor["slug"]
    # A6's sentence has no year: stored as reported, like the other reported figures.
    assert figures["A6"]["year"] == 2021 and "states no year" in figures["A6"]["note"]
    assert {figures[r]["year"] for r in ("A7", "A8", "A9")} == {2020}
    assert figures["A4"]["scope"].startswith("原值超过50万元以上的大型仪器 ")
    for ref in ("A10-usd", "A10-cny"):
        assert figures[ref]["scope"].startswith("光学仪器、电子测量仪器、试验机和实验分析仪器 ")
    # A11's 20% and the ≈7% by value that A13/A14 give are both kept, and say so.
    assert (figures["A11"]["value"], figures["A11"]["basis"]) == (20, None)
    for ref in ("A11", "A13-value", "A13-units", "A14"):
        assert "about 7% (0.3 / (4 + 0.3) billion yuan)" in figures[ref]["note"], ref
