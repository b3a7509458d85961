"""`generate`: writes a synthetic catalogue of a given scale into the configured database."""

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from instcat.auth import SYSTEM
from instcat.catalogue.categories import CategoryService
from instcat.config import Settings
from instcat.db import Database
from instcat.devdata.base import SYNTHETIC_PREFIX
from instcat.devdata.catalogue import (
    ProductFacts,
    VendorPlan,
    assign_products,
    plan_vendor,
    product_rows,
    vendor_row,
)
from instcat.devdata.pipeline import Progress, write_evidence
from instcat.devdata.specs import CategoryInfo, model_from_examples, synthetic_category
from instcat.devdata.store import Store
from instcat.errors import GenerateError
from instcat.models import Category, Product, SpecDefinition
from instcat.seeding import seed as load_bundled

BUNDLED_CODES = ("nmr", "lc-ms", "hplc", "gc", "em", "sem", "tem", "xrd", "epr", "uv-vis", "aas")
PRODUCT_CHUNK = 10_000
MAX_SCALE = 20.0


@dataclass(frozen=True)
class Sizes:
    """How many records of each kind a scale means (scale 1: the issue's reference catalogue)."""

    categories: int
    vendors: int
    domestic_vendors: int
    products: int
    imported_products: int
    trials: int
    feedback: int

    @classmethod
    def for_scale(cls, scale: float) -> "Sizes":
        vendors = max(4, round(3_000 * scale))
        products = max(20, round(100_000 * scale))
        return cls(
            categories=max(len(BUNDLED_CODES) + 1, round(100 * scale)),
            vendors=vendors,
            domestic_vendors=min(vendors - 1, max(1, round(0.4 * vendors))),
            products=products,
            imported_products=max(1, round(0.25 * products)),
            trials=round(300_000 * scale),
            feedback=round(1_000_000 * scale),
        )


def _streams(seed: int) -> dict[str, random.Random]:
    # One stream per concern, so that changing one part does not reshuffle the others.
    names = ("categories", "vendors", "products", "plans", "trials")
    return {name: random.Random(f"instcat-{seed}-{name}") for name in names}


async def _ensure_bundled(db: Database, seed_dir: Path) -> None:
    async with db.read() as session:
        found = (
            await session.execute(select(func.count()).where(col(Category.code).in_(BUNDLED_CODES)))
        ).scalar_one()
        generated = (
            await session.execute(
                select(col(Category.id))
                .where(col(Category.code).like(f"{SYNTHETIC_PREFIX}%"))
                .limit(1)
            )
        ).first()
    if generated is not None:
        raise GenerateError(
            "this database already holds generated data; generate into a fresh database"
        )
    if found < len(BUNDLED_CODES):
        await load_bundled(db, seed_dir)


async def _categories(db: Database, count: int, r: random.Random) -> list[CategoryInfo]:
    """Create the synthetic categories, then describe every leaf category with specs."""
    service = CategoryService(db)
    models = {}
    for number in range(1, count - len(BUNDLED_CODES) + 1):
        data, spec_models = synthetic_category(r, number)
        await service.create(SYSTEM, data)
        models[data.code] = spec_models
    async with db.read() as session:
        query = select(Category).order_by(col(Category.id))
        categories = list((await session.execute(query)).scalars())
        specs = (
            await session.execute(
                select(SpecDefinition).order_by(
                    col(SpecDefinition.category_id), col(SpecDefinition.position)
                )
            )
        ).scalars()
        by_category: dict[int, list[SpecDefinition]] = {}
        for spec in specs:
            by_category.setdefault(spec.category_id, []).append(spec)
        examples: dict[int, list[dict[str, Any]]] = {}
        rows = await session.execute(
            select(col(Product.category_id), col(Product.specs)).order_by(col(Product.id))
        )
        for category_id, product_specs in rows:
            examples.setdefault(category_id, []).append(product_specs)
    parents = {c.parent_id for c in categories if c.parent_id is not None}
    result = []
    for category in categories:
        definitions = by_category.get(category.id or 0, [])
        if category.id in parents or not definitions:
            continue
        spec_models = models.get(category.code) or [
            model_from_examples(
                d.key,
                d.kind,
                d.direction,
                d.critical,
                [s[d.key] for s in examples.get(category.id or 0, []) if d.key in s],
            )
            for d in definitions
        ]
        synthetic = category.code.startswith(SYNTHETIC_PREFIX)
        result.append(
            CategoryInfo(
                id=category.id or 0,
                code=category.code,
                name_zh=category.name_zh,
                name_en=category.name_en,
                aliases=list(category.aliases),
                models=spec_models,
                weight=r.lognormvariate(0.0, 0.5) * (1.0 if synthetic else 2.0),
            )
        )
    return result


async def generate(
    db: Database,
    scale: float,
    seed: int,
    progress: Progress | None = None,
    *,
    seed_dir: Path | None = None,
    workers: int | None = None,
) -> dict[str, int]:
    """Write a synthetic catalogue (all records illustrative); returns counts of what was made.

    Scale 1 is about 100 categories, 3,000 vendors, 100,000 products, 300,000 trials and
    1,000,000 feedback entries; the same seed always gives the same data.
    """
    if not (0 < scale <= MAX_SCALE) or not math.isfinite(scale):
        raise GenerateError(f"scale must be above 0 and at most {MAX_SCALE:g}")
    report = progress or (lambda _stage, _done, _total: None)
    sizes = Sizes.for_scale(scale)
    streams = _streams(seed)
    await _ensure_bundled(db, seed_dir or Settings.model_fields["seed_dir"].default)
    report("categories", 0, sizes.categories)
    categories = await _categories(db, sizes.categories, streams["categories"])
    report("categories", sizes.categories, sizes.categories)
    store = Store(db)
    ids = await store.next_ids()
    counts = {"categories": sizes.categories - len(BUNDLED_CODES)}

    r = streams["vendors"]
    report("vendors", 0, sizes.vendors)
    vendors = [
        plan_vendor(r, ids["vendor"] + i, i + 1, domestic=i < sizes.domestic_vendors)
        for i in range(sizes.vendors)
    ]
    await store.write([("vendor", [vendor_row(r, v) for v in vendors])])
    counts["vendors"] = len(vendors)
    report("vendors", len(vendors), len(vendors))

    products = await _products(store, ids, sizes, vendors, categories, streams["products"], report)
    counts["products"] = len(products.ids)
    counts.update(
        await write_evidence(
            store, ids, sizes.trials, sizes.feedback, products, seed, streams, workers, report
        )
    )
    report("finishing", 0, 1)
    await store.finish()
    report("finishing", 1, 1)
    return counts


async def _products(
    store: Store,
    ids: dict[str, int],
    sizes: Sizes,
    vendors: list[VendorPlan],
    categories: list[CategoryInfo],
    r: random.Random,
    report: Progress,
) -> ProductFacts:
    domestic = [v for v in vendors if v.domestic]
    imported = [v for v in vendors if not v.domestic]
    slots = list(assign_products(r, imported, sizes.imported_products, categories))
    slots += assign_products(r, domestic, sizes.products - sizes.imported_products, categories)
    r.shuffle(slots)  # a catalogue grows over time: ids do not follow the vendor
    facts = ProductFacts()
    report("products", 0, len(slots))
    spec_id = ids["product_spec_value"]
    batch: list[dict[str, Any]] = []
    spec_batch: list[dict[str, Any]] = []
    for n, (vendor, category, sequence) in enumerate(slots):
        product_id = ids["product"] + n
        row, index, quality = product_rows(r, product_id, vendor, category, sequence)
        batch.append(row)
        for key, number, text in index:
            spec_batch.append(
                {
                    "id": spec_id,
                    "product_id": product_id,
                    "key": key,
                    "num_value": number,
                    "text_value": text,
                }
            )
            spec_id += 1
        facts.ids.append(product_id)
        facts.vendor.append(vendor.id)
        facts.category.append(category.id)
        facts.domestic.append(vendor.domestic)
        facts.quality.append(quality)
        if len(batch) == PRODUCT_CHUNK or n == len(slots) - 1:
            await store.write([("product", batch), ("product_spec_value", spec_batch)])
            batch, spec_batch = [], []
            report("products", n + 1, len(slots))
    return facts
