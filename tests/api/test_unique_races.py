"""A unique key taken by another writer after the API looked for it is a 409, never a 500.

Each test holds an insert of the key open in a transaction of its own, sends the request,
and commits once the request waits (on PostgreSQL, on the unique index; on SQLite, for the
write lock): the request's check before its write found nothing, and only the index
decides. The live two-worker races are in test_live_races.py.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from instcat.config import normalise_database_url
from instcat.models import Category, MarketFigure, Product, Vendor

KEY = "raced"


def _sync_url(url: str) -> str:
    return normalise_database_url(url).replace("sqlite+aiosqlite:", "sqlite:", 1)


def _engine(url: str) -> Engine:
    sync = _sync_url(url)
    # The SQLite connection is committed from another thread than the one that opened it.
    args = {"check_same_thread": False} if sync.startswith("sqlite") else {}
    return create_engine(sync, connect_args=args)


def _someone_waits(connection: Connection) -> bool:
    """Whether another session waits for a lock (PostgreSQL); on SQLite the request waits
    for the write lock, which shows nowhere: give it a moment."""
    if connection.dialect.name != "postgresql":
        time.sleep(0.5)
        return True
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = connection.execute(query).scalar_one()
        connection.rollback()  # the activity view is read once per transaction
        if waiting:
            return True
        time.sleep(0.05)
    return False


@contextmanager
def held(url: str, make: Callable[[Session], Any]) -> Iterator[dict[str, bool]]:
    """Insert `make(session)`'s row in an open transaction and commit it from a thread once
    a request waits; yields where the caller sends its request."""
    engine = _engine(url)
    seen = {"waited": False}
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            session = Session(bind=holder)
            session.add(make(session))
            session.flush()

            def commit_when_waited() -> None:
                seen["waited"] = _someone_waits(watcher)
                session.commit()

            committer = threading.Thread(target=commit_when_waited)
            committer.start()
            try:
                yield seen
            finally:
                committer.join(timeout=30)
    finally:
        engine.dispose()


def _count(url: str, column: Any, value: Any) -> int:
    engine = _engine(url)
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
