"""Load the bundled data in `seed/`: safe to run again (existing records are left alone)."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from instcat.auth import SYSTEM
from instcat.catalogue.categories import CategoryService
from instcat.catalogue.market import MarketFigureService
from instcat.catalogue.market_schemas import MarketFigureCreate
from instcat.catalogue.products import ProductService
from instcat.catalogue.schemas import CategoryCreate, ProductCreate, VendorCreate
from instcat.catalogue.vendors import VendorService
from instcat.db import Database
from instcat.errors import SeedError
from instcat.feedback.schemas import FeedbackCreate, ModerationIn
from instcat.feedback.service import FeedbackService
from instcat.models import Category, Feedback, MarketFigure, Product, Trial, Vendor
from instcat.trials.schemas import ReviewIn, TrialCreate
from instcat.trials.service import TrialService


def _read(directory: Path, name: str) -> list[dict[str, Any]]:
    path = directory / name
    if not path.exists():
        return []
    records = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(records, list):
        raise SeedError(f"{path}: expected a JSON list")
    return records


def _validate(model: type[Any], record: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(record)
    except ValidationError as error:
        raise SeedError(f"{where}: {error}") from error


async def _exists(db: Database, query: Any) -> bool:
    async with db.read() as session:
        return (await session.execute(query)).first() is not None


async def seed(db: Database, directory: Path) -> Counter[str]:
    """Create every bundled record that is not there yet; returns counts of what was created."""
    created: Counter[str] = Counter()
    categories = CategoryService(db)
    figures = MarketFigureService(db)
    vendors = VendorService(db)
    products = ProductService(db)

    pending = _read(directory, "categories.json")
    # Parents first: a category may only name a parent that exists.
    pending.sort(key=lambda c: c.get("parent") is not None)
    for record in pending:
        data = _validate(CategoryCreate, record, f"categories.json {record.get('code')}")
        if not await _exists(db, select(col(Category.id)).where(col(Category.code) == data.code)):
            await categories.create(SYSTEM, data)
            created["categories"] += 1

    for record in _read(directory, "market_figures.json"):
        data = _validate(MarketFigureCreate, record, f"market_figures.json {record.get('ref')}")
        if data.ref is None:
            raise SeedError(f"market_figures.json: every bundled figure needs a ref ({record})")
        if not await _exists(
            db, select(col(MarketFigure.id)).where(col(MarketFigure.ref) == data.ref)
        ):
            await figures.create_figure(SYSTEM, data)
            created["market_figures"] += 1

    for record in _read(directory, "vendors.json"):
        data = _validate(VendorCreate, record, f"vendors.json {record.get('slug')}")
        if not await _exists(db, select(col(Vendor.id)).where(col(Vendor.slug) == data.slug)):
            await vendors.create(SYSTEM, data)
            created["vendors"] += 1

    for record in _read(directory, "products.json"):
        where = f"products.json {record.get('vendor')}/{record.get('model')}"
        data = _validate(ProductCreate, record, where)
        query = (
            select(col(Product.id))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(Vendor.slug) == data.vendor, col(Product.model) == data.model)
        )
        if not await _exists(db, query):
            await products.create(SYSTEM, data)
            created["products"] += 1

    created["trials"] += await _seed_trials(db, _read(directory, "trials.json"))
    created["feedback"] += await _seed_feedback(db, _read(directory, "feedback.json"))
    return +created


async def _product_id(db: Database, ref: dict[str, str], where: str) -> int:
    query = (
        select(col(Product.id))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(Vendor.slug) == ref.get("vendor"), col(Product.model) == ref.get("model"))
    )
    async with db.read() as session:
        found = (await session.execute(query)).scalar()
    if found is None:
        raise SeedError(f"{where}: no product {ref}")
    return found


async def _seed_trials(db: Database, records: list[dict[str, Any]]) -> int:
    """Trials go through the real workflow: create, submit, review (as the system admin)."""
    trials = TrialService(db)
    created = 0
    for number, record in enumerate(records, 1):
        where = f"trials.json #{number}"
        body = {k: v for k, v in record.items() if k not in ("product", "reference", "workflow")}
        body["product_id"] = await _product_id(db, record["product"], where)
        if record.get("reference"):
            body["reference_product_id"] = await _product_id(db, record["reference"], where)
        data = _validate(TrialCreate, body, where)
        query = select(col(Trial.id)).where(
            col(Trial.product_id) == data.product_id,
            col(Trial.site_institution) == data.site.institution,
            col(Trial.started_on) == data.started_on,
        )
        if await _exists(db, query):
            continue
        outcome = await trials.create(SYSTEM, data, None)
        trial_id = outcome.body["id"]
        for step in record.get("workflow", []):
            if step == "submit":
                await trials.submit(SYSTEM, trial_id, None)
            else:
                await trials.review(SYSTEM, trial_id, _validate(ReviewIn, step, where), None)
        created += 1
    return created


async def _seed_feedback(db: Database, records: list[dict[str, Any]]) -> int:
    feedback = FeedbackService(db)
    created = 0
    for number, record in enumerate(records, 1):
        where = f"feedback.json #{number}"
        product_id = await _product_id(db, record["product"], where)
        body = {k: v for k, v in record.items() if k not in ("product", "status")}
        data = _validate(FeedbackCreate, body, where)
        query = select(col(Feedback.id)).where(
            col(Feedback.product_id) == product_id, col(Feedback.text) == data.text
        )
        if await _exists(db, query):
            continue
        outcome = await feedback.create(SYSTEM, product_id, data, None)
        if record.get("status", "pending") != "pending":
            published = record["status"] == "published"
            decision = ModerationIn(decision="publish" if published else "reject")
            await feedback.moderate(SYSTEM, outcome.body["id"], decision)
        created += 1
    return created
