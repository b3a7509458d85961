"""Races against the real server with two worker processes, on both databases.

Many clients fire the same write at once; exactly one may win and nothing may be lost
or doubled. Each race is repeated for several rounds.
"""

import asyncio
import sys
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Api
from tests.live import serving

# Slow tier (starts uvicorn with worker processes): left out of scripts/test --fast.
pytestmark = pytest.mark.slow

ROUNDS = 8
CLIENTS = 12


@pytest.fixture
def server(seeded: Api, settings) -> Iterator[str]:
    """uvicorn with 2 workers on the test database; yields the API base URL."""
    command = [sys.executable, "-m", "uvicorn", "instcat.app:create_app", "--factory",
               "--workers", "2", "--host", "127.0.0.1", "--port", "{port}",
               "--log-level", "warning"]  # fmt: skip
    with serving(command, settings.database_url) as base:
        yield base + "/api/v1"


async def _storm(requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30) as client:
        return await asyncio.gather(
            *(client.request(method, url, **kwargs) for method, url, kwargs in requests)
        )


def _decision(number: int) -> dict[str, str]:
    return {"decision": "accept", "comment": f"decision {number}"}


def _auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def test_same_etag_patch_storm_has_exactly_one_winner(seeded: Api, server: str) -> None:
    vendor = seeded.user("vendor", vendor="hanon")
    for round_number in range(ROUNDS):
        current = httpx.get(f"{server}/vendors/hanon")
        etag = current.headers["etag"]
        headers = _auth(vendor, **{"If-Match": etag})
        storm = [
            ("PATCH", f"{server}/vendors/hanon",
             {"headers": headers, "json": {"city": f"r{round_number}c{i}"}})
            for i in range(CLIENTS)
        ]  # fmt: skip
        statuses = Counter(r.status_code for r in asyncio.run(_storm(storm)))
        assert statuses == Counter({200: 1, 412: CLIENTS - 1}), statuses
        after = httpx.get(f"{server}/vendors/hanon")
        assert after.headers["etag"] != etag
        assert after.json()["city"].startswith(f"r{round_number}c")


def test_concurrent_reviews_of_one_trial_have_one_winner(seeded: Api, server: str) -> None:
    vendor = seeded.user("vendor", vendor="fuli")
    reviewers = [seeded.user("reviewer", name=f"reviewer {i}") for i in range(4)]
    product = seeded.get("/products", params={"vendor": "fuli", "category": "hplc"}).json()
    product_id = product["items"][0]["id"]
    body = {
        "product_id": product_id,
        "site": {"institution": "Race lab"},
        "started_on": "2026-01-01",
        "ended_on": "2026-02-01",
        "checks": [{"metric": "m", "candidate": 1, "criterion": {"op": "le", "value": 2}}],
    }
    for _ in range(ROUNDS):
        trial = seeded.post("/trials", vendor, json=body).json()
        assert seeded.post(f"/trials/{trial['id']}/submit", vendor).status_code == 200
        url = f"{server}/trials/{trial['id']}/review"
        storm = [
            ("POST", url, {"headers": _auth(reviewers[i % 4]), "json": _decision(i)})
            for i in range(CLIENTS)
        ]
        statuses = Counter(r.status_code for r in asyncio.run(_storm(storm)))
        assert statuses == Counter({200: 1, 409: CLIENTS - 1}), statuses
        reviews = seeded.get(f"/trials/{trial['id']}", reviewers[0]).json()["reviews"]
        assert len(reviews) == 1


def test_concurrent_publish_makes_one_publication_and_one_audit_record(
    seeded: Api, server: str
) -> None:
    reviewer = seeded.user("reviewer")
    for round_number in range(ROUNDS):
        body = {"label": f"race {round_number}", "categories": ["hplc"]}
        created = seeded.post("/substitution-lists", reviewer, json=body)
        assert created.status_code == 201, created.text
        list_id = created.json()["id"]
        storm = [
            ("POST", f"{server}/substitution-lists/{list_id}/publish", {"headers": _auth(reviewer)})
            for _ in range(CLIENTS)
        ]
        statuses = Counter(r.status_code for r in asyncio.run(_storm(storm)))
        assert statuses == Counter({200: 1, 409: CLIENTS - 1}), statuses
        audit = seeded.get(
            "/audit", reviewer, params={"entity": "substitution_list", "entity_id": list_id}
        ).json()["items"]
        assert [a["action"] for a in audit].count("publish") == 1


def test_concurrent_idempotent_retries_create_one_row(seeded: Api, server: str) -> None:
    purchaser = seeded.user("purchaser")
    products = seeded.get("/products", params={"limit": ROUNDS}).json()["items"]
    body = {
        "ratings": {d: 4 for d in ("performance", "stability", "usability", "service", "value")}
    }
    for round_number, product in enumerate(products):
        url = f"{server}/products/{product['id']}/feedback"
        key = f"retry-{round_number}"
        storm = [
            ("POST", url, {"headers": _auth(purchaser, **{"Idempotency-Key": key}), "json": body})
            for _ in range(CLIENTS)
        ]
        responses = asyncio.run(_storm(storm))
        statuses = Counter(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, statuses
        ids = {r.json()["id"] for r in responses if r.status_code == 201}
        assert len(ids) == 1
        mine = seeded.get(
            f"/products/{product['id']}/feedback", seeded.admin_token, params={"status": "pending"}
        ).json()
        assert mine["total"] == 1


# --- creates racing for one unique key --------------------------------------------------------

CREATE_ROUNDS = 3
CREATORS = 20


def _figure(key: str) -> dict:
    source = {"publication": "Race report", "title": "Units sold"}
    return {"ref": key, "scope": "China", "year": 2024, "metric": "units", "value": 3.0,
            "unit": "k", "source": source}  # fmt: skip


CREATES = {
    "vendor": ("/vendors", lambda key: {"slug": key, "name_zh": "竞争", "name_en": key,
                                        "country": "CN"}),
    "category": ("/categories", lambda key: {"code": key, "name_zh": "竞争", "name_en": key}),
    "market_figure": ("/market-figures", _figure),
    "product": ("/products", lambda key: {"vendor": "hanon", "category": "hplc", "model": key,
                                          "name": "Raced LC", "made_in": "CN"}),
}  # fmt: skip


@pytest.mark.parametrize("case", CREATES)
def test_concurrent_creates_of_one_key_have_exactly_one_winner(
    seeded: Api, server: str, case: str
) -> None:
    """The unique index decides: one 201, every other request a 409, never a 500."""
    path, body = CREATES[case]
    token = seeded.user("vendor", vendor="hanon") if case == "product" else seeded.admin_token
    for round_number in range(CREATE_ROUNDS):
        key = f"race-{round_number}"
        storm = [
            ("POST", f"{server}{path}", {"headers": _auth(token), "json": body(key)})
            for _ in range(CREATORS)
        ]
        responses = asyncio.run(_storm(storm))
        statuses = Counter(r.status_code for r in responses)
        assert statuses == Counter({201: 1, 409: CREATORS - 1}), statuses
        assert all(
            r.headers["content-type"].startswith("application/problem+json")
            for r in responses
            if r.status_code == 409
        )


def test_concurrent_renames_to_one_model_have_exactly_one_winner(seeded: Api, server: str) -> None:
    vendor = seeded.user("vendor", vendor="hanon")
    for round_number in range(CREATE_ROUNDS):
        ids = []
        for i in range(CREATORS):
            body = {"vendor": "hanon", "category": "hplc", "model": f"r{round_number}-{i}",
                    "name": "Raced LC", "made_in": "CN"}  # fmt: skip
            created = seeded.post("/products", vendor, json=body)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        model = {"model": f"renamed-{round_number}"}
        storm = [
            ("PATCH", f"{server}/products/{i}", {"headers": _auth(vendor), "json": model})
            for i in ids
        ]
        statuses = Counter(r.status_code for r in asyncio.run(_storm(storm)))
        assert statuses == Counter({200: 1, 409: CREATORS - 1}), statuses
        found = seeded.get("/products", params={"vendor": "hanon", "q": model["model"]}).json()
        assert [p["model"] for p in found["items"]] == [model["model"]]


# --- writes that must wait for each other ----------------------------------------------------

STORM = 20
PAIRS = 5
HPLC_NUMBERS = ["max_pressure_bar", "flow_rate_max_ml_min", "flow_precision_rsd_pct",
                "autosampler_capacity_vials", "solvent_channels"]  # fmt: skip


def test_concurrent_amends_of_one_trial_make_one_draft(seeded: Api, server: str) -> None:
    vendor = seeded.user("vendor", vendor="fuli")
    reviewer = seeded.user("reviewer")
    product = seeded.get("/products", params={"vendor": "fuli", "category": "hplc"}).json()
    body = {
        "product_id": product["items"][0]["id"],
        "site": {"institution": "Race lab"},
        "started_on": "2026-01-01",
        "ended_on": "2026-02-01",
        "checks": [{"metric": "m", "candidate": 1, "criterion": {"op": "le", "value": 2}}],
    }
    for round_number in range(CREATE_ROUNDS):
        trial_id = seeded.post("/trials", vendor, json=body).json()["id"]
        assert seeded.post(f"/trials/{trial_id}/submit", vendor).status_code == 200
        decided = seeded.post(f"/trials/{trial_id}/review", reviewer, json=_decision(round_number))
        assert decided.status_code == 200, decided.text
        url = f"{server}/trials/{trial_id}/amend"
        storm = [("POST", url, {"headers": _auth(vendor)}) for _ in range(STORM)]
        statuses = Counter(r.status_code for r in asyncio.run(_storm(storm)))
        assert statuses == Counter({201: 1, 409: STORM - 1}), statuses
        drafts = seeded.get("/trials", vendor, params={"status": "draft", "limit": 200}).json()
        assert [t["previous_id"] for t in drafts["items"]].count(trial_id) == 1


def _product_edit(round_number: int, i: int) -> dict:
    """A different field or spec key for each of the STORM requests (five of each kind)."""
    kind, n = divmod(i, 5)
    if kind == 0:
        return {"specs": {HPLC_NUMBERS[n]: 1000 + 100 * round_number + n}}
    if kind == 1:
        return {"price_band": f"band r{round_number} {n}"}
    if kind == 2:
        return {"launch_year": 2000 + 10 * round_number + n}
    return {"name": f"Raced LC r{round_number} {n}"}


def test_concurrent_product_patches_without_if_match_all_apply(seeded: Api, server: str) -> None:
    vendor = seeded.user("vendor", vendor="hanon")
    product_id = seeded.get("/products", params={"vendor": "hanon", "category": "hplc"}).json()[
        "items"
    ][0]["id"]
    url = f"{server}/products/{product_id}"
    for round_number in range(CREATE_ROUNDS):
        before = httpx.get(url).json()
        edits = [_product_edit(round_number, i) for i in range(STORM)]
        storm = [("PATCH", url, {"headers": _auth(vendor), "json": edit}) for edit in edits]
        statuses = Counter(r.status_code for r in asyncio.run(_storm(storm)))
        assert statuses == Counter({200: STORM}), statuses
        after = httpx.get(url)
        stored = after.json()
        assert stored["version"] == before["version"] + STORM
        assert after.headers["etag"] == f'"{stored["version"]}"'
        # Every spec key sent is kept (none lost to another request's merge) ...
        for edit in edits[:5]:
            assert {k: stored["specs"][k] for k in edit["specs"]} == edit["specs"]
        # ... and each field holds one of the values sent for it.
        for field in ("price_band", "launch_year", "name"):
            assert stored[field] in {e[field] for e in edits if field in e}, field


def test_concurrent_vendor_patches_without_if_match_all_apply(seeded: Api, server: str) -> None:
    vendor = seeded.user("vendor", vendor="hanon")
    url = f"{server}/vendors/hanon"
    for round_number in range(CREATE_ROUNDS):
        before = httpx.get(url).json()
        edits = [
            [{"city": f"City r{round_number} {i}"},
             {"website": f"https://r{round_number}-{i}.example.cn"},
             {"description": f"Raced r{round_number} {i}"},
             {"founded_year": 1950 + 10 * round_number + i}][i % 4]
            for i in range(STORM)
        ]  # fmt: skip
        storm = [("PATCH", url, {"headers": _auth(vendor), "json": edit}) for edit in edits]
        statuses = Counter(r.status_code for r in asyncio.run(_storm(storm)))
        assert statuses == Counter({200: STORM}), statuses
        after = httpx.get(url)
        stored = after.json()
        assert stored["version"] == before["version"] + STORM
        assert after.headers["etag"] == f'"{stored["version"]}"'
        for field in ("city", "website", "description", "founded_year"):
            assert stored[field] in {e[field] for e in edits if field in e}, field


def test_concurrent_crossed_moves_never_store_a_category_cycle(seeded: Api, server: str) -> None:
    token = seeded.admin_token
    for round_number in range(CREATE_ROUNDS):
        pairs = [(f"r{round_number}-p{p}-a", f"r{round_number}-p{p}-b") for p in range(PAIRS)]
        for code in (code for pair in pairs for code in pair):
            body = {"code": code, "name_zh": "竞争", "name_en": code}
            assert seeded.post("/categories", token, json=body).status_code == 201
        storm = [
            ("PATCH", f"{server}/categories/{child}", {"headers": _auth(token),
                                                       "json": {"parent": parent}})
            for a, b in pairs
            for child, parent in ((a, b), (b, a))
        ]  # fmt: skip
        responses = asyncio.run(_storm(storm))
        for p, (a, b) in enumerate(pairs):
            pair = Counter(r.status_code for r in responses[2 * p : 2 * p + 2])
            # The loser is a 409 when the tree changed while it waited for it, a 400 when
            # the winner had committed before it read the tree (always so on SQLite).
            assert pair[200] == 1 and pair[400] + pair[409] == 1, pair
            parents = [httpx.get(f"{server}/categories/{code}").json()["parent"] for code in (a, b)]
            assert parents in ([b, None], [None, a]), parents
