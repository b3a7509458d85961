"""Load the bundled data in `seed/`: safe to run again (existing records are left alone)."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from instcat.auth import SYSTEM
from instcat.catalogue.categories import CategoryService
from instcat.catalogue.products import ProductService
from instcat.catalogue.schemas import (
    CategoryCreate,
    MarketFigureCreate,
    ProductCreate,
    VendorCreate,
)
from instcat.catalogue.vendors import VendorService
from instcat.db import Database
from instcat.models import Category, MarketFigure, Product, Vendor


class SeedError(Exception):
    """The bundled data does not load: names the file and record."""


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
    vendors = VendorService(db)
    products = ProductService(db)

    pending = _read(directory, "categories.json")
    # Parents first: a category may only name a parent that exists.
    pending.sort(key=lambda c: c.get("parent") is not None)
    for record in pending:
        data = _validate(CategoryCreate, record, f"categories.json {record.get('code')}")
        if not await _exists(db, select(Category.id).where(Category.code == data.code)):
            await categories.create(SYSTEM, data)
            created["categories"] += 1

    for record in _read(directory, "market_figures.json"):
        data = _validate(MarketFigureCreate, record, f"market_figures.json {record.get('ref')}")
        if data.ref is None:
            raise SeedError(f"market_figures.json: every bundled figure needs a ref ({record})")
        if not await _exists(db, select(MarketFigure.id).where(MarketFigure.ref == data.ref)):
            await categories.create_figure(SYSTEM, data)
            created["market_figures"] += 1

    for record in _read(directory, "vendors.json"):
        data = _validate(VendorCreate, record, f"vendors.json {record.get('slug')}")
        if not await _exists(db, select(Vendor.id).where(Vendor.slug == data.slug)):
            await vendors.create(SYSTEM, data)
            created["vendors"] += 1

    for record in _read(directory, "products.json"):
        where = f"products.json {record.get('vendor')}/{record.get('model')}"
        data = _validate(ProductCreate, record, where)
        query = (
            select(Product.id)
            .join(Vendor, Vendor.id == Product.vendor_id)
            .where(Vendor.slug == data.vendor, Product.model == data.model)
        )
        if not await _exists(db, query):
            await products.create(SYSTEM, data)
            created["products"] += 1
    return created
