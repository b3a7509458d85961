"""Who may do what to trials, feedback, vendor profiles and products: a role x route matrix.

Every cell runs against a fresh target; a denied write must leave everything unchanged
(trials, feedback, the vendor's products and profile, and the audit trail)."""

from types import SimpleNamespace

import pytest

ROLES = ("anonymous", "purchaser", "owner", "other", "reviewer", "admin")

# Expected status per role, in ROLES order. "owner" is the ciqtek vendor that owns the trials
# and products under test; "other" is the kyky vendor.
MATRIX = {
    "GET a draft trial": (404, 404, 200, 404, 200, 200),
    "GET a submitted trial": (404, 404, 200, 404, 200, 200),
    "GET a rejected trial": (404, 404, 200, 404, 200, 200),
    "GET an accepted trial": (200, 200, 200, 200, 200, 200),
    "POST a trial of the owner's product": (401, 403, 201, 403, 403, 201),
    "PATCH a draft trial": (401, 403, 200, 404, 403, 200),
    "PATCH an accepted trial": (401, 403, 409, 403, 403, 409),
    "submit a draft trial": (401, 403, 200, 404, 403, 200),
    "submit an accepted trial": (401, 403, 409, 403, 403, 409),
    "review a submitted trial": (401, 403, 403, 403, 200, 200),
    "amend an accepted trial": (401, 403, 201, 403, 403, 201),
    "amend a draft trial": (401, 403, 409, 404, 403, 409),
    "POST feedback": (401, 201, 403, 403, 403, 201),
    "moderate pending feedback": (401, 403, 403, 403, 200, 200),
    "GET the audit trail": (401, 403, 403, 403, 200, 200),
    "PATCH the owner's vendor profile": (401, 403, 200, 403, 403, 200),
    "POST a product in the owner's name": (401, 403, 201, 403, 403, 201),
    "PATCH the owner's product": (401, 403, 200, 403, 403, 200),
}

# What a successful write answers with (a subset of the body).
SUCCESS = {
    "POST a trial of the owner's product": {"status": "draft", "vendor": "ciqtek"},
    "PATCH a draft trial": {"status": "draft", "summary": "changed"},
    "submit a draft trial": {"status": "submitted"},
    "review a submitted trial": {"status": "accepted"},
    "amend an accepted trial": {"status": "draft", "version": 2},
    "POST feedback": {"status": "pending"},
    "moderate pending feedback": {"status": "published"},
    "PATCH the owner's vendor profile": {"slug": "ciqtek", "city": "Hefei"},
    "POST a product in the owner's name": {"vendor": "ciqtek", "category": "sem"},
    "PATCH the owner's product": {"price_band": "¥1–2M"},
}


@pytest.fixture
def w(api, settings, sem_epr_catalogue):
    ids = sem_epr_catalogue
    tokens = {
        "anonymous": None,
        "purchaser": api.user("purchaser"),
        "owner": api.user("vendor", vendor="ciqtek"),
        "other": api.user("vendor", vendor="kyky"),
        "reviewer": api.user("reviewer"),
        "admin": api.admin_token,
    }
    return SimpleNamespace(
        api=api,
        tokens=tokens,
        candidate=ids["ciqtek", "SEM5000"],
        reference=ids["zeiss", "Sigma 300"],
        others_product=ids["kyky", "KYKY-EM8000F"],
        spare_products=[pid for (vendor, _model), pid in ids.items() if vendor != "ciqtek"],
    )


def trial_body(product_id, reference_id):
    return {
        "product_id": product_id,
        "reference_product_id": reference_id,
        "site": {"institution": "Test University", "lab": "EM lab", "city": "Hefei"},
        "started_on": "2026-01-05",
        "ended_on": "2026-03-31",
        "checks": [
            {"metric": "resolution", "unit": "nm", "candidate": 0.9, "reference": 1.0,
             "criterion": {"op": "le", "value": 1.0}}
        ],
        "uptime_pct": 99.0,
    }  # fmt: skip


def trial(w, state, vendor="owner"):
    """A trial of the owner's (or other vendor's) product in the given state; returns its id."""
    product = w.candidate if vendor == "owner" else w.others_product
    response = w.api.post("/trials", w.tokens[vendor], json=trial_body(product, w.reference))
    assert response.status_code == 201, response.text
    trial_id = response.json()["id"]
    steps = {"draft": [], "submitted": ["submit"], "rejected": ["submit", "reject"]}
    for action in steps.get(state, ["submit", "accept"]):
        if action == "submit":
            done = w.api.post(f"/trials/{trial_id}/submit", w.tokens[vendor])
        else:
            review = {"decision": action, "comment": "noted"}
            done = w.api.post(f"/trials/{trial_id}/review", w.tokens["reviewer"], json=review)
        assert done.status_code == 200, done.text
    return trial_id


def feedback(w, product_id, publish=False):
    ratings = dict.fromkeys(("performance", "stability", "usability", "service", "value"), 4)
    body = {"ratings": ratings, "months_used": 6, "text": "Works."}
    response = w.api.post(f"/products/{product_id}/feedback", w.tokens["purchaser"], json=body)
    assert response.status_code == 201, response.text
    feedback_id = response.json()["id"]
    if publish:
        decision = {"decision": "publish", "comment": "ok"}
        moderated = w.api.post(
            f"/feedback/{feedback_id}/moderate", w.tokens["reviewer"], json=decision
        )
        assert moderated.status_code == 200, moderated.text
    return feedback_id


def prepare(w, route, role):
    """A fresh target for one cell: (method, path, json body)."""
    review = {"decision": "accept", "comment": "Convincing data."}
    match route:
        case "GET a draft trial":
            return "GET", f"/trials/{trial(w, 'draft')}", None
        case "GET a submitted trial":
            return "GET", f"/trials/{trial(w, 'submitted')}", None
        case "GET a rejected trial":
            return "GET", f"/trials/{trial(w, 'rejected')}", None
        case "GET an accepted trial":
            return "GET", f"/trials/{trial(w, 'accepted')}", None
        case "POST a trial of the owner's product":
            return "POST", "/trials", trial_body(w.candidate, w.reference)
        case "PATCH a draft trial":
            return "PATCH", f"/trials/{trial(w, 'draft')}", {"summary": "changed"}
        case "PATCH an accepted trial":
            return "PATCH", f"/trials/{trial(w, 'accepted')}", {"summary": "changed"}
        case "submit a draft trial":
            return "POST", f"/trials/{trial(w, 'draft')}/submit", None
        case "submit an accepted trial":
            return "POST", f"/trials/{trial(w, 'accepted')}/submit", None
        case "review a submitted trial":
            return "POST", f"/trials/{trial(w, 'submitted')}/review", review
        case "amend an accepted trial":
            return "POST", f"/trials/{trial(w, 'accepted')}/amend", None
        case "amend a draft trial":
            return "POST", f"/trials/{trial(w, 'draft')}/amend", None
        case "POST feedback":
            ratings = dict.fromkeys(
                ("performance", "stability", "usability", "service", "value"), 3
            )
            return "POST", f"/products/{w.reference}/feedback", {"ratings": ratings}
        case "moderate pending feedback":
            pending = feedback(w, w.spare_products[ROLES.index(role)])
            return "POST", f"/feedback/{pending}/moderate", {"decision": "publish", "comment": "ok"}
        case "GET the audit trail":
            return "GET", "/audit", None
        case "PATCH the owner's vendor profile":
            return "PATCH", "/vendors/ciqtek", {"city": "Hefei"}
        case "POST a product in the owner's name":
            body = {"vendor": "ciqtek", "category": "sem", "model": f"SEM-T-{role}",
                    "name": "CIQTEK test SEM", "specs": {"resolution_nm": 1.2}, "made_in": "CN",
                    "status": "active"}  # fmt: skip
            return "POST", "/products", body
        case "PATCH the owner's product":
            return "PATCH", f"/products/{w.candidate}", {"price_band": "¥1–2M"}
    raise AssertionError(route)


def snapshot(w):
    """Everything a write could change, as the admin sees it."""
    admin = w.api.admin_token
    return (
        w.api.get("/trials", admin, params={"limit": 200}).json(),
        w.api.get("/feedback", admin, params={"limit": 200}).json(),
        w.api.get("/audit", admin).json()["total"],
        w.api.get("/products", admin, params={"vendor": "ciqtek", "limit": 200}).json(),
        w.api.get("/vendors/ciqtek", admin).json(),
    )


@pytest.mark.parametrize("route", list(MATRIX))
def test_role_route_matrix(w, route):
    got, denied_changes = {}, []
    for role in ROLES:
        method, path, body = prepare(w, route, role)
        before = snapshot(w) if method != "GET" else None
        response = w.api.request(method, path, w.tokens[role], json=body)
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["status"] == response.status_code
            if before is not None and snapshot(w) != before:
                denied_changes.append(role)
        else:
            subset = SUCCESS.get(route, {})
            assert {k: response.json().get(k) for k in subset} == subset, (role, response.text)
    assert got == dict(zip(ROLES, MATRIX[route], strict=True))
    assert denied_changes == []


def test_other_vendor_gets_404_for_a_draft_trial(w):
    draft = trial(w, "draft")
    response = w.api.get(f"/trials/{draft}", w.tokens["other"])
    assert response.status_code == 404
    assert response.json()["status"] == 404 and "ciqtek" not in response.text


def test_other_vendor_gets_403_for_changing_an_accepted_trial(w):
    accepted = trial(w, "accepted")
    response = w.api.patch(f"/trials/{accepted}", w.tokens["other"], json={"summary": "x"})
    assert response.status_code == 403 and response.json()["status"] == 403
    assert w.api.get(f"/trials/{accepted}").json()["summary"] is None


def test_vendor_cannot_report_a_trial_of_another_vendors_product(w):
    response = w.api.post("/trials", w.tokens["owner"], json=trial_body(w.others_product, None))
    assert response.status_code == 403 and response.json()["status"] == 403
    assert w.api.get("/trials", w.tokens["owner"]).json()["total"] == 0


def visible(response):
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return {item["id"] for item in page["items"]}


def test_trial_lists_show_each_role_exactly_what_it_may_see(w):
    t = {s: trial(w, s) for s in ("draft", "submitted", "rejected", "accepted")}
    t["others submitted"] = trial(w, "submitted", vendor="other")
    everything = set(t.values())
    expected = {
        "anonymous": {t["accepted"]},
        "purchaser": {t["accepted"]},
        "owner": {t["draft"], t["submitted"], t["rejected"], t["accepted"]},
        "other": {t["accepted"], t["others submitted"]},
        "reviewer": everything,
        "admin": everything,
    }
    both = {t["submitted"], t["others submitted"]}
    queue = {"owner": {t["submitted"]}, "other": {t["others submitted"]}}
    queue |= {"reviewer": both, "admin": both}
    for role, token in w.tokens.items():
        assert visible(w.api.get("/trials", token)) == expected[role], role
        submitted = visible(w.api.get("/trials", token, params={"status": "submitted"}))
        assert submitted == queue.get(role, set()), role


def test_feedback_lists_show_pending_feedback_to_staff_only(w):
    pending = feedback(w, w.candidate)
    purchaser2 = w.api.user("purchaser", name="second purchaser")
    ratings = dict.fromkeys(("performance", "stability", "usability", "service", "value"), 5)
    created = w.api.post(f"/products/{w.candidate}/feedback", purchaser2, json={"ratings": ratings})
    published = created.json()["id"]
    decision = {"decision": "publish", "comment": "ok"}
    w.api.post(f"/feedback/{published}/moderate", w.tokens["reviewer"], json=decision)
    for role, token in w.tokens.items():
        staff = role in ("reviewer", "admin")
        on_product = visible(w.api.get(f"/products/{w.candidate}/feedback", token))
        assert on_product == ({pending, published} if staff else {published}), role
        queue = visible(w.api.get("/feedback", token, params={"status": "pending"}))
        assert queue == ({pending} if staff else set()), role
