"""Graded domestic alternatives on the bundled data: grades, evidence, rules and errors.

Expectations come from the seed files (products, vendors, feedback) wherever they can.
"""

import json
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "seed"
DIMENSIONS = ("performance", "stability", "usability", "service", "value")


def _load(name):
    return json.loads((SEED / name).read_text(encoding="utf-8"))


PRODUCTS = _load("products.json")
VENDORS = {v["slug"]: v for v in _load("vendors.json")}
FEEDBACK = _load("feedback.json")
AGILENT_1260 = ("agilent", "1260 Infinity II")
LC_660 = ("hanon", "LC-660")
ICHROM = ("elite", "iChrom 5100")
FL_UP700 = ("fuli", "FL-UP700")
LC_400 = ("hanon", "LC-400")
WATERS = ("waters", "Alliance e2695")
SHIMADZU = ("shimadzu", "LC-2030C Prominence-i")


def seed_product(key):
    return next(p for p in PRODUCTS if (p["vendor"], p["model"]) == key)


def hplc(predicate):
    return {(p["vendor"], p["model"]) for p in PRODUCTS if p["category"] == "hplc" and predicate(p)}


def vendor_domestic(p):
    return VENDORS[p["vendor"]]["country"] == "CN"


def made_domestic(p):
    return p["made_in"] == "CN"


@pytest.fixture
def ids(seeded):
    """(vendor, model) → product id, for every bundled product."""
    items = seeded.get("/products", params={"limit": 200}).json()["items"]
    assert len(items) == len(PRODUCTS)
    return {(p["vendor"], p["model"]): p["id"] for p in items}


def alternatives(api, **params):
    return api.get("/alternatives", params=params)


def by_key(ids, candidates):
    names = {v: k for k, v in ids.items()}
    return {names[c["product"]["id"]]: c for c in candidates}


def test_candidates_for_agilent_1260_are_graded_best_first(seeded, ids):
    response = alternatives(seeded, reference=ids[AGILENT_1260])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reference"]["id"] == ids[AGILENT_1260]
    assert body["domestic_rule"] == "vendor"
    graded = [(c["product"]["id"], c["grade"]) for c in body["candidates"]]
    # LC-660 has 48 equivalent split samples against the 1260; iChrom 5100's latest split
    # samples against it failed equivalence; FL-UP700 has no trial.
    assert graded == [(ids[LC_660], "A"), (ids[ICHROM], "C"), (ids[FL_UP700], "C")]
    shown = {c["product"]["id"]: (c["basis"], c["caveats"]) for c in body["candidates"]}
    assert shown == {
        ids[LC_660]: ("direct", []),
        ids[ICHROM]: ("checks_only", ["spec_gaps", "checks_only", "single_site", "not_equivalent"]),
        ids[FL_UP700]: ("none", ["spec_gaps"]),
    }


@pytest.mark.parametrize(
    ("reference", "candidate", "grade", "basis", "caveats"),
    [
        (AGILENT_1260, LC_660, "A", "direct", []),
        (WATERS, LC_660, "B", "indirect", ["indirect_evidence"]),
        (SHIMADZU, LC_660, "B", "direct", ["spec_gaps", "few_pairs"]),
        # iChrom 5100's one qualifying trial (checks only) ran at one institution.
        (SHIMADZU, ICHROM, "B", "checks_only", ["spec_gaps", "checks_only", "single_site"]),
        (
            AGILENT_1260,
            ICHROM,
            "C",
            "checks_only",
            ["spec_gaps", "checks_only", "single_site", "not_equivalent"],
        ),
        (AGILENT_1260, FL_UP700, "C", "none", ["spec_gaps"]),
    ],
)
def test_the_bundled_hplc_data_shows_every_basis(
    seeded, ids, reference, candidate, grade, basis, caveats
):
    answer = by_key(ids, alternatives(seeded, reference=ids[reference]).json()["candidates"])
    found = answer[candidate]
    assert (found["grade"], found["basis"], found["caveats"]) == (grade, basis, caveats)


def test_gaps_list_the_non_critical_specs_not_met_or_unknown(seeded, ids):
    reference = seed_product(AGILENT_1260)["specs"]
    candidates = by_key(ids, alternatives(seeded, reference=ids[AGILENT_1260]).json()["candidates"])

    assert candidates[LC_660]["gaps"] == []
    # iChrom's precision and autosampler fall short; FL-UP700 lacks both figures.
    expected = ["flow_precision_rsd_pct", "autosampler_capacity_vials"]
    ichrom = seed_product(ICHROM)["specs"]
    assert ichrom["flow_precision_rsd_pct"] > reference["flow_precision_rsd_pct"]
    assert ichrom["autosampler_capacity_vials"] < reference["autosampler_capacity_vials"]
    assert candidates[ICHROM]["gaps"] == expected
    assert not set(expected) & set(seed_product(FL_UP700)["specs"])
    assert candidates[FL_UP700]["gaps"] == expected
    statuses = {s["key"]: s["status"] for s in candidates[FL_UP700]["specs"]}
    assert [statuses[k] for k in expected] == ["unknown", "unknown"]
    statuses = {s["key"]: s["status"] for s in candidates[ICHROM]["specs"]}
    assert [statuses[k] for k in expected] == ["falls_short", "falls_short"]


def test_product_failing_a_critical_spec_is_excluded_with_the_reason(seeded, ids):
    body = alternatives(seeded, reference=ids[AGILENT_1260]).json()

    excluded = {e["product_id"]: e["reasons"] for e in body["excluded"]}
    assert list(excluded) == [ids[LC_400]]
    assert seed_product(LC_400)["specs"]["max_pressure_bar"] < 600
    assert any("max_pressure_bar" in reason for reason in excluded[ids[LC_400]])
    assert ids[LC_400] not in {c["product"]["id"] for c in body["candidates"]}


def test_each_candidate_shows_its_spec_comparison(seeded, ids):
    reference = seed_product(AGILENT_1260)["specs"]
    candidates = by_key(ids, alternatives(seeded, reference=ids[AGILENT_1260]).json()["candidates"])

    for key, candidate in candidates.items():
        own = seed_product(key)["specs"]
        assert [s["key"] for s in candidate["specs"]] == list(reference)
        for spec in candidate["specs"]:
            assert set(spec) == {"key", "critical", "candidate", "reference", "status"}
            assert spec["reference"] == reference[spec["key"]]
            assert spec["candidate"] == own.get(spec["key"])
    assert {s["status"] for s in candidates[LC_660]["specs"]} == {"meets"}
    critical = {s["key"] for s in candidates[LC_660]["specs"] if s["critical"]}
    assert critical == {"max_pressure_bar", "detectors"}


def test_each_candidate_shows_the_trials_it_rests_on(seeded, ids):
    candidates = by_key(ids, alternatives(seeded, reference=ids[AGILENT_1260]).json()["candidates"])

    # LC-660 has two accepted split-sample trials (against the Agilent 1260 and the
    # Shimadzu LC-2030C), both equivalent.
    hanon_trials = candidates[LC_660]["trials"]
    assert len(hanon_trials) == 2
    for hanon_trial in hanon_trials:
        assert {"id", "status", "all_checks_passed", "equivalent"} <= set(hanon_trial)
        assert hanon_trial["status"] == "accepted"
        assert hanon_trial["all_checks_passed"] is True
        assert hanon_trial["equivalent"] is True  # the bundled trials have split-sample pairs
    # iChrom 5100 has a trial with checks only and a split-sample trial that failed
    # equivalence, both accepted against the Agilent 1260 with every check passed.
    elite_trials = candidates[ICHROM]["trials"]
    assert len(elite_trials) == 2
    for elite_trial in elite_trials:
        assert (elite_trial["status"], elite_trial["all_checks_passed"]) == ("accepted", True)
    assert sorted(t["equivalent"] is None for t in elite_trials) == [False, True]
    assert [t["equivalent"] for t in elite_trials if t["equivalent"] is not None] == [False]
    assert candidates[FL_UP700]["trials"] == []


def test_each_candidate_shows_its_published_feedback_and_service(seeded, ids):
    candidates = by_key(ids, alternatives(seeded, reference=ids[AGILENT_1260]).json()["candidates"])

    for key, candidate in candidates.items():
        published = [
            f["ratings"]
            for f in FEEDBACK
            if (f["product"]["vendor"], f["product"]["model"]) == key and f["status"] == "published"
        ]
        summary = candidate["feedback"]
        assert summary["count"] == len(published)
        if not published:
            assert summary["overall"] is None
            continue
        means = {d: sum(r[d] for r in published) / len(published) for d in DIMENSIONS}
        assert summary["mean"] == pytest.approx(means, abs=1e-3)
        assert summary["overall"] == pytest.approx(sum(means.values()) / 5, abs=1e-3)
        service = VENDORS[key[0]]["service"]
        assert candidate["service"] == {
            "response_hours": service["response_hours"],
            "regions": service["regions"],
        }
    assert candidates[FL_UP700]["feedback"]["count"] == 0  # its only feedback is pending


def test_discontinued_products_are_never_candidates(seeded, ids):
    discontinued = hplc(lambda p: p["status"] == "discontinued")
    assert discontinued  # the bundled data has one (Elite P230)

    for rule in ("vendor", "manufacture"):
        body = alternatives(seeded, reference=ids[AGILENT_1260], domestic_rule=rule).json()
        seen = {c["product"]["id"] for c in body["candidates"]}
        seen |= {e["product_id"] for e in body["excluded"]}
        assert seen == {ids[k] for k in hplc(lambda p, r=rule: _domestic(p, r))} - {
            ids[k] for k in discontinued
        }


def _domestic(p, rule):
    return made_domestic(p) if rule == "manufacture" else vendor_domestic(p)


@pytest.mark.parametrize("rule", ["vendor", "manufacture"])
def test_category_answer_has_one_entry_per_imported_product(seeded, ids, rule):
    response = alternatives(seeded, category="hplc", domestic_rule=rule)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["category"], body["domestic_rule"]) == ("hplc", rule)
    references = [r["reference"]["id"] for r in body["references"]]
    imported = hplc(lambda p: not _domestic(p, rule))
    assert sorted(references) == sorted(ids[k] for k in imported)
    single = alternatives(seeded, reference=ids[AGILENT_1260], domestic_rule=rule).json()
    entry = next(r for r in body["references"] if r["reference"]["id"] == ids[AGILENT_1260])
    assert entry["candidates"] == single["candidates"]
    assert entry["excluded"] == single["excluded"]


def test_manufacture_rule_turns_foreign_products_made_in_china_into_candidates(seeded, ids):
    shimadzu_uv = ("shimadzu", "UV-1780")
    thermo_uv = ("thermo-fisher", "Evolution 201")
    assert seed_product(shimadzu_uv)["made_in"] == "CN"
    assert VENDORS["shimadzu"]["country"] != "CN"

    by_vendor = alternatives(seeded, reference=ids[thermo_uv]).json()
    by_place = alternatives(seeded, reference=ids[thermo_uv], domestic_rule="manufacture").json()

    assert by_place["domestic_rule"] == "manufacture"
    assert ids[shimadzu_uv] not in {c["product"]["id"] for c in by_vendor["candidates"]}
    shimadzu = by_key(ids, by_place["candidates"])[shimadzu_uv]
    assert shimadzu["grade"] == "C"
    assert shimadzu["product"]["domestic"] is False  # still the vendor's country


def test_manufacture_rule_stops_products_made_in_china_being_references(seeded, ids):
    shimadzu_lc = ("shimadzu", "LC-2030C Prominence-i")
    assert seed_product(shimadzu_lc)["made_in"] == "CN"

    assert alternatives(seeded, reference=ids[shimadzu_lc]).status_code == 200
    response = alternatives(seeded, reference=ids[shimadzu_lc], domestic_rule="manufacture")

    assert response.status_code == 400
    assert response.json()["status"] == 400
    body = alternatives(seeded, reference=ids[AGILENT_1260], domestic_rule="manufacture").json()
    excluded = {e["product_id"] for e in body["excluded"]}
    assert ids[shimadzu_lc] in excluded  # 440 bar against 600: a candidate, but short


def test_domestic_reference_is_a_400(seeded, ids):
    response = alternatives(seeded, reference=ids[LC_660])

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "domestic" in body["detail"] + json.dumps(body.get("errors", []))


@pytest.mark.parametrize("params", [{}, {"category": "hplc", "reference": 1}])
def test_exactly_one_of_reference_or_category_is_required(seeded, params):
    response = alternatives(seeded, **params)

    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_unknown_reference_is_a_404(seeded):
    response = alternatives(seeded, reference=999_999)

    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_unknown_category_is_a_404(seeded):
    response = alternatives(seeded, category="no-such-category")

    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_unknown_domestic_rule_is_a_400(seeded, ids):
    response = alternatives(seeded, reference=ids[AGILENT_1260], domestic_rule="assembled")

    assert response.status_code == 400
    assert response.json()["status"] == 400
