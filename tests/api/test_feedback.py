"""Purchaser feedback: ratings, moderation, what is public, limits, idempotency and audit."""

from types import SimpleNamespace

import pytest

DIMENSIONS = ("performance", "stability", "usability", "service", "value")


@pytest.fixture
def w(api, settings, sem_epr_catalogue):
    """The bundled catalogue (no bundled feedback), two purchasers, a vendor and a reviewer."""
    ids = sem_epr_catalogue
    return SimpleNamespace(
        api=api,
        buyer=user(api, "purchaser", None, "Lab manager Li"),
        buyer2=user(api, "purchaser", None, "Lab manager Zhao"),
        vendor=user(api, "vendor", "ciqtek", "Ciqtek sales"),
        reviewer=user(api, "reviewer", None, "Reviewer Wang"),
        product=ids["ciqtek", "SEM5000"],
        other_product=ids["kyky", "KYKY-EM8000F"],
    )


def user(api, role, vendor, name):
    response = api.post(
        "/users", api.admin_token, json={"name": name, "role": role, "vendor": vendor}
    )
    assert response.status_code == 201, response.text
    return SimpleNamespace(**response.json())


def body(ratings=(4, 4, 4, 4, 4), **overrides):
    base = {
        "ratings": dict(zip(DIMENSIONS, ratings, strict=True)),
        "months_used": 8,
        "text": "Stable imaging; service engineer came within a day.",
    }
    return base | overrides


def leave(w, who=None, product=None, **kwargs):
    who = who or w.buyer
    response = w.api.post(
        f"/products/{product or w.product}/feedback", who.token, json=body(**kwargs)
    )
    assert response.status_code == 201, response.text
    return response.json()


def moderate(w, feedback_id, decision, comment="checked"):
    payload = {"decision": decision, "comment": comment}
    return w.api.post(f"/feedback/{feedback_id}/moderate", w.reviewer.token, json=payload)


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status and response.json()["detail"]
    return response.json()


def public_page(w, token=None):
    response = w.api.get(f"/products/{w.product}/feedback", token)
    assert response.status_code == 200, response.text
    return response.json()


def all_feedback_count(w):
    response = w.api.get("/feedback", w.reviewer.token)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_purchaser_feedback_starts_pending_and_is_not_public(w):
    response = w.api.post(
        f"/products/{w.product}/feedback", w.buyer.token, json=body((5, 4, 3, 2, 1))
    )
    assert response.status_code == 201, response.text
    fb = response.json()
    assert fb["status"] == "pending" and fb["product_id"] == w.product
    assert fb["ratings"] == dict(zip(DIMENSIONS, (5, 4, 3, 2, 1), strict=True))
    assert fb["months_used"] == 8 and fb["text"].startswith("Stable imaging")
    for token in (None, w.buyer.token, w.vendor.token):
        page = public_page(w, token)
        assert page["items"] == [] and page["total"] == 0
        assert page["summary"] == {"count": 0, "mean": {}, "overall": None}
    queue = w.api.get("/feedback", w.reviewer.token, params={"status": "pending"}).json()
    assert [item["id"] for item in queue["items"]] == [fb["id"]]


def test_published_feedback_is_public_and_summarised(w):
    first = leave(w, w.buyer, ratings=(5, 4, 3, 2, 1))
    second = leave(w, w.buyer2, ratings=(3, 4, 5, 4, 3))
    for fb in (first, second):
        response = moderate(w, fb["id"], "publish", "verified purchase")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "published"
        assert response.json()["moderation_comment"] == "verified purchase"
    page = public_page(w)
    assert {item["id"] for item in page["items"]} == {first["id"], second["id"]}
    assert page["summary"]["count"] == 2
    assert page["summary"]["mean"] == pytest.approx(
        {"performance": 4, "stability": 4, "usability": 4, "service": 3, "value": 2}
    )
    assert page["summary"]["overall"] == pytest.approx(3.4)
    everyone = w.api.get("/feedback").json()
    assert {item["id"] for item in everyone["items"]} == {first["id"], second["id"]}


def test_rejected_feedback_never_becomes_public(w):
    fb = leave(w)
    response = moderate(w, fb["id"], "reject", "advertising")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert public_page(w)["items"] == []
    problem(moderate(w, fb["id"], "publish"), 409)
    assert w.api.get("/feedback", w.reviewer.token).json()["items"][0]["status"] == "rejected"


def test_moderating_published_feedback_again_is_a_409_and_changes_nothing(w):
    fb = leave(w)
    assert moderate(w, fb["id"], "publish").status_code == 200
    problem(moderate(w, fb["id"], "reject"), 409)
    assert [item["status"] for item in public_page(w)["items"]] == ["published"]


def test_vendors_cannot_rate_products(w):
    for product in (w.product, w.other_product):
        response = w.api.post(f"/products/{product}/feedback", w.vendor.token, json=body())
        problem(response, 403)
    assert all_feedback_count(w) == 0


def test_feedback_on_an_unknown_product_is_a_404(w):
    problem(w.api.post("/products/999999/feedback", w.buyer.token, json=body()), 404)
    assert all_feedback_count(w) == 0


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"ratings": dict.fromkeys(DIMENSIONS, 0)}, "performance"),
        ({"ratings": dict.fromkeys(DIMENSIONS, 6)}, "performance"),
        ({"ratings": dict.fromkeys(DIMENSIONS, 2.5)}, "performance"),
        ({"ratings": dict.fromkeys(DIMENSIONS, "lots")}, "performance"),
        ({"ratings": dict.fromkeys(DIMENSIONS[:4], 3)}, "value"),
        ({"ratings": dict.fromkeys((*DIMENSIONS, "speed"), 3)}, "speed"),
        ({"ratings": None}, "ratings"),
        ({"months_used": -1}, "months_used"),
        ({"months_used": "six"}, "months_used"),
        ({"text": "x" * 5001}, "text"),
        ({"status": "published"}, "status"),
        ({"id": 7}, "id"),
    ],
)
def test_invalid_feedback_is_a_400_and_nothing_is_created(w, bad, field):
    response = w.api.post(f"/products/{w.product}/feedback", w.buyer.token, json=body() | bad)
    document = problem(response, 400)
    assert any(field in e["field"] + e["message"] for e in document["errors"]), document
    assert all_feedback_count(w) == 0


def test_numeric_strings_in_integer_fields_are_a_400(w):
    # Ratings and months_used are integers; a JSON string is not one, even if it looks like one.
    response = w.api.post(
        f"/products/{w.product}/feedback", w.buyer.token, json=body() | {"months_used": "8"}
    )
    problem(response, 400)
    ratings = {"ratings": dict.fromkeys(DIMENSIONS, "4")}
    problem(
        w.api.post(f"/products/{w.product}/feedback", w.buyer.token, json=body() | ratings), 400
    )
    assert all_feedback_count(w) == 0


def test_text_of_exactly_5000_characters_is_accepted(w):
    assert len(leave(w, text="好" * 5000)["text"]) == 5000


@pytest.mark.parametrize("payload", [{"decision": "approve"}, {}, {"decision": "publish", "x": 1}])
def test_invalid_moderation_is_a_400_and_leaves_feedback_pending(w, payload):
    fb = leave(w)
    response = w.api.post(f"/feedback/{fb['id']}/moderate", w.reviewer.token, json=payload)
    problem(response, 400)
    queue = w.api.get("/feedback", w.reviewer.token, params={"status": "pending"}).json()
    assert [item["id"] for item in queue["items"]] == [fb["id"]]


def test_moderating_unknown_feedback_is_a_404(w):
    problem(moderate(w, 999999, "publish"), 404)


def test_idempotent_feedback_retry_replays_and_keys_are_per_user(w):
    key = {"Idempotency-Key": "fb-0001"}
    path = f"/products/{w.product}/feedback"
    first = w.api.post(path, w.buyer.token, json=body(), headers=key)
    again = w.api.post(path, w.buyer.token, json=body(), headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert all_feedback_count(w) == 1
    problem(w.api.post(path, w.buyer.token, json=body((1, 1, 1, 1, 1)), headers=key), 422)
    assert all_feedback_count(w) == 1
    own = w.api.post(path, w.buyer2.token, json=body(), headers=key)
    assert own.status_code == 201 and "Idempotent-Replayed" not in own.headers
    assert own.json()["id"] != first.json()["id"]
    assert all_feedback_count(w) == 2


def test_audit_records_feedback_creation_and_moderation(w):
    fb = leave(w)
    moderate(w, fb["id"], "publish")
    params = {"entity": "feedback", "entity_id": fb["id"]}
    response = w.api.get("/audit", w.reviewer.token, params=params)
    assert response.status_code == 200, response.text
    events = response.json()["items"]
    assert [e["action"] for e in events] == ["publish", "create"]
    assert [e["actor"] for e in events] == [
        {"id": w.reviewer.id, "name": "Reviewer Wang", "role": "reviewer"},
        {"id": w.buyer.id, "name": "Lab manager Li", "role": "purchaser"},
    ]
    problem(w.api.get("/audit", w.buyer.token, params=params), 403)
