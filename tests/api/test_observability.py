"""Every answer carries X-Request-ID and gets one access-log line with the status really sent,
including answers made outside a route's own handling (routing, token check, rate limit)."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from litestar.testing import TestClient

from instcat.app import create_app
from tests.conftest import Api


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _listening() -> Iterator[list[str]]:
    # The access log does not propagate (it has its own batched handler), so listen on it.
    # Starting an app sets logging up afresh: listen only once the app under test runs.
    logger = logging.getLogger("instcat.access")
    listener = _Lines()
    logger.addHandler(listener)
    try:
        yield listener.lines
    finally:
        logger.removeHandler(listener)


@pytest.fixture
def access_lines(api: Api) -> Iterator[list[str]]:
    with _listening() as lines:
        yield lines


def _logged(lines: list[str], request_id: str) -> list[dict]:
    return [entry for entry in map(json.loads, lines) if entry["request_id"] == request_id]


def _assert_traced(response, lines: list[str], request_id: str, status: int, path: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"] == request_id
    mine = _logged(lines, request_id)
    assert len(mine) == 1, mine
    assert mine[0]["status"] == status
    assert mine[0]["path"] == path


CASES = [
    # (method, path, token, status)
    ("GET", "/api/v1/categories", "ic_not_a_real_token", 401),
    ("GET", "/api/v1/categories", "Basic abc", 401),
    ("PUT", "/api/v1/categories", None, 405),
    ("DELETE", "/api/v1/vendors/hanon", None, 405),
    ("GET", "/api/v1/no-such-route", None, 404),
    ("GET", "/nowhere", None, 404),
    ("GET", "/api/v1/vendors/nobody", None, 404),
    ("GET", "/api/v1/vendors/hanon%0A", None, 400),
    ("POST", "/api/v1/users", None, 401),
    ("GET", "/healthz", None, 200),
]


@pytest.mark.parametrize(("method", "path", "token", "status"), CASES)
def test_every_answer_has_a_request_id_and_a_log_line_with_its_status(
    api: Api, access_lines, method, path, token, status
) -> None:
    request_id = f"trace-{status}-{len(path)}"
    headers = {"X-Request-ID": request_id}
    if token:
        headers["Authorization"] = token if " " in token else f"Bearer {token}"
    response = api.client.request(method, path, headers=headers)
    logged_path = path.replace("%0A", "\n")
    _assert_traced(response, access_lines, request_id, status, logged_path)


def test_a_415_has_a_request_id_and_is_logged(api: Api, access_lines) -> None:
    headers = {"X-Request-ID": "media-1", "Content-Type": "text/plain"}
    response = api.post("/users", api.admin_token, content=b"{}", headers=headers)
    _assert_traced(response, access_lines, "media-1", 415, "/api/v1/users")


def test_a_429_has_a_request_id_and_is_logged(api: Api, settings) -> None:
    purchaser = api.user("purchaser")
    limited = settings.model_copy(update={"write_rate_per_minute": 1, "write_burst": 1})
    with TestClient(create_app(limited)) as client, _listening() as access_lines:
        responses = [
            client.post(
                "/api/v1/products/999/feedback",
                headers={"Authorization": f"Bearer {purchaser}", "X-Request-ID": f"rate-{n}"},
                json={},
            )
            for n in range(2)
        ]
    assert [r.status_code for r in responses] == [400, 429]
    _assert_traced(responses[1], access_lines, "rate-1", 429, "/api/v1/products/999/feedback")
    assert _logged(access_lines, "rate-1")[0]["actor"] is not None


def test_the_signed_in_user_is_still_in_the_log_line(api: Api, access_lines) -> None:
    response = api.get("/audit", api.admin_token, headers={"X-Request-ID": "actor-1"})
    _assert_traced(response, access_lines, "actor-1", 200, "/api/v1/audit")
    assert isinstance(_logged(access_lines, "actor-1")[0]["actor"], int)


def test_a_500_is_logged_as_a_500_with_the_request_id(api: Api, access_lines, monkeypatch):
    from instcat.catalogue.categories import CategoryService

    async def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(CategoryService, "list_categories", broken)
    response = api.get("/categories", headers={"X-Request-ID": "boom-2"})
    _assert_traced(response, access_lines, "boom-2", 500, "/api/v1/categories")
