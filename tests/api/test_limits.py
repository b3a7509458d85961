"""Abuse limits: write rate per token, body size, request ids in responses and logs."""

import json
import logging

from litestar.testing import TestClient

from instcat.app import create_app
from tests.conftest import Api


def _limited_api(api: Api, settings, per_minute: int, burst: int) -> TestClient:
    limited = settings.model_copy(
        update={"write_rate_per_minute": per_minute, "write_burst": burst}
    )
    return TestClient(create_app(limited))


def test_writes_over_the_rate_get_429_with_retry_after(api: Api, settings) -> None:
    purchaser = api.user("purchaser")
    with _limited_api(api, settings, per_minute=6, burst=3) as client:
        headers = {"Authorization": f"Bearer {purchaser}"}
        statuses = [
            client.post("/api/v1/products/999/feedback", headers=headers, json={}).status_code
            for _ in range(5)
        ]
        assert statuses[:3] == [400, 400, 400]
        assert statuses[3:] == [429, 429]
        limited = client.post("/api/v1/products/999/feedback", headers=headers, json={})
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["title"] == "Too many requests"
        # Reads are not limited, and other users have their own budget.
        assert client.get("/api/v1/categories", headers=headers).status_code == 200
        other = {"Authorization": f"Bearer {api.user('purchaser', name='other buyer')}"}
        assert (
            client.post("/api/v1/products/999/feedback", headers=other, json={}).status_code == 400
        )


def test_an_oversized_body_is_a_413_problem(api: Api) -> None:
    body = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = api.post(
        "/users", api.admin_token, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(api: Api) -> None:
    generated = api.get("/categories")
    assert len(generated.headers["x-request-id"]) == 16
    kept = api.get("/categories", headers={"X-Request-ID": "trace-42"})
    assert kept.headers["x-request-id"] == "trace-42"
    replaced = api.get("/categories", headers={"X-Request-ID": "bad id with spaces"})
    assert replaced.headers["x-request-id"] != "bad id with spaces"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_each_request_is_logged_as_one_json_line(api: Api) -> None:
    # The access log does not propagate (it has its own batched handler), so listen on it.
    logger = logging.getLogger("instcat.access")
    listener = _Lines()
    logger.addHandler(listener)
    try:
        api.get("/vendors", headers={"X-Request-ID": "log-check-1"})
    finally:
        logger.removeHandler(listener)
    entries = [json.loads(line) for line in listener.lines]
    mine = [entry for entry in entries if entry["request_id"] == "log-check-1"]
    assert len(mine) == 1
    assert mine[0]["status"] == 200
    assert mine[0]["method"] == "GET"
    assert mine[0]["path"] == "/api/v1/vendors"
    assert mine[0]["ms"] >= 0
    assert mine[0]["time"].endswith("+00:00")


def test_missing_unknown_and_revoked_tokens_get_the_same_401_shape(api: Api) -> None:
    token = api.user("purchaser")
    user_id = api.get("/audit", api.admin_token, params={"entity": "user"}).json()["items"][0][
        "entity_id"
    ]
    assert api.post(f"/users/{user_id}/revoke", api.admin_token).status_code == 204
    responses = [
        api.post("/users", None, json={}),
        api.post("/users", "ic_unknown", json={}),
        api.post("/users", token, json={}),
        api.get("/categories", token),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert set(response.json()) == {"type", "title", "status", "detail"}
        assert response.json()["title"] == "Unauthorized"


def test_a_server_error_is_logged_with_its_traceback_but_never_shown(
    api: Api, caplog, monkeypatch
) -> None:
    from instcat.catalogue.categories import CategoryService

    async def broken(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(CategoryService, "list_categories", broken)
    with caplog.at_level(logging.ERROR, logger="instcat.errors"):
        response = api.get("/categories", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "instcat.errors"]
    assert logged and logged[0].exc_info is not None
    assert "boom-1" in logged[0].getMessage()
