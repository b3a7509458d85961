"""Substitution lists on the bundled data: generation, visibility, publishing, diffs, exports,
criteria thresholds and the audit trail."""

import calendar
import csv
import io
import json
from collections import Counter
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

SEED = Path(__file__).resolve().parents[2] / "seed"
VENDORS, FEEDBACK, TRIALS = (
    json.loads((SEED / f"{name}.json").read_text(encoding="utf-8"))
    for name in ("vendors", "feedback", "trials")
)
VENDORS = {v["slug"]: v for v in VENDORS}
AGILENT_1260 = ("agilent", "1260 Infinity II")
LC_660 = ("hanon", "LC-660")
ICHROM = ("elite", "iChrom 5100")
FL_UP700 = ("fuli", "FL-UP700")


@pytest.fixture
def w(seeded):
    """The bundled data, product ids by (vendor, model), and a reviewer."""
    items = seeded.get("/products", params={"limit": 200}).json()["items"]
    return SimpleNamespace(
        api=seeded,
        ids={(p["vendor"], p["model"]): p["id"] for p in items},
        reviewer=seeded.user("reviewer", name="Reviewer Wang"),
    )


def generate(w, label="HPLC 2026", **criteria):
    body = {"label": label, "categories": ["hplc"], "min_grade": "C", **criteria}
    response = w.api.post("/substitution-lists", w.reviewer, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def graded(w, entries):
    names = {v: k for k, v in w.ids.items()}
    return [(names[e["product"]["id"]], e["grade"]) for e in entries]


def is_problem(response, status):
    return (
        response.status_code == status
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["status"] == status
    )


def diff(w, list_id, against):
    path = f"/substitution-lists/{list_id}/diff"
    response = w.api.get(path, w.reviewer, params={"against": against})
    assert response.status_code == 200, response.text
    return response.json()


def accept_fuli_trial(w):
    """FL-UP700 gets an accepted trial with passing checks against the Agilent 1260."""
    vendor = w.api.user("vendor", vendor="fuli")
    check = {"metric": "retention time RSD", "unit": "%", "candidate": 0.1, "reference": 0.08,
             "criterion": {"op": "le", "value": 0.5}}  # fmt: skip
    trial = {"product_id": w.ids[FL_UP700], "reference_product_id": w.ids[AGILENT_1260],
             "site": {"institution": "Test Institute", "lab": "QC", "city": "Hangzhou"},
             "started_on": "2026-09-01", "ended_on": "2026-10-31", "checks": [check],
             "uptime_pct": 99.0, "failures": 0, "service_response_hours": 12,
             "summary": "Two months of routine assays."}  # fmt: skip
    created = w.api.post("/trials", vendor, json=trial)
    assert created.status_code == 201, created.text
    trial_id = created.json()["id"]
    submitted = w.api.post(f"/trials/{trial_id}/submit", vendor)
    assert submitted.status_code in (200, 201), submitted.text
    review = {"decision": "accept", "comment": "Checks verified."}
    accepted = w.api.post(f"/trials/{trial_id}/review", w.reviewer, json=review)
    assert accepted.status_code in (200, 201), accepted.text
    assert accepted.json()["status"] == "accepted"


def test_reviewer_generates_a_draft_list_of_graded_entries(w):
    body = generate(w)

    assert body["status"] == "draft"
    assert body["published_at"] is None
    assert body["criteria"]["label"] == "HPLC 2026"
    assert body["criteria"]["min_grade"] == "C"
    assert graded(w, body["entries"]) == [(LC_660, "A"), (ICHROM, "B"), (FL_UP700, "C")]
    for entry in body["entries"]:
        assert entry["category"] == "hplc"
        assert {"id", "vendor", "model", "name", "specs"} <= set(entry["product"])
        assert entry["grade"] == min(r["grade"] for r in entry["replaces"])
        for replaced in entry["replaces"]:
            assert replaced["reference"]["domestic"] is False
            assert replaced["grade"] in ("A", "B", "C")
        assert {"trials", "feedback", "service"} <= set(entry["evidence"])
    hanon = body["entries"][0]
    by_reference = {r["reference"]["id"]: r["grade"] for r in hanon["replaces"]}
    assert by_reference[w.ids[AGILENT_1260]] == "A"


def test_duplicate_label_is_a_409(w):
    generate(w, label="Same label")

    response = w.api.post("/substitution-lists", w.reviewer, json={"label": "Same label"})

    assert is_problem(response, 409)
    assert "Same label" in response.json()["detail"]


def test_unknown_category_is_a_400(w):
    body = {"label": "Nope", "categories": ["no-such-category"]}

    assert is_problem(w.api.post("/substitution-lists", w.reviewer, json=body), 400)


@pytest.mark.parametrize(
    ("role", "vendor", "status"),
    [(None, None, 401), ("purchaser", None, 403), ("vendor", "hanon", 403)],
)
def test_only_staff_generate_lists(w, role, vendor, status):
    token = w.api.user(role, vendor=vendor) if role else None

    response = w.api.post("/substitution-lists", token, json={"label": "Not mine"})

    assert is_problem(response, status)


def test_drafts_are_invisible_outside_staff(w):
    draft = generate(w)
    purchaser = w.api.user("purchaser")

    for token in (None, purchaser):
        assert is_problem(w.api.get(f"/substitution-lists/{draft['id']}", token), 404)
        listing = w.api.get("/substitution-lists", token)
        assert listing.status_code == 200
        assert draft["id"] not in [item["id"] for item in listing.json()["items"]]
    staff = w.api.get("/substitution-lists", w.reviewer).json()
    assert [item["id"] for item in staff["items"]] == [draft["id"]]


def test_publishing_freezes_the_list_and_shows_it_to_everyone(w):
    draft = generate(w)

    response = w.api.post(f"/substitution-lists/{draft['id']}/publish", w.reviewer)

    assert response.status_code == 200, response.text
    published = response.json()
    assert published["status"] == "published"
    assert published["published_at"].endswith("Z")
    assert published["entries"] == draft["entries"]
    public = w.api.get(f"/substitution-lists/{draft['id']}")
    assert (public.status_code, public.json()["status"]) == (200, "published")
    listing = w.api.get("/substitution-lists").json()
    assert [item["id"] for item in listing["items"]] == [draft["id"]]


def test_a_published_list_cannot_be_published_again_or_deleted(w):
    list_id = generate(w)["id"]
    w.api.post(f"/substitution-lists/{list_id}/publish", w.reviewer)

    again = w.api.post(f"/substitution-lists/{list_id}/publish", w.reviewer)
    deleted = w.api.delete(f"/substitution-lists/{list_id}", w.reviewer)

    assert is_problem(again, 409)
    assert is_problem(deleted, 409)
    assert w.api.get(f"/substitution-lists/{list_id}").status_code == 200


def test_a_draft_can_be_deleted(w):
    list_id = generate(w)["id"]

    response = w.api.delete(f"/substitution-lists/{list_id}", w.reviewer)

    assert response.status_code == 204
    assert response.content == b""
    assert is_problem(w.api.get(f"/substitution-lists/{list_id}", w.reviewer), 404)


def test_diff_shows_entries_added_and_removed_between_lists(w):
    strict = generate(w, label="Drop-in only", min_grade="A")
    broad = generate(w, label="Everything", min_grade="C")

    added = diff(w, broad["id"], against=strict["id"])
    removed = diff(w, strict["id"], against=broad["id"])

    assert graded(w, added["added"]) == [(ICHROM, "B"), (FL_UP700, "C")]
    assert (added["removed"], added["changed"]) == ([], [])
    assert graded(w, removed["removed"]) == [(ICHROM, "B"), (FL_UP700, "C")]
    assert (removed["added"], removed["changed"]) == ([], [])


def test_diff_shows_a_grade_raised_by_a_newly_accepted_trial(w):
    before = generate(w, label="Before")
    accept_fuli_trial(w)
    after = generate(w, label="After")

    changes = diff(w, after["id"], against=before["id"])

    assert (changes["added"], changes["removed"]) == ([], [])
    assert [(c["product"]["id"], c["from"], c["to"]) for c in changes["changed"]] == [
        (w.ids[FL_UP700], "C", "B")
    ]


def test_a_published_list_keeps_its_snapshot_after_new_evidence(w):
    published = generate(w, label="Frozen")
    w.api.post(f"/substitution-lists/{published['id']}/publish", w.reviewer)
    frozen = w.api.get(f"/substitution-lists/{published['id']}").json()

    accept_fuli_trial(w)
    later = w.api.get(f"/substitution-lists/{published['id']}")

    assert later.status_code == 200
    assert later.json() == frozen
    assert (FL_UP700, "C") in graded(w, later.json()["entries"])


def export(w, list_id, fmt):
    response = w.api.get(
        f"/substitution-lists/{list_id}/export", w.reviewer, params={"format": fmt}
    )
    assert response.status_code == 200, response.text
    return response


def assert_one_row_per_entry(header, rows, entries, cast):
    """Each row shows the entry's category, product, vendor, grade, references and evidence."""
    assert len(rows) == len(entries)
    for row, entry in zip(rows, entries, strict=True):
        value = dict(zip(header, row, strict=True))
        assert value["category"] == "hplc"
        assert value["product_id"] == cast(entry["product"]["id"])
        assert value["grade"] == entry["grade"]
        assert value["vendor_zh"] == VENDORS[entry["product"]["vendor"]]["name_zh"]
        assert value["feedback_count"] == cast(entry["evidence"]["feedback"]["count"])
        assert value["accepted_trials"] == cast(len(entry["evidence"]["trials"]))
        for replaced in entry["replaces"]:
            assert replaced["reference"]["model"] in value["replaces"]
    assert "overall_rating" in header


def test_csv_export_is_utf8_with_a_bom_and_one_row_per_entry(w):
    body = generate(w)

    response = export(w, body["id"], "csv")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert_one_row_per_entry(header, rows, body["entries"], str)
    assert VENDORS["fuli"]["name_zh"] in text  # 浙江福立…, readable as UTF-8


def test_xlsx_export_is_a_workbook_with_evidence_columns(w):
    body = generate(w)

    workbook = openpyxl.load_workbook(io.BytesIO(export(w, body["id"], "xlsx").content))

    header, *rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert_one_row_per_entry(header, rows, body["entries"], lambda v: v)


def test_json_export_is_the_list(w):
    body = generate(w)

    exported = export(w, body["id"], "json")

    assert exported.json() == w.api.get(f"/substitution-lists/{body['id']}", w.reviewer).json()


def months_ago(day, months):
    """`months` calendar months before `day`, clamped to the end of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@pytest.mark.parametrize("max_age", [1, 600])
def test_trials_older_than_the_maximum_age_do_not_count(w, max_age):
    today = date.today()
    cutoff = months_ago(today, max_age)
    ended = {(t["product"]["vendor"], t["product"]["model"]): t["ended_on"] for t in TRIALS}

    body = generate(w, max_trial_age_months=max_age)

    counts = {k: date.fromisoformat(ended[k]) >= cutoff for k in (LC_660, ICHROM)}
    expected = [
        (LC_660, "A" if counts[LC_660] else "C"),
        (ICHROM, "B" if counts[ICHROM] else "C"),
        (FL_UP700, "C"),
    ]
    assert sorted(graded(w, body["entries"])) == sorted(expected)
    assert body["criteria"]["max_trial_age_months"] == max_age
    assert body["criteria"]["evaluated_on"] == today.isoformat()


def test_min_feedback_keeps_products_with_enough_published_feedback(w):
    published = Counter(
        (f["product"]["vendor"], f["product"]["model"])
        for f in FEEDBACK
        if f["status"] == "published"
    )
    for minimum in (1, 3):
        body = generate(w, label=f"At least {minimum}", min_feedback=minimum)
        kept = [k for k in (LC_660, ICHROM, FL_UP700) if published[k] >= minimum]
        assert [k for k, _ in graded(w, body["entries"])] == kept
    assert kept == [LC_660]


def test_max_service_hours_compares_the_vendors_promised_response(w):
    body = generate(w, max_service_hours=24)

    kept = [
        k for k in (LC_660, ICHROM, FL_UP700) if VENDORS[k[0]]["service"]["response_hours"] <= 24
    ]
    assert [k for k, _ in graded(w, body["entries"])] == kept
    assert ICHROM not in kept  # Elite promises 48 hours


def test_generating_and_publishing_are_audited(w):
    list_id = generate(w)["id"]
    w.api.post(f"/substitution-lists/{list_id}/publish", w.reviewer)

    response = w.api.get(
        "/audit", w.api.admin_token, params={"entity": "substitution_list", "entity_id": list_id}
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["action"] for i in items] == ["publish", "generate"]
    for item in items:
        assert (item["entity"], item["entity_id"]) == ("substitution_list", list_id)
        assert item["actor"]["name"] == "Reviewer Wang"
        assert item["actor"]["role"] == "reviewer"
