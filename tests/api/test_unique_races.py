"""A unique key taken by another writer after the API looked for it is a 409, never a 500.

Each test holds an insert of the key open in a transaction of its own, sends the request,
and commits once the request waits (on PostgreSQL, on the unique index; on SQLite, for the
write lock): the request's check before its write found nothing, and only the index
decides. The live two-worker races are in test_live_races.py.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from instcat.models import Category, MarketFigure, Product, Vendor
from tests.api.held import holding, sync_engine

KEY = "raced"


def held(url: str, make: Callable[[Session], Any]) -> AbstractContextManager[dict[str, bool]]:
    """Insert `make(session)`'s row in an open transaction, committed once a request waits."""
    return holding(url, lambda session: session.add(make(session)))


def _count(url: str, column: Any, value: Any) -> int:
    engine = sync_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(column.table).where(column == value)
            ).scalar_one()
    finally:
        engine.dispose()


def _hanon_hplc(session: Session) -> tuple[int, int]:
    vendor_id = session.execute(select(col(Vendor.id)).where(col(Vendor.slug) == "hanon"))
    category_id = session.execute(select(col(Category.id)).where(col(Category.code) == "hplc"))
    return vendor_id.scalar_one(), category_id.scalar_one()


def _product(session: Session) -> Product:
    vendor_id, category_id = _hanon_hplc(session)
    return Product(vendor_id=vendor_id, category_id=category_id, model=KEY, name="x", made_in="CN")


CASES = {
    "vendor": (
        lambda s: Vendor(slug=KEY, name_zh="竞", name_en="Raced", country="CN"),
        "/vendors",
        {"slug": KEY, "name_zh": "竞争", "name_en": "Raced Co", "country": "CN"},
        Vendor.slug,
    ),
    "category": (
        lambda s: Category(code=KEY, name_zh="竞", name_en="Raced"),
        "/categories",
        {"code": KEY, "name_zh": "竞争", "name_en": "Raced"},
        Category.code,
    ),
    "market_figure": (
        lambda s: MarketFigure(
            ref=KEY,
            scope="x",
            year=2024,
            metric="m",
            value=1,
            unit="%",
            source_publication="p",
            source_title="t",
        ),
        "/market-figures",
        {
            "ref": KEY,
            "scope": "China",
            "year": 2024,
            "metric": "units",
            "value": 3.0,
            "unit": "k",
            "source": {"publication": "p", "title": "t"},
        },
        MarketFigure.ref,
    ),
    "product": (
        _product,
        "/products",
        {"vendor": "hanon", "category": "hplc", "model": KEY, "name": "LC", "made_in": "CN"},
        Product.model,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_create_whose_key_is_taken_meanwhile_is_a_409(seeded, settings, case):
    make, path, body, column = CASES[case]
    with held(settings.database_url, make) as seen:
        response = seeded.post(path, seeded.admin_token, json=body)

    assert seen["waited"], "the request never waited for the held row"
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _count(settings.database_url, column, KEY) == 1


def test_a_rename_to_a_model_taken_meanwhile_is_a_409(seeded, settings):
    hanon = seeded.get("/products", params={"vendor": "hanon", "limit": 1}).json()["items"][0]
    before = seeded.get(f"/products/{hanon['id']}").json()

    with held(settings.database_url, _product) as seen:
        response = seeded.patch(f"/products/{hanon['id']}", seeded.admin_token, json={"model": KEY})

    assert seen["waited"], "the request never waited for the held row"
    assert response.status_code == 409, response.text
    assert seeded.get(f"/products/{hanon['id']}").json() == before
    assert _count(settings.database_url, Product.model, KEY) == 1
