"""Fixtures of the fuzzing tests, and the figures printed at the end of the run."""

import asyncio
import sys
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from instcat.app import create_app
from instcat.auth import new_token
from instcat.config import Settings
from tests.conftest import Api, _insert_admin

_CLIENT_APPS: dict[str, Litestar] = {}


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    """The suite's `api` fixture, with the app built once per database instead of once per
    test: there are 370 fuzzing tests, and building the app is most of a test's setup. The
    app keeps no state between tests (unless the write rate limit is on: then it is built
    afresh), and each test still gets its own lifespan, engine and client."""
    key = settings.model_dump_json()
    if key not in _CLIENT_APPS or settings.write_rate_per_minute > 0:
        _CLIENT_APPS[key] = create_app(settings)
    token = new_token()
    asyncio.run(_insert_admin(settings.database_url, token))
    with TestClient(_CLIENT_APPS[key]) as client:
        yield Api(client, token)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("tests.fuzz.test_schemathesis")
    for kind, counts in sorted(getattr(module, "STATS", {}).items()):
        terminalreporter.write_line(
            f"fuzz ({kind}): {counts['requests']} requests, {counts['5xx']} answered 5xx"
        )
