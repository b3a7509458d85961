"""Diff reasons from stored entries and the catalogue as it is now, one reason at a time."""

from datetime import date

import pytest

from instcat.substitution.diff_reasons import Reasons, rule_version
from instcat.substitution.evidence_rows import Now
from instcat.substitution.schemas import Entry
from tests.unit.test_list_build import product

CRITERIA = {"label": "A", "min_grade": "C", "evaluated_on": "2026-12-01", "grading_rule": 2}
SPECS = {"max_pressure_bar": 600, "solvent_channels": 4}


def entry(grade="B", trials=(), caveats=(), pressure=600):
    shown = product(2, "hanon", pressure)
    reference = product(1, "agilent", 600)
    return Entry(
        category="hplc",
        product=shown,
        grade=grade,
        replaces=[
            {
                "reference": reference,
                "grade": grade,
                "basis": "direct",
                "caveats": list(caveats),
                "why": [],
                "specs": [],
                "gaps": [],
            }
        ],
        evidence={
            "trials": [
                {
                    "id": tid,
                    "status": "accepted",
                    "all_checks_passed": True,
                    "equivalent": True,
                    "ended_on": ended,
                    "reference_product_id": 1,
                    "counts": True,
                }
                for tid, ended in trials
            ],
            "accepted_trials": len(trials),
            "feedback": {"count": 0, "mean": {}, "overall": None},
            "service": {"response_hours": None, "regions": []},
        },
    )


def now(status="active", vendor_cn=True, made_cn=True, specs=None, trials=None, failed=None):
    return Now(
        products={2: (status, vendor_cn, made_cn, specs or SPECS)},
        trials=trials or {},
        not_equivalent=failed or {},
    )


def reasons(state, this=CRITERIA, against=CRITERIA, rule="vendor"):
    return Reasons(this, {**against, "label": "B"}, rule, state)


def test_a_discontinued_product_is_named_so():
    assert reasons(now(status="discontinued")).removed(entry()) == ["discontinued"]


def test_a_product_gone_from_the_catalogue_counts_as_discontinued():
    gone = Now(products={}, trials={}, not_equivalent={})
    assert reasons(gone).removed(entry()) == ["discontinued"]


@pytest.mark.parametrize(
    ("rule", "vendor_cn", "made_cn"), [("vendor", False, True), ("manufacture", True, False)]
)
def test_a_product_no_longer_domestic_under_the_lists_rule(rule, vendor_cn, made_cn):
    state = now(vendor_cn=vendor_cn, made_cn=made_cn)
    assert reasons(state, rule=rule).removed(entry()) == ["no_longer_domestic"]


def test_changed_specs_are_named():
    assert reasons(now(specs={**SPECS, "max_pressure_bar": 400})).removed(entry()) == [
        "spec_changed"
    ]
    later = entry(grade="C", pressure=400)
    assert reasons(now()).changed(entry(), later) == ["spec_changed", "grade_down"]


def test_a_superseded_trial_is_named():
    state = now(trials={10: ("superseded", date(2026, 1, 1))})
    assert reasons(state).removed(entry(trials=[(10, "2026-01-01")])) == ["evidence_superseded"]


def test_a_trial_older_than_the_lists_maximum_age_has_expired():
    strict = {**CRITERIA, "max_trial_age_months": 12}
    state = now(trials={10: ("accepted", date(2025, 6, 30))})
    before = entry(trials=[(10, "2025-06-30")])
    assert reasons(state, this=strict, against=strict).removed(before) == ["evidence_expired"]
    # Within the age it has not expired: the removal has another cause.
    assert reasons(now(trials={10: ("accepted", date(2026, 6, 30))}), strict, strict).removed(
        entry(trials=[(10, "2026-06-30")])
    ) == ["grade_down"]


def test_a_new_failed_trial_is_named_not_equivalent():
    assert reasons(now(failed={2: {11}})).removed(entry(trials=[(10, "2026-01-01")])) == [
        "not_equivalent"
    ]
    # A failed trial the older list had counted already is no news.
    assert reasons(now(failed={2: {10}})).removed(entry(trials=[(10, "2026-01-01")])) == [
        "grade_down"
    ]


def test_a_grade_raised_by_a_new_trial():
    before = entry(grade="C")
    after = entry(grade="B", trials=[(12, "2026-11-01")])
    assert reasons(now()).changed(before, after) == ["evidence_added", "grade_up"]


def test_a_grade_lowered_by_a_failed_trial():
    before = entry(grade="A", trials=[(10, "2026-01-01")])
    after = entry(
        grade="B", trials=[(10, "2026-01-01"), (11, "2026-11-01")], caveats=["not_equivalent"]
    )
    assert reasons(now()).changed(before, after) == [
        "evidence_added",
        "not_equivalent",
        "grade_down",
    ]


def test_different_criteria_and_rule_versions_are_named_after_the_entry_reasons():
    older = {k: v for k, v in CRITERIA.items() if k != "grading_rule"}
    stricter = {**CRITERIA, "min_grade": "B"}
    assert reasons(now(), this=stricter, against=older).removed(entry()) == [
        "grade_down",
        "criteria_changed",
        "rule_changed",
    ]


def test_lists_without_a_rule_version_were_built_under_the_first_rule():
    assert rule_version({}) == 1
    assert rule_version(CRITERIA) == 2
