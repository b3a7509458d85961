"""The synthetic-data generator: consistent, valid, deterministic, and never run twice."""

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from instcat.auth import SYSTEM
from instcat.catalogue.lookup import as_spec_defs, spec_rows
from instcat.catalogue.schemas import VendorCreate
from instcat.catalogue.specs import check_specs, index_rows
from instcat.catalogue.vendors import VendorService
from instcat.config import Settings
from instcat.db import Database
from instcat.devdata import GenerateError, Sizes, generate
from instcat.migrate import upgrade
from instcat.models import Feedback, Product, ProductSpecValue, Trial, Vendor
from instcat.stats import compare_methods
from tests.conftest import SEED_DIR

SCALE = 0.002


async def _generate(settings: Settings, seed: int = 3) -> dict[str, int]:
    db = Database.from_settings(settings)
    try:
        return await generate(db, SCALE, seed, seed_dir=SEED_DIR)
    finally:
        await db.dispose()


async def _check_catalogue(settings: Settings) -> None:
    db = Database.from_settings(settings)
    sizes = Sizes.for_scale(SCALE)
    try:
        async with db.read() as session:
            synthetic = Vendor.slug.like("syn-%")
            vendors = (await session.execute(select(Vendor).where(synthetic))).scalars().all()
            assert len(vendors) == sizes.vendors
            assert all(v.illustrative for v in vendors)
            countries = Counter(v.country == "CN" for v in vendors)
            assert countries[True] == sizes.domestic_vendors

            rows = (
                await session.execute(
                    select(Product, Vendor.country)
                    .join(Vendor, Vendor.id == Product.vendor_id)
                    .where(synthetic)
                )
            ).all()
            assert len(rows) == sizes.products
            assert sum(country != "CN" for _, country in rows) == sizes.imported_products
            indexed: dict[int, set[tuple[Any, ...]]] = {}
            for row in (await session.execute(select(ProductSpecValue))).scalars():
                indexed.setdefault(row.product_id, set()).add(
                    (row.key, row.num_value, row.text_value)
                )
            for product, _country in rows:
                definitions = as_spec_defs(await spec_rows(session, [product.category_id]))
                assert product.illustrative
                assert check_specs(definitions, product.specs) == []
                assert indexed.get(product.id, set()) == set(index_rows(product.specs))

            trials = (
                (await session.execute(select(Trial).where(Trial.summary.like("Synthetic%"))))
                .scalars()
                .all()
            )
            assert len(trials) == sizes.trials
            assert all(t.illustrative for t in trials)
            paired = [t for t in trials if t.paired is not None]
            assert 0.2 < len(paired) / len(trials) < 0.5
            assert all(t.has_paired == (t.paired is not None) for t in trials)
            for trial in paired[:20]:
                values = trial.paired
                expected = compare_methods(
                    values["candidate"], values["reference"], values["margin"]
                )
                assert trial.statistics == expected.as_dict()
                assert trial.equivalent is expected.tost.equivalent
                assert 20 <= len(values["candidate"]) <= 200
            feedback = (
                await session.execute(select(func.count()).where(Feedback.illustrative))
            ).scalar_one()
            assert feedback >= sizes.feedback
        # Ids were assigned by the generator: new records still get fresh ones.
        data = VendorCreate(slug="after-generate", name_zh="后来", name_en="Later", country="CN")
        created = await VendorService(db).create(SYSTEM, data)
        assert created.id > max(v.id or 0 for v in vendors)
    finally:
        await db.dispose()


def test_generate_writes_a_valid_consistent_catalogue(settings: Settings) -> None:
    counts = asyncio.run(_generate(settings))
    sizes = Sizes.for_scale(SCALE)
    assert counts["vendors"] == sizes.vendors
    assert counts["products"] == sizes.products
    assert counts["trials"] == sizes.trials
    assert counts["feedback"] == sizes.feedback
    asyncio.run(_check_catalogue(settings))


def test_generating_twice_into_one_database_is_refused(settings: Settings) -> None:
    asyncio.run(_generate(settings))
    with pytest.raises(GenerateError, match="already holds generated data"):
        asyncio.run(_generate(settings))


async def _synthetic_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    db = Database.from_settings(Settings(database_url=url))
    queries = {
        "category": "SELECT code, name_zh, aliases FROM category WHERE code LIKE 'syn-%'",
        "vendor": "SELECT * FROM vendor WHERE slug LIKE 'syn-%' ORDER BY id",
        "product": "SELECT * FROM product WHERE vendor_id IN "
        "(SELECT id FROM vendor WHERE slug LIKE 'syn-%') ORDER BY id",
        "trial": "SELECT * FROM trial WHERE summary LIKE 'Synthetic%' ORDER BY id",
        "feedback": "SELECT * FROM feedback ORDER BY id DESC LIMIT 500",
    }
    try:
        async with db.read() as session:
            return {n: (await session.execute(text(q))).all() for n, q in queries.items()}
    finally:
        await db.dispose()


def test_the_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    snapshots = []
    for name in ("first", "second"):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        asyncio.run(_generate(Settings(database_url=url), seed=11))
        snapshots.append(asyncio.run(_synthetic_rows(url)))
    assert snapshots[0] == snapshots[1]
    assert all(snapshots[0].values())


def test_scale_is_bounded() -> None:
    db = Database.from_settings(Settings(database_url="sqlite://"))
    with pytest.raises(GenerateError, match="scale"):
        asyncio.run(generate(db, 0, 1))
    assert Sizes.for_scale(2).products == 2 * Sizes.for_scale(1).products
    assert Sizes.for_scale(1).categories == 100
    asyncio.run(db.dispose())


def test_dev_generate_command_reports_what_it_made(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from instcat.cli_dev import dev

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    settings = Settings(database_url=url, seed_dir=SEED_DIR)
    result = CliRunner().invoke(dev, ["generate", "--scale", "0.002", "--seed", "5"], obj=settings)
    assert result.exit_code == 0, result.output
    assert "generated 1 categories, 6 vendors, 200 products, 600 trials" in result.output
    again = CliRunner().invoke(dev, ["generate", "--scale", "0.002"], obj=settings)
    assert again.exit_code == 1
    assert "already holds generated data" in again.output
