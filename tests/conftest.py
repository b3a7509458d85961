"""Test fixtures: every API test runs on SQLite and on PostgreSQL, from a clean database.

PostgreSQL comes from INSTCAT_TEST_POSTGRES_URL (scripts/test starts a throwaway server and
sets it). Without it the PostgreSQL half is skipped with a reason, unless
INSTCAT_REQUIRE_POSTGRES=1 (as in CI), where that is an error.
"""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from instcat.app import create_app
from instcat.auth import hash_token, new_token
from instcat.config import Settings, normalise_database_url
from instcat.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = REPO / "seed"
BACKENDS = ["sqlite", "postgresql"]


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def postgres_url() -> str:
    url = os.environ.get("INSTCAT_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("INSTCAT_REQUIRE_POSTGRES") == "1":
        pytest.fail("INSTCAT_REQUIRE_POSTGRES=1 but INSTCAT_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL half skipped: INSTCAT_TEST_POSTGRES_URL is not set")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database of each kind, made once per test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = postgres_url()
        asyncio.run(_reset_postgres(url))
    upgrade(url)
    return url


async def _truncate(url: str) -> None:
    engine = create_async_engine(normalise_database_url(url))
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            joined = ", ".join(f'"{t}"' for t in tables)
            await connection.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f'DELETE FROM "{table}"'))
    await engine.dispose()


@pytest.fixture
def clean_url(database_url: str) -> str:
    """The session's database, emptied for this test."""
    asyncio.run(_truncate(database_url))
    return database_url


@pytest.fixture
def settings(clean_url: str) -> Settings:
    # The write rate limit is off here (tests write fast); test_limits.py turns it on.
    return Settings(database_url=clean_url, seed_dir=SEED_DIR, write_rate_per_minute=0)


class Api:
    """A test client that speaks for one user at a time."""

    def __init__(self, client: TestClient, admin_token: str) -> None:
        self.client = client
        self.admin_token = admin_token

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return self.request("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return self.request("POST", path, token, **kwargs)

    def patch(self, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, token, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return self.request("DELETE", path, token, **kwargs)

    def user(self, role: str, vendor: str | None = None, name: str | None = None) -> str:
        """Create a user through the API and return its token."""
        body = {"name": name or f"{role} user", "role": role, "vendor": vendor}
        response = self.post("/users", self.admin_token, json=body)
        assert response.status_code == 201, response.text
        return response.json()["token"]


async def _insert_admin(url: str, token: str) -> None:
    engine = create_async_engine(normalise_database_url(url))
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO user_account (name, role, token_hash, created_at) "
                "VALUES ('test admin', 'admin', :h, CURRENT_TIMESTAMP)"
            ),
            {"h": hash_token(token)},
        )
    await engine.dispose()


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    """The app on a clean database, with an admin token ready."""
    token = new_token()
    asyncio.run(_insert_admin(settings.database_url, token))
    with TestClient(create_app(settings)) as client:
        yield Api(client, token)


Snapshot = list[tuple[str, list[dict[str, Any]]]]


async def _seed_and_snapshot(url: str) -> Snapshot:
    """Load the bundled data once through the real loader and keep every row."""
    from instcat.db import Database
    from instcat.seeding import seed

    db = Database.from_settings(Settings(database_url=url))
    try:
        await seed(db, SEED_DIR)
    finally:
        await db.dispose()
    engine = create_async_engine(normalise_database_url(url))
    snapshot: Snapshot = []
    async with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await connection.execute(table.select().order_by(*table.primary_key))).all()
            snapshot.append((table.name, [dict(row._mapping) for row in rows]))
    await engine.dispose()
    await _truncate(url)
    return snapshot


async def _restore(url: str, snapshot: Snapshot) -> None:
    engine = create_async_engine(normalise_database_url(url))
    async with engine.begin() as connection:
        for name, rows in snapshot:
            if rows:
                await connection.execute(SQLModel.metadata.tables[name].insert(), rows)
        if connection.dialect.name == "postgresql":
            for name, rows in snapshot:
                if rows and "id" in SQLModel.metadata.tables[name].c:
                    await connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                            f'(SELECT MAX(id) FROM "{name}"))'
                        )
                    )
    await engine.dispose()


@pytest.fixture(scope="session")
def seed_snapshot(database_url: str) -> Snapshot:
    """The bundled data as rows, made once per database kind by running the seed loader."""
    asyncio.run(_truncate(database_url))
    return asyncio.run(_seed_and_snapshot(database_url))


@pytest.fixture
def seeded(seed_snapshot: Snapshot, clean_url: str, api: Api) -> Api:
    """The app with the bundled data loaded (restored from the session's seed run)."""
    asyncio.run(_restore(clean_url, seed_snapshot))
    return api


@pytest.fixture
def sem_epr_catalogue(api: Api, settings: Settings, tmp_path: Path) -> dict[tuple[str, str], int]:
    """The bundled categories and vendors with only the SEM and EPR products (no trials or
    feedback), loaded through the real seed loader; returns (vendor, model) → product id."""
    import json
    import shutil

    from instcat.db import Database
    from instcat.seeding import seed

    for name in ("categories.json", "vendors.json"):
        shutil.copy(SEED_DIR / name, tmp_path / name)
    bundled = json.loads((SEED_DIR / "products.json").read_text(encoding="utf-8"))
    kept = [p for p in bundled if p["category"] in ("sem", "epr")]
    (tmp_path / "products.json").write_text(json.dumps(kept), encoding="utf-8")

    async def load() -> None:
        db = Database.from_settings(settings)
        try:
            await seed(db, tmp_path)
        finally:
            await db.dispose()

    asyncio.run(load())
    products = api.get("/products", params={"limit": 200}).json()["items"]
    return {(p["vendor"], p["model"]): p["id"] for p in products}
