"""The bundled data loads completely, and loading it again changes nothing."""

import asyncio
import json
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

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


async def _hplc_trials(settings: Settings) -> tuple[list[dict[str, Any]], dict[int, dict]]:
    """The seeded HPLC trials as stored, and the HPLC products by id."""
    db = Database.from_settings(settings)
    try:
        await seed(db, SEED_DIR)
        async with db.read() as session:
            rows = await session.execute(
                select(Product.id, Product.model, Product.specs, Product.status, Vendor.country)
                .join(Vendor, Vendor.id == Product.vendor_id)
                .join(Category, Category.id == Product.category_id)
                .where(Category.code == "hplc")
            )
            products = {
                row.id: {
                    "model": row.model,
                    "specs": row.specs,
                    "status": row.status,
                    "domestic": row.country == "CN",
                }
                for row in rows
            }
            trials = await session.execute(
                select(Trial).where(col(Trial.product_id).in_(products)).order_by(Trial.id)
            )
            stored = [t.model_dump() for t in trials.scalars()]
    finally:
        await db.dispose()
    return stored, products


def _meets(definitions: list[dict[str, Any]], candidate: dict, reference: dict) -> set[str]:
    """The spec keys (of those the reference has a value for) the candidate meets."""
    met = set()
    for spec in definitions:
        key, ours, theirs = spec["key"], candidate.get(spec["key"]), reference.get(spec["key"])
        if theirs is None or ours is None:
            continue
        direction = spec["direction"]
        if (
            (direction == "higher_better" and ours >= theirs)
            or (direction == "lower_better" and ours <= theirs)
            or (direction == "includes" and set(theirs) <= set(ours))
            or (direction == "equals" and ours == theirs)
        ):
            met.add(key)
    return met


def test_seeded_hplc_trials_give_every_kind_of_evidence(settings: Settings) -> None:
    """The bundled HPLC trials hold what each basis and grade needs: an EP09-sized direct
    trial, paired evidence against another reference, a short direct trial and a failed one."""
    trials, products = asyncio.run(_hplc_trials(settings))
    category = next(
        c
        for c in json.loads((SEED_DIR / "categories.json").read_text(encoding="utf-8"))
        if c["code"] == "hplc"
    )
    definitions = category["specs"]
    critical = {s["key"] for s in definitions if s["critical"]}
    imported = {i for i, p in products.items() if not p["domestic"]}

    def met(product: int, reference: int) -> set[str]:
        return _meets(definitions, products[product]["specs"], products[reference]["specs"])

    def graded(product: int, reference: int) -> bool:
        """Whether the candidate meets every critical spec of the reference (else excluded)."""
        theirs = {k for k in products[reference]["specs"] if k in critical}
        return products[product]["status"] == "active" and theirs <= met(product, reference)

    def pair(trial: dict[str, Any]) -> tuple[int, int]:
        return trial["product_id"], trial["reference_product_id"]

    assert all(t["illustrative"] for t in trials)
    for trial in trials:
        assert products[trial["product_id"]]["domestic"]
        assert trial["reference_product_id"] in imported
    accepted_paired = [t for t in trials if t["status"] == "accepted" and t["has_paired"]]
    qualifying = [
        t
        for t in accepted_paired
        if t["all_checks_passed"] and t["statistics"]["tost"]["equivalent"] is True
    ]
    failed = [t for t in accepted_paired if t["statistics"]["tost"]["equivalent"] is False]

    # 1. Grade A: ≥ 40 pairs (CLSI EP09), no proportional bias, linear, the candidate meets
    # every spec the reference has a value for, and no failed trial of the pair.
    grade_a = [
        t
        for t in qualifying
        if t["statistics"]["n"] >= 40
        and t["statistics"]["proportional_bias"] is False
        and t["statistics"]["passing_bablok"]["linearity"]["linear"] is True
        and met(*pair(t)) == set(products[t["reference_product_id"]]["specs"])
        and graded(*pair(t))
        and pair(t) not in {pair(f) for f in failed}
    ]
    assert grade_a, "no seeded trial supports a grade A"
    a_trial = grade_a[0]
    assert 40 <= a_trial["statistics"]["n"] <= 60
    assert "few_pairs" not in a_trial["statistics"]["notes"]

    # 2. Indirect: a qualifying paired trial against another reference than the A one, and an
    # imported HPLC that a candidate with paired evidence was never compared with but meets
    # the critical specs of.
    assert any(t["reference_product_id"] != a_trial["reference_product_id"] for t in qualifying)
    compared = {pair(t) for t in accepted_paired}
    indirect = [
        (t["product_id"], reference)
        for t in qualifying
        for reference in imported
        if (t["product_id"], reference) not in compared and graded(t["product_id"], reference)
    ]
    assert indirect, "no candidate has only indirect paired evidence for some reference"

    # 3. Few pairs: a qualifying direct trial below EP09's 40 pairs, noted as such, for a
    # graded pair that has no direct trial of 40 pairs.
    few = [
        t
        for t in qualifying
        if t["statistics"]["n"] < 40
        and graded(*pair(t))
        and not any(o["statistics"]["n"] >= 40 for o in qualifying if pair(o) == pair(t))
    ]
    assert few and all("few_pairs" in t["statistics"]["notes"] for t in few)

    # 4. Not equivalent: an accepted paired trial that failed equivalence, for a graded pair,
    # and the latest accepted paired trial of its candidate against its reference.
    assert failed
    for trial in failed:
        assert graded(*pair(trial)) and trial["equivalent"] is False
        latest = max(
            (t for t in accepted_paired if pair(t) == pair(trial)),
            key=lambda t: (t["ended_on"], t["id"]),
        )
        assert latest["id"] == trial["id"]
