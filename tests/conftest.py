"""Test fixtures: every API test runs on SQLite and on PostgreSQL, from a clean database.

PostgreSQL comes from INSTCAT_TEST_POSTGRES_URL (scripts/test starts a throwaway server and
sets it). Without it the PostgreSQL half is skipped with a reason, unless
INSTCAT_REQUIRE_POSTGRES=1 (as in CI), where that is an error. `--db sqlite` or
`--db postgresql` keeps only that half (scripts/test --fast uses it).

Set-up is shared, not repeated: each database kind gets template databases made once per
session (migrated and empty; with the bundled seed loaded; with the SEM and EPR catalogue),
and every test starts from a fresh copy of one of them (a file copy on SQLite, `CREATE
DATABASE … TEMPLATE` on PostgreSQL). The copy always lives at the same URL, so an app
built for one test's settings can serve the next test's with a new lifespan.
"""

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from instcat.app import create_app
from instcat.auth import hash_token, new_token
from instcat.config import Settings, normalise_database_url
from tests.templates import (
    SEED_DIR,
    PostgresTemplates,
    SqliteTemplates,
    Templates,
)

BACKENDS = ["sqlite", "postgresql"]
# Fixtures whose database starts with content; a test asking for one gets that template.
CONTENT_FIXTURES = ("seeded", "sem_epr_catalogue", "generated")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=BACKENDS,
        default=None,
        help="run the database-parametrised tests on this database kind only",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --db, deselect the other database kind's parametrisations."""
    chosen = config.getoption("--db")
    if chosen is None:
        return
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        kinds = {params[name] for name in ("database_url", "empty_url") if name in params}
        (dropped if kinds - {chosen} else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def postgres_url() -> str:
    url = os.environ.get("INSTCAT_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("INSTCAT_REQUIRE_POSTGRES") == "1":
        pytest.fail("INSTCAT_REQUIRE_POSTGRES=1 but INSTCAT_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL half skipped: INSTCAT_TEST_POSTGRES_URL is not set")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of each database kind's test database (made afresh for every test)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_templates").url
    return postgres_url()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    """The session's SQLite templates (also for SQLite-only tests with files of their own)."""
    workdir = tmp_path_factory.mktemp("sqlite-templates")
    return SqliteTemplates(f"sqlite:///{workdir / 'test.db'}", workdir)


@pytest.fixture(scope="session")
def templates(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Templates]:
    """The session's templates of this database kind."""
    if database_url.startswith("sqlite"):
        yield request.getfixturevalue("sqlite_templates")
        return
    made = PostgresTemplates(database_url, tmp_path_factory.mktemp("pg-templates"))
    yield made
    made.close()


@pytest.fixture
def clean_url(request: pytest.FixtureRequest, templates: Templates) -> str:
    """A fresh copy of the migrated template: empty, or with the content the test asks for
    (`seeded`, `sem_epr_catalogue`, `generated`), loaded once per session by the real loader
    or generator."""
    wanted = [name for name in CONTENT_FIXTURES if name in request.fixturenames]
    assert len(wanted) <= 1, f"a test can start from one template, not {wanted}"
    return templates.fresh(wanted[0] if wanted else "empty")


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


_APPS: dict[str, Litestar] = {}


def app_for(settings: Settings) -> Litestar:
    """The app for these settings, built once and reused: building it is most of an API
    test's set-up. Each use gets its own lifespan, so its own Database, pools and caches; the
    app object keeps no state between tests unless the write rate limit is on (its
    middleware counts requests), and then it is built afresh."""
    key = settings.model_dump_json()
    if key not in _APPS or settings.write_rate_per_minute > 0:
        _APPS[key] = create_app(settings)
    return _APPS[key]


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    """The app on a clean database, with an admin token ready."""
    token = new_token()
    asyncio.run(_insert_admin(settings.database_url, token))
    with TestClient(app_for(settings)) as client:
        yield Api(client, token)


@pytest.fixture
def seeded(clean_url: str, api: Api) -> Api:
    """The app with the bundled data loaded (`clean_url` copies the session's seeded template,
    made once by the real seed loader)."""
    return api


@pytest.fixture
def sem_epr_catalogue(clean_url: str, api: Api) -> dict[tuple[str, str], int]:
    """The bundled categories and vendors with only the SEM and EPR products (no trials or
    feedback), loaded once per session through the real seed loader and copied for this test;
    returns (vendor, model) → product id."""
    products = api.get("/products", params={"limit": 200}).json()["items"]
    return {(p["vendor"], p["model"]): p["id"] for p in products}


@pytest.fixture
def generated(clean_url: str) -> str:
    """A database holding the development data generator's catalogue (GENERATED_SCALE,
    GENERATED_SEED), generated once per session and copied for this test; its URL."""
    return clean_url
