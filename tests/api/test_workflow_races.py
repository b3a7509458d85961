"""Concurrent writers: ETag/If-Match, Idempotency-Key retries, and decisions racing each other.

The races fire real concurrent requests: an httpx.AsyncClient over ASGITransport on a second
app instance (same database, its own engine and lifespan), gathered with asyncio.gather."""

import asyncio
from types import SimpleNamespace

import httpx
import pytest
from litestar.testing import AsyncTestClient

from instcat.app import create_app

ROUNDS = 20


@pytest.fixture
def w(api, settings, sem_epr_catalogue):
    ids = sem_epr_catalogue
    return SimpleNamespace(
        api=api,
        settings=settings,
        owner=api.user("vendor", vendor="ciqtek", name="Ciqtek engineer"),
        reviewers=[api.user("reviewer", name=f"Reviewer {n}") for n in range(4)],
        purchaser=api.user("purchaser", name="Lab manager"),
        candidate=ids["ciqtek", "SEM5000"],
        reference=ids["zeiss", "Sigma 300"],
        product_ids=list(ids.values()),
    )


def race(settings, scenario):
    """Run `scenario(http)` against a fresh app with a live lifespan; returns its result."""

    async def main():
        async with AsyncTestClient(app=create_app(settings)) as client:
            transport = httpx.ASGITransport(app=client.app)
            base = "http://testserver.local/api/v1"
            async with httpx.AsyncClient(transport=transport, base_url=base) as http:
                return await scenario(http)

    return asyncio.run(main())


def bearer(token, **extra):
    return {"Authorization": f"Bearer {token}", **extra}


def body(w, **overrides):
    base = {
        "product_id": w.candidate,
        "reference_product_id": w.reference,
        "site": {"institution": "Test University", "lab": "EM lab", "city": "Hefei"},
        "started_on": "2026-01-05",
        "ended_on": "2026-03-31",
        "checks": [
            {"metric": "resolution", "unit": "nm", "candidate": 0.9, "reference": 1.0,
             "criterion": {"op": "le", "value": 1.0}}
        ],
        "uptime_pct": 99.0,
    }  # fmt: skip
    return base | overrides


def create(w, submit=False):
    response = w.api.post("/trials", w.owner, json=body(w))
    assert response.status_code == 201, response.text
    trial_id = response.json()["id"]
    if submit:
        assert w.api.post(f"/trials/{trial_id}/submit", w.owner).status_code == 200
    return trial_id


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status and response.json()["detail"]


def trial_count(w):
    return w.api.get("/trials", w.owner).json()["total"]


def audit_actions(w, entity, entity_id):
    params = {"entity": entity, "entity_id": entity_id}
    response = w.api.get("/audit", w.reviewers[0], params=params)
    assert response.status_code == 200, response.text
    return [event["action"] for event in response.json()["items"]]


# --- one at a time ------------------------------------------------------------------------------


def test_stale_if_match_is_a_412_on_patch_submit_and_review(w):
    path = f"/trials/{create(w)}"
    stale = w.api.get(path, w.owner).headers["ETag"]
    fresh = w.api.patch(path, w.owner, json={"failures": 2}, headers={"If-Match": stale})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != stale
    before = w.api.get(path, w.owner).json()
    old = {"If-Match": stale}
    problem(w.api.patch(path, w.owner, json={"failures": 3}, headers=old), 412)
    problem(w.api.post(path + "/submit", w.owner, headers=old), 412)
    assert w.api.get(path, w.owner).json() == before
    current = {"If-Match": w.api.get(path, w.owner).headers["ETag"]}
    assert w.api.post(path + "/submit", w.owner, headers=current).status_code == 200
    review = {"decision": "accept", "comment": "ok"}
    problem(w.api.post(path + "/review", w.reviewers[0], json=review, headers=current), 412)
    assert w.api.get(path, w.owner).json()["status"] == "submitted"


def test_idempotent_retry_replays_the_first_response_and_keys_are_per_user(w):
    key = {"Idempotency-Key": "trial-2026-001"}
    first = w.api.post("/trials", w.owner, json=body(w), headers=key)
    again = w.api.post("/trials", w.owner, json=body(w), headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert trial_count(w) == 1
    problem(w.api.post("/trials", w.owner, json=body(w, failures=9), headers=key), 422)
    assert trial_count(w) == 1
    colleague = w.api.user("vendor", vendor="ciqtek", name="Second Ciqtek engineer")
    own = w.api.post("/trials", colleague, json=body(w), headers=key)
    assert own.status_code == 201 and "Idempotent-Replayed" not in own.headers
    assert own.json()["id"] != first.json()["id"]
    assert trial_count(w) == 2


# --- real races ---------------------------------------------------------------------------------


def test_two_reviewers_deciding_at_once_give_one_200_and_one_409(w):
    trials = [create(w, submit=True) for _ in range(ROUNDS)]
    accept = {"decision": "accept", "comment": "Reviewer A: convincing."}
    reject = {"decision": "reject", "comment": "Reviewer B: not convincing."}

    async def scenario(http):
        rounds = []
        for trial_id in trials:
            url = f"/trials/{trial_id}/review"
            rounds.append(
                await asyncio.gather(
                    http.post(url, json=accept, headers=bearer(w.reviewers[0])),
                    http.post(url, json=reject, headers=bearer(w.reviewers[1])),
                )
            )
        return rounds

    for trial_id, (a, b) in zip(trials, race(w.settings, scenario), strict=True):
        assert sorted([a.status_code, b.status_code]) == [200, 409], (a.text, b.text)
        winner, loser = (a, b) if a.status_code == 200 else (b, a)
        problem(loser, 409)
        final = w.api.get(f"/trials/{trial_id}", w.reviewers[0]).json()
        assert final["status"] == winner.json()["status"] in ("accepted", "rejected")
        assert len(final["reviews"]) == 1
        assert final["reviews"][0]["comment"] == winner.json()["reviews"][0]["comment"]
        assert audit_actions(w, "trial", trial_id)[:2] == [
            final["reviews"][0]["decision"],
            "submit",
        ]


def test_concurrent_idempotent_retries_create_exactly_one_trial(w):
    keys = [f"retry-{n}" for n in range(5)]

    async def scenario(http):
        rounds = []
        for key in keys:
            headers = bearer(w.owner, **{"Idempotency-Key": key})
            rounds.append(
                await asyncio.gather(
                    *(http.post("/trials", json=body(w), headers=headers) for _ in range(8))
                )
            )
        return rounds

    ids = set()
    for key, responses in zip(keys, race(w.settings, scenario), strict=True):
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {201, 409}, [r.text for r in responses]
        created = [r for r in responses if r.status_code == 201]
        assert created and len({r.json()["id"] for r in created}) == 1
        assert sum("Idempotent-Replayed" not in r.headers for r in created) == 1
        for conflict in (r for r in responses if r.status_code == 409):
            problem(conflict, 409)
        ids.add(created[0].json()["id"])
        replay = w.api.post("/trials", w.owner, json=body(w), headers={"Idempotency-Key": key})
        assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == created[0].json()["id"]
    assert len(ids) == len(keys) and trial_count(w) == len(keys)


def test_concurrent_moderation_of_one_feedback_gives_one_200_and_the_rest_409(w):
    ratings = dict.fromkeys(("performance", "stability", "usability", "service", "value"), 4)
    pending = []
    for product_id in w.product_ids[:10]:
        response = w.api.post(
            f"/products/{product_id}/feedback", w.purchaser, json={"ratings": ratings}
        )
        assert response.status_code == 201, response.text
        pending.append(response.json()["id"])

    async def scenario(http):
        rounds = []
        for feedback_id in pending:
            url = f"/feedback/{feedback_id}/moderate"
            rounds.append(
                await asyncio.gather(
                    *(
                        http.post(
                            url,
                            json={"decision": ("publish", "reject")[n % 2], "comment": f"r{n}"},
                            headers=bearer(token),
                        )
                        for n, token in enumerate(w.reviewers)
                    )
                )
            )
        return rounds

    everything = w.api.get("/feedback", w.reviewers[0], params={"limit": 200}).json()["items"]
    before = {item["id"]: item for item in everything}
    assert all(before[f]["status"] == "pending" for f in pending)
    for feedback_id, responses in zip(pending, race(w.settings, scenario), strict=True):
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409, 409, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        for loser in (r for r in responses if r.status_code == 409):
            problem(loser, 409)
        items = w.api.get("/feedback", w.reviewers[0], params={"limit": 200}).json()["items"]
        final = next(item for item in items if item["id"] == feedback_id)
        assert final["status"] == winner["status"] in ("published", "rejected")
        assert final["moderation_comment"] == winner["moderation_comment"]
        actions = audit_actions(w, "feedback", feedback_id)
        assert sorted(actions) == sorted(["create", {"published": "publish"}.get(
            winner["status"], "reject")])  # fmt: skip


def test_two_edits_with_the_same_etag_give_one_200_and_one_412(w):
    trials = [create(w) for _ in range(10)]
    etags = {t: w.api.get(f"/trials/{t}", w.owner).headers["ETag"] for t in trials}

    async def scenario(http):
        rounds = []
        for trial_id in trials:
            headers = bearer(w.owner, **{"If-Match": etags[trial_id]})
            rounds.append(
                await asyncio.gather(
                    *(
                        http.patch(f"/trials/{trial_id}", json={"summary": s}, headers=headers)
                        for s in ("edit A", "edit B")
                    )
                )
            )
        return rounds

    for trial_id, responses in zip(trials, race(w.settings, scenario), strict=True):
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200)
        problem(next(r for r in responses if r.status_code == 412), 412)
        final = w.api.get(f"/trials/{trial_id}", w.owner)
        assert final.json()["summary"] == winner.json()["summary"]
        assert final.headers["ETag"] == winner.headers["ETag"]
