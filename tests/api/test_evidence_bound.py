"""Evidence-bound grades through the API, on the bundled data and both databases: the same
basis, grade, caveats and why for a (candidate, reference) pair in /alternatives, in a list
entry and in a diff; a failed trial against a reference; diff reasons."""

from types import SimpleNamespace

import pytest

BASES = {"direct", "indirect", "checks_only", "none"}
CAVEATS = [
    "spec_gaps",
    "indirect_evidence",
    "checks_only",
    "few_pairs",
    "proportional_bias",
    "constant_bias",
    "nonlinear",
    "single_site",
    "not_equivalent",
]


@pytest.fixture
def w(seeded):
    """The bundled HPLC products, their imported references and a reviewer."""
    items = seeded.get("/products", params={"category": "hplc", "limit": 200}).json()["items"]
    return SimpleNamespace(
        api=seeded,
        products={p["id"]: p for p in items},
        references=[p["id"] for p in items if not p["domestic"]],
        reviewer=seeded.user("reviewer", name="Reviewer Li"),
    )


def alternatives(w, reference, lang="zh"):
    params = {"reference": reference, "limit": 200, "lang": lang}
    response = w.api.get("/alternatives", params=params)
    assert response.status_code == 200, response.text
    return {c["product"]["id"]: c for c in response.json()["candidates"]}


def explained(item):
    return {k: item[k] for k in ("grade", "basis", "caveats", "why")}


def generate(w, label, lang="zh", **criteria):
    body = {"label": label, "categories": ["hplc"], "min_grade": "C", **criteria}
    created = w.api.post("/substitution-lists", w.reviewer, json=body)
    assert created.status_code == 201, created.text
    response = w.api.get(
        f"/substitution-lists/{created.json()['id']}",
        w.reviewer,
        params={"limit": 200, "lang": lang},
    )
    assert response.status_code == 200, response.text
    return response.json()


def pairs_in(listed):
    """(candidate id, reference id) → the replaces item, for every entry of a list."""
    return {
        (e["product"]["id"], r["reference"]["id"]): r
        for e in listed["entries"]
        for r in e["replaces"]
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_pair_has_the_same_basis_grade_caveats_and_why_in_alternatives_and_lists(w, lang):
    listed = pairs_in(generate(w, f"HPLC {lang}", lang=lang))
    seen_bases = set()
    compared = 0
    for reference in w.references:
        for pid, candidate in alternatives(w, reference, lang).items():
            assert candidate["basis"] in BASES
            assert candidate["caveats"] == [c for c in CAVEATS if c in candidate["caveats"]]
            assert candidate["why"] and all(isinstance(s, str) for s in candidate["why"])
            assert explained(listed[(pid, reference)]) == explained(candidate)
            seen_bases.add(candidate["basis"])
            compared += 1
    assert compared == len(listed)  # every graded pair is on a list with min_grade C
    assert "none" in seen_bases and len(seen_bases) >= 2


def test_why_is_chinese_by_default_and_english_on_request(w):
    reference = w.references[0]
    zh = alternatives(w, reference)
    en = alternatives(w, reference, "en")
    for pid, candidate in zh.items():
        assert candidate["why"][0].startswith("等级 " + candidate["grade"])
        assert en[pid]["why"][0].startswith("Grade " + en[pid]["grade"])


def test_an_unknown_language_is_a_400(w):
    params = {"reference": w.references[0], "lang": "fr"}
    assert w.api.get("/alternatives", params=params).status_code == 400


def _fail_a_trial(w, candidate_id, reference_id):
    """An accepted split-sample trial of the candidate against the reference that shows a
    large bias (not equivalent)."""
    vendor = w.api.user("vendor", vendor=w.products[candidate_id]["vendor"])
    reference = [10.0, 12.5, 15.1, 18.0, 21.2, 25.3, 30.4, 36.0, 41.8, 48.9]
    trial = {
        "product_id": candidate_id,
        "reference_product_id": reference_id,
        "site": {"institution": "Test Institute", "lab": "QC", "city": "Hangzhou"},
        "started_on": "2026-10-01",
        "ended_on": "2026-11-30",
        "checks": [],
        "paired": {
            "analyte": "caffeine",
            "unit": "mg/L",
            "candidate": [round(v * 1.25, 2) for v in reference],
            "reference": reference,
            "margin": 0.5,
        },
        "summary": "Split samples that disagree.",
    }
    created = w.api.post("/trials", vendor, json=trial)
    assert created.status_code == 201, created.text
    assert created.json()["statistics"]["tost"]["equivalent"] is False
    trial_id = created.json()["id"]
    assert w.api.post(f"/trials/{trial_id}/submit", vendor).status_code == 200
    review = {"decision": "accept", "comment": "Results as reported."}
    accepted = w.api.post(f"/trials/{trial_id}/review", w.reviewer, json=review)
    assert accepted.status_code == 200, accepted.text


def _best_pair(w):
    """The (candidate, reference) graded best on the bundled data."""
    best = None
    for reference in w.references:
        for pid, candidate in alternatives(w, reference).items():
            rank = "ABC".index(candidate["grade"])
            if best is None or rank < best[0]:
                best = (rank, pid, reference)
    assert best is not None
    return best[1], best[2]


def test_a_failed_trial_against_the_reference_makes_it_c_everywhere_with_reasons(w):
    candidate_id, reference_id = _best_pair(w)
    before = generate(w, "Before")
    before_entry = next(e for e in before["entries"] if e["product"]["id"] == candidate_id)

    _fail_a_trial(w, candidate_id, reference_id)

    answer = alternatives(w, reference_id)[candidate_id]
    assert answer["grade"] == "C"
    assert answer["caveats"][-1] == "not_equivalent"
    assert "TOST" in answer["why"][0]
    after = generate(w, "After")
    assert explained(pairs_in(after)[(candidate_id, reference_id)]) == explained(answer)
    after_entry = next(e for e in after["entries"] if e["product"]["id"] == candidate_id)
    found = w.api.get(
        f"/substitution-lists/{after['id']}/diff", w.reviewer, params={"against": before["id"]}
    ).json()
    changes = {c["product"]["id"]: c for c in found["changed"]}
    if after_entry["grade"] != before_entry["grade"]:
        change = changes[candidate_id]
        assert (change["from"], change["to"]) == (before_entry["grade"], after_entry["grade"])
        assert change["reasons"] == ["evidence_added", "not_equivalent", "grade_down"]
    else:
        assert candidate_id not in changes


def test_a_discontinued_product_leaves_the_next_list_with_that_reason(w):
    before = generate(w, "Before")
    leaving = before["entries"][0]["product"]
    owner = w.api.user("vendor", vendor=leaving["vendor"])
    changed = w.api.patch(f"/products/{leaving['id']}", owner, json={"status": "discontinued"})
    assert changed.status_code == 200, changed.text

    after = generate(w, "After")
    found = w.api.get(
        f"/substitution-lists/{after['id']}/diff", w.reviewer, params={"against": before["id"]}
    ).json()

    removed = {e["product"]["id"]: e for e in found["removed"]}
    assert removed[leaving["id"]]["reasons"] == ["discontinued"]
    # The diff shows each pair as the list (and /alternatives then) graded it.
    listed = pairs_in(before)
    for item in removed[leaving["id"]]["replaces"]:
        assert item["basis"] in BASES
        assert explained(item) == explained(listed[(leaving["id"], item["reference"]["id"])])


def test_a_diff_between_lists_with_different_criteria_says_so(w):
    strict = generate(w, "Strict", min_grade="B")
    broad = generate(w, "Broad", min_grade="C")

    found = w.api.get(
        f"/substitution-lists/{strict['id']}/diff", w.reviewer, params={"against": broad["id"]}
    ).json()

    assert found["removed"]
    for entry in found["removed"]:
        assert entry["grade"] == "C"
        assert entry["reasons"] == ["grade_down", "criteria_changed"]
