"""Trial reports: creation, server-computed checks, limits, the review lifecycle, amendments,
and the audit trail. (ETags and Idempotency-Key: test_workflow_races.py.)"""

import statistics
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from scipy import stats as sps


@pytest.fixture
def w(api, settings, sem_epr_catalogue):
    """The bundled catalogue (no bundled trials), a vendor pair and staff users."""
    ids = sem_epr_catalogue
    return SimpleNamespace(
        api=api,
        owner=user(api, "vendor", "ciqtek", "Ciqtek engineer"),
        other=user(api, "vendor", "kyky", "KYKY engineer"),
        reviewer=user(api, "reviewer", None, "Reviewer Wang"),
        candidate=ids["ciqtek", "SEM5000"],
        reference=ids["zeiss", "Sigma 300"],
        own_epr=ids["ciqtek", "EPR200-Plus"],
        others_product=ids["kyky", "KYKY-EM8000F"],
    )


def user(api, role, vendor, name):
    payload = {"name": name, "role": role, "vendor": vendor}
    response = api.post("/users", api.admin_token, json=payload)
    assert response.status_code == 201, response.text
    return SimpleNamespace(**response.json())


def check(op, value, candidate, reference=None, metric="resolution at 15 kV"):
    return {"metric": metric, "unit": "nm", "candidate": candidate, "reference": reference,
            "criterion": {"op": op, "value": value}}  # fmt: skip


def pairs(candidate, reference=None, margin=1):
    reference = candidate if reference is None else reference
    return {"analyte": "Fe", "unit": "mg/L", "candidate": candidate, "reference": reference,
            "margin": margin}  # fmt: skip


def body(w, **overrides):
    base = {
        "product_id": w.candidate,
        "reference_product_id": w.reference,
        "site": {"institution": "Test University", "lab": "EM lab", "city": "Hefei"},
        "started_on": "2026-01-05",
        "ended_on": "2026-03-31",
        "checks": [check("le", 1.0, 0.9)],
        "paired": None,
        "uptime_pct": 98.5,
        "failures": 1,
        "service_response_hours": 12,
        "summary": "Three months of routine imaging.",
        "illustrative": True,
    }
    return base | overrides


def create(w, token=None, **overrides):
    response = w.api.post("/trials", token or w.owner.token, json=body(w, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def step(w, trial_id, action, comment="looks fine"):
    if action == "submit":
        response = w.api.post(f"/trials/{trial_id}/submit", w.owner.token)
    else:
        review = {"decision": action, "comment": comment}
        response = w.api.post(f"/trials/{trial_id}/review", w.reviewer.token, json=review)
    assert response.status_code == 200, response.text
    return response.json()


def in_state(w, status, **overrides):
    trial = create(w, **overrides)
    path = {"draft": [], "submitted": ["submit"]}.get(status, ["submit", status])
    for action in path:
        trial = step(w, trial["id"], action)
    return trial


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    document = response.json()
    assert document["status"] == status and document["title"] and document["detail"]
    return document


def invalid(response, field_part=""):
    document = problem(response, 400)
    assert document["errors"], document
    assert any(field_part in e["field"] + " " + e["message"] for e in document["errors"]), document
    return document


def owner_trial_count(w):
    response = w.api.get("/trials", w.owner.token)
    assert response.status_code == 200, response.text
    return response.json()["total"]


# --- creation and checks --------------------------------------------------------------------


def test_vendor_creates_a_draft_trial_of_its_own_product(w):
    checks = [check("le", 1.0, 0.9), check("ge", 5, 4, metric="throughput")]
    response = w.api.post("/trials", w.owner.token, json=body(w, checks=checks))
    assert response.status_code == 201, response.text
    trial = response.json()
    assert trial["status"] == "draft" and trial["version"] == 1 and trial["previous_id"] is None
    assert trial["vendor"] == "ciqtek" and trial["product_id"] == w.candidate
    assert trial["reference_product_id"] == w.reference
    assert trial["site"] == {"institution": "Test University", "lab": "EM lab", "city": "Hefei"}
    assert (trial["started_on"], trial["ended_on"]) == ("2026-01-05", "2026-03-31")
    operations = (trial["uptime_pct"], trial["failures"], trial["service_response_hours"])
    assert operations == (98.5, 1, 12)
    assert [c["passed"] for c in trial["checks"]] == [True, False]
    assert trial["all_checks_passed"] is False
    assert trial["reviews"] == [] and trial["statistics"] is None
    assert w.api.get(f"/trials/{trial['id']}", w.owner.token).json() == trial


@pytest.mark.parametrize(
    ("op", "value", "candidate", "reference", "passed"),
    [
        ("le", 1.0, 0.9, None, True),
        ("le", 1.0, 1.0, None, True),
        ("le", 1.0, 1.1, None, False),
        ("ge", 100, 120, None, True),
        ("ge", 100, 99.9, None, False),
        ("abs_diff_le", 0.5, 10.4, 10.0, True),
        ("abs_diff_le", 0.5, 9.4, 10.0, False),
        ("rel_diff_le_pct", 2, 101.5, 100, True),
        ("rel_diff_le_pct", 2, 97, 100, False),
        ("rel_diff_le_pct", 5, -104, -100, True),
    ],
)
def test_server_computes_passed_for_each_criterion(w, op, value, candidate, reference, passed):
    trial = create(w, checks=[check(op, value, candidate, reference)])
    assert trial["checks"][0]["passed"] is passed
    assert trial["checks"][0]["criterion"] == {"op": op, "value": value}
    assert trial["all_checks_passed"] is passed


def test_client_sent_passed_field_is_rejected_and_nothing_created(w):
    sneaky = check("le", 1.0, 5.0) | {"passed": True}
    invalid(w.api.post("/trials", w.owner.token, json=body(w, checks=[sneaky])), "passed")
    assert owner_trial_count(w) == 0


@pytest.mark.parametrize(
    "field", [("status", "accepted"), ("version", 3), ("vendor", "kyky"), ("id", 99)]
)
def test_server_owned_fields_in_a_create_body_are_rejected_and_nothing_created(w, field):
    response = w.api.post("/trials", w.owner.token, json=body(w) | dict([field]))
    invalid(response, field[0])
    assert owner_trial_count(w) == 0


def test_status_in_a_patch_body_is_rejected_and_the_trial_is_unchanged(w):
    trial = create(w)
    response = w.api.patch(f"/trials/{trial['id']}", w.owner.token, json={"status": "accepted"})
    invalid(response, "status")
    assert w.api.get(f"/trials/{trial['id']}", w.owner.token).json() == trial


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ({"checks": [check("rel_diff_le_pct", 5, 1.0, 0)]}, "reference"),
        ({"checks": [check("abs_diff_le", 0.5, 1.0, None)]}, "reference"),
        ({"checks": [check("rel_diff_le_pct", 5, 1.0, None)]}, "reference"),
        ({"checks": [check("le", 1.0, 0.5)] * 101}, "checks"),
        ({"checks": [check("le", 1.0, "abc")]}, "candidate"),
        ({"checks": [check("le", 1.0, "NaN")]}, "candidate"),
        ({"checks": [check("between", 1.0, 0.5)]}, "op"),
        ({"paired": pairs([1, 2], [1, 2])}, "pairs"),
        ({"paired": pairs([1.0] * 10_001)}, "paired"),
        ({"paired": pairs([1, 2, 3], [1, 2])}, "same number"),
        ({"paired": pairs([1, 2, 3], margin=0)}, "margin"),
        ({"paired": pairs([1, 2, 3], margin=-1)}, "margin"),
        ({"paired": pairs([1, 2, "x"], [1, 2, 3])}, "paired"),
        ({"uptime_pct": "high"}, "uptime_pct"),
        ({"uptime_pct": 101}, "uptime_pct"),
        ({"failures": -1}, "failures"),
        ({"summary": "x" * 10_001}, "summary"),
        ({"site": {"institution": "x" * 201}}, "institution"),
        ({"ended_on": "2025-12-31"}, "ended_on"),
        ({"reference_product_id": 999_999}, "reference_product_id"),
    ],
)
def test_invalid_trial_bodies_are_a_400_and_nothing_is_created(w, bad, hint):
    invalid(w.api.post("/trials", w.owner.token, json=body(w, **bad)), hint)
    assert owner_trial_count(w) == 0


@pytest.mark.parametrize(
    "bad",
    [{"checks": [check("le", 1.0, "0.5")]}, {"uptime_pct": "99"}, {"failures": "1"}],
)
def test_numeric_strings_in_number_fields_are_a_400(w, bad):
    # The contract's fields are JSON numbers; a string is not one, even if it looks like one.
    invalid(w.api.post("/trials", w.owner.token, json=body(w, **bad)))
    assert owner_trial_count(w) == 0


def test_exactly_100_checks_are_accepted(w):
    trial = create(w, checks=[check("le", 1.0, 0.5, metric=f"m{i}") for i in range(100)])
    assert len(trial["checks"]) == 100 and trial["all_checks_passed"] is True


def test_reference_from_another_category_is_a_400(w):
    invalid(w.api.post("/trials", w.owner.token, json=body(w, product_id=w.own_epr)), "reference")


def test_paired_results_get_method_comparison_statistics(w):
    reference = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    candidate = [10.1, 20.3, 29.8, 40.4, 50.2, 60.1]
    paired = pairs(candidate, reference, margin=1.0)
    trial = create(w, paired=paired)
    assert trial["paired"]["candidate"] == candidate
    s = trial["statistics"]
    diffs = [c - r for c, r in zip(candidate, reference, strict=True)]
    bias, sd, n = statistics.mean(diffs), statistics.stdev(diffs), len(diffs)
    half = sps.t.ppf(0.975, n - 1) * sd / n**0.5
    assert s["n"] == n
    assert s["bias"] == pytest.approx(bias) and s["sd"] == pytest.approx(sd)
    assert s["bias_ci"] == pytest.approx([bias - half, bias + half])
    assert s["loa"] == pytest.approx([bias - 1.96 * sd, bias + 1.96 * sd])
    assert s["tost"]["margin"] == 1.0 and s["tost"]["equivalent"] is True
    assert 0 <= s["tost"]["p_value"] < 0.05
    assert s["passing_bablok"]["slope"] == pytest.approx(1.0, abs=0.05)
    narrow = create(w, paired=paired | {"margin": 0.01})
    assert narrow["statistics"]["tost"]["equivalent"] is False


def test_paired_statistics_carry_the_ep09_fields(w):
    reference = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    candidate = [10.1, 20.3, 29.8, 40.4, 50.2, 60.1]
    s = create(w, paired=pairs(candidate, reference, margin=1.0))["statistics"]
    diffs = [c - r for c, r in zip(candidate, reference, strict=True)]
    sd, n = statistics.stdev(diffs), len(diffs)
    half = sps.t.ppf(0.975, n - 1) * (3 * sd**2 / n) ** 0.5
    assert s["loa_ci"]["lower"] == pytest.approx([s["loa"][0] - half, s["loa"][0] + half])
    assert s["loa_ci"]["upper"] == pytest.approx([s["loa"][1] - half, s["loa"][1] + half])
    slope_lo, slope_hi = s["passing_bablok"]["slope_ci"]
    assert s["proportional_bias"] is not (slope_lo <= 1 <= slope_hi)
    icpt_lo, icpt_hi = s["passing_bablok"]["intercept_ci"]
    assert s["constant_bias"] is not (icpt_lo <= 0 <= icpt_hi)
    linearity = s["passing_bablok"]["linearity"]
    assert set(linearity) == {"cusum_max", "critical", "linear"}
    assert linearity["linear"] is (linearity["cusum_max"] <= linearity["critical"])
    assert s["notes"] == ["few_pairs"]
    # no regression (every reference value the same): null verdicts and a note saying why
    flat = create(w, paired=pairs([1, 2, 3, 4], [5, 5, 5, 5], margin=3))["statistics"]
    assert flat["passing_bablok"] is None
    assert flat["proportional_bias"] is None and flat["constant_bias"] is None
    assert flat["notes"][0] == "few_pairs" and "reference values are equal" in flat["notes"][1]


def field_error(response, field):
    document = invalid(response)
    assert field in [e["field"] for e in document["errors"]], document
    return document


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ([1e308, -1e308, 1e308], [-1e308, 1e308, 0.0]),  # differences overflow
        ([1.5e308, 1.7e308, -1.7e308], [1e300, 2e300, 3e300]),  # SD and limits overflow
        ([1e-320, 2e-320, 3e-320], [1e-320, 1e-320, 1e-320]),  # subnormal: underflow
    ],
)
def test_paired_values_whose_statistics_do_not_fit_a_double_are_a_400(w, candidate, reference):
    paired = pairs(candidate, reference, margin=1.0)
    field_error(w.api.post("/trials", w.owner.token, json=body(w, paired=paired)), "paired")
    assert owner_trial_count(w) == 0
    trial = create(w)
    path = f"/trials/{trial['id']}"
    field_error(w.api.patch(path, w.owner.token, json={"paired": paired}), "paired")
    assert w.api.get(path, w.owner.token).json() == trial


def china_today():
    return (datetime.now(UTC) + timedelta(hours=8)).date()


def test_a_trial_may_end_today_in_china_but_not_later(w):
    today = china_today()
    ended_today = create(w, ended_on=today.isoformat())
    assert ended_today["ended_on"] == today.isoformat()
    tomorrow = (today + timedelta(days=1)).isoformat()
    document = field_error(
        w.api.post("/trials", w.owner.token, json=body(w, ended_on=tomorrow)), "ended_on"
    )
    assert today.isoformat() in document["errors"][0]["message"]
    assert owner_trial_count(w) == 1
    path = f"/trials/{ended_today['id']}"
    field_error(w.api.patch(path, w.owner.token, json={"ended_on": tomorrow}), "ended_on")
    assert w.api.get(path, w.owner.token).json() == ended_today


def test_a_trial_may_not_start_after_it_ends(w):
    late_start = body(w, started_on="2026-04-01", ended_on="2026-03-31")
    field_error(w.api.post("/trials", w.owner.token, json=late_start), "started_on")
    assert owner_trial_count(w) == 0
    same_day = create(w, started_on="2026-03-31", ended_on="2026-03-31")
    path = f"/trials/{same_day['id']}"
    field_error(w.api.patch(path, w.owner.token, json={"started_on": "2026-04-01"}), "started_on")
    assert w.api.get(path, w.owner.token).json() == same_day


def test_a_domestic_reference_is_a_400(w):
    # KYKY's SEM is in the right category, but KYKY is a Chinese vendor.
    domestic = body(w, reference_product_id=w.others_product)
    response = w.api.post("/trials", w.owner.token, json=domestic)
    document = field_error(response, "reference_product_id")
    assert "imported" in document["errors"][0]["message"]
    assert owner_trial_count(w) == 0
    trial = create(w)
    path = f"/trials/{trial['id']}"
    patch = {"reference_product_id": w.others_product}
    field_error(w.api.patch(path, w.owner.token, json=patch), "reference_product_id")
    other_category = {"reference_product_id": w.own_epr}
    field_error(w.api.patch(path, w.owner.token, json=other_category), "reference_product_id")
    assert w.api.get(path, w.owner.token).json() == trial


# --- lifecycle --------------------------------------------------------------------------------


def test_draft_and_revision_requested_trials_can_be_edited(w):
    trial = create(w)
    edit = {"summary": "Revised.", "checks": [check("ge", 5, 4)]}
    edited = w.api.patch(f"/trials/{trial['id']}", w.owner.token, json=edit)
    assert edited.status_code == 200, edited.text
    assert edited.json()["summary"] == "Revised." and edited.json()["checks"][0]["passed"] is False
    sent_back = in_state(w, "request_revision")
    response = w.api.patch(f"/trials/{sent_back['id']}", w.owner.token, json={"failures": 0})
    assert response.status_code == 200, response.text
    assert response.json()["failures"] == 0 and response.json()["status"] == "revision_requested"


@pytest.mark.parametrize("status", ["submitted", "accept", "reject"])
def test_submitted_and_decided_trials_are_frozen(w, status):
    trial = in_state(w, status)
    path = f"/trials/{trial['id']}"
    problem(w.api.patch(path, w.owner.token, json={"summary": "changed"}), 409)
    problem(w.api.post(path + "/submit", w.owner.token), 409)
    if status != "submitted":  # a decided trial is not decided again
        review = {"decision": "accept", "comment": "again"}
        problem(w.api.post(path + "/review", w.reviewer.token, json=review), 409)
    assert w.api.get(path, w.owner.token).json() == trial


def test_revision_cycle_keeps_every_review_comment_in_order(w):
    trial = step(w, create(w)["id"], "submit")
    step(w, trial["id"], "request_revision", comment="Add the calibration record.")
    w.api.patch(f"/trials/{trial['id']}", w.owner.token, json={"summary": "Calibrated."})
    step(w, trial["id"], "submit")
    done = step(w, trial["id"], "accept", comment="Complete now.")
    assert done["status"] == "accepted"
    reviews = w.api.get(f"/trials/{trial['id']}", w.owner.token).json()["reviews"]
    assert [(r["decision"], r["comment"]) for r in reviews] == [
        ("request_revision", "Add the calibration record."),
        ("accept", "Complete now."),
    ]
    assert reviews[0]["reviewer"]["name"] == "Reviewer Wang" and reviews[0]["at"].endswith("Z")


@pytest.mark.parametrize("comment", [None, "", " ", "   \u3000 "])
def test_a_review_without_a_comment_is_a_400(w, comment):
    trial = in_state(w, "submitted")
    review = {"decision": "accept"} | ({} if comment is None else {"comment": comment})
    invalid(w.api.post(f"/trials/{trial['id']}/review", w.reviewer.token, json=review), "comment")
    assert w.api.get(f"/trials/{trial['id']}", w.owner.token).json()["status"] == "submitted"


def test_reviewing_a_draft_is_a_409(w):
    trial = create(w)
    review = {"decision": "accept", "comment": "ok"}
    problem(w.api.post(f"/trials/{trial['id']}/review", w.reviewer.token, json=review), 409)


STATUS_AFTER = {"draft": "draft", "submitted": "submitted", "accept": "accepted",
                "reject": "rejected", "request_revision": "revision_requested"}  # fmt: skip


def test_vendor_sees_own_trials_in_every_state_with_review_comments(w):
    made = {in_state(w, s)["id"]: STATUS_AFTER[s] for s in STATUS_AFTER}
    mine = w.api.get("/trials", w.owner.token).json()
    assert {t["id"]: t["status"] for t in mine["items"]} == made and mine["total"] == 5
    for trial_id, status in made.items():
        seen = w.api.get(f"/trials/{trial_id}", w.owner.token).json()
        reviewed = status in ("accepted", "rejected", "revision_requested")
        assert [r["comment"] for r in seen["reviews"]] == (["looks fine"] if reviewed else [])


def test_amend_creates_a_new_draft_and_its_acceptance_supersedes_the_old(w):
    old = in_state(w, "accept")
    response = w.api.post(f"/trials/{old['id']}/amend", w.owner.token)
    assert response.status_code == 201, response.text
    new = response.json()
    assert (new["status"], new["version"], new["previous_id"]) == ("draft", 2, old["id"])
    assert new["checks"] == old["checks"] and new["reviews"] == []
    problem(w.api.post(f"/trials/{old['id']}/amend", w.owner.token), 409)
    assert w.api.get(f"/trials/{old['id']}", None).json()["status"] == "accepted"
    step(w, new["id"], "submit")
    step(w, new["id"], "accept")
    assert w.api.get(f"/trials/{old['id']}", None).json()["status"] == "superseded"
    assert w.api.get(f"/trials/{new['id']}", None).json()["status"] == "accepted"


def test_amending_a_trial_that_is_not_accepted_is_a_409(w):
    problem(w.api.post(f"/trials/{create(w)['id']}/amend", w.owner.token), 409)


# --- audit ------------------------------------------------------------------


def test_audit_shows_create_submit_accept_newest_first_with_actors(w):
    trial = in_state(w, "accept")
    params = {"entity": "trial", "entity_id": trial["id"]}
    response = w.api.get("/audit", w.reviewer.token, params=params)
    assert response.status_code == 200, response.text
    events = response.json()["items"]
    assert [e["action"] for e in events] == ["accept", "submit", "create"]
    assert all(e["entity"] == "trial" and e["entity_id"] == trial["id"] for e in events)
    owner = {"id": w.owner.id, "name": "Ciqtek engineer", "role": "vendor"}
    reviewer = {"id": w.reviewer.id, "name": "Reviewer Wang", "role": "reviewer"}
    assert [e["actor"] for e in events] == [reviewer, owner, owner]
    assert all(e["at"].endswith("Z") for e in events)


@pytest.mark.parametrize("field", ["site", "started_on", "ended_on", "checks", "illustrative"])
def test_null_for_a_trial_field_that_cannot_be_empty_is_a_400_and_nothing_changes(w, field):
    trial = create(w)
    response = w.api.patch(f"/trials/{trial['id']}", w.owner.token, json={field: None})
    invalid(response, field)
    assert w.api.get(f"/trials/{trial['id']}", w.owner.token).json() == trial


@pytest.mark.parametrize("field", ["paired", "uptime_pct", "summary", "reference_product_id"])
def test_null_clears_a_trial_field_that_may_be_empty(w, field):
    trial = create(w, paired=pairs([1.0, 2.0, 3.0, 4.0], [1.1, 2.1, 2.9, 4.2]))
    response = w.api.patch(f"/trials/{trial['id']}", w.owner.token, json={field: None})
    assert response.status_code == 200, response.text
    assert response.json()[field] is None
