"""Substitution grades from plain values: spec comparison, trial evidence and the A/B/C verdict."""

from dataclasses import replace
from datetime import date

import pytest

from instcat.catalogue.specs import SpecDef
from instcat.substitution.grading import (
    TrialEvidence,
    best_grade,
    compare_specs,
    grade,
    meets_minimum,
    months_before,
    spec_meets,
)

PRESSURE = SpecDef("max_pressure_bar", "number", "higher_better", critical=True, unit="bar")
DETECTORS = SpecDef("detectors", "set", "includes", critical=True)
PRECISION = SpecDef("flow_precision_rsd_pct", "number", "lower_better", unit="%")
CHANNELS = SpecDef("solvent_channels", "number", "higher_better", unit="channels")
DEFINITIONS = [PRESSURE, DETECTORS, PRECISION, CHANNELS]
REFERENCE_ID = 7
REFERENCE = {
    "max_pressure_bar": 600,
    "detectors": ["UV", "DAD"],
    "flow_precision_rsd_pct": 0.07,
    "solvent_channels": 4,
}
PASSED = TrialEvidence(
    id=1,
    status="accepted",
    check_count=2,
    all_checks_passed=True,
    has_paired=False,
    equivalent=None,
    ended_on=date(2026, 3, 31),
    reference_product_id=REFERENCE_ID,
)
# Split samples against REFERENCE: equivalent, 45 pairs, no proportional bias, linear.
DIRECT = replace(
    PASSED,
    id=3,
    check_count=0,
    has_paired=True,
    equivalent=True,
    pairs=45,
    proportional_bias=False,
    constant_bias=False,
    linear=True,
)


def candidate(**overrides):
    """A candidate that meets every spec of REFERENCE unless told otherwise."""
    specs = {**REFERENCE, "max_pressure_bar": 660, "detectors": ["UV", "DAD", "FLD"]}
    specs.update(overrides)
    return {k: v for k, v in specs.items() if v is not None}


def verdict_for(specs, trials=(PASSED,)):
    return grade(DEFINITIONS, specs, REFERENCE, list(trials), REFERENCE_ID)


def test_candidate_meeting_every_spec_with_direct_split_samples_is_grade_a():
    verdict = verdict_for(candidate(), trials=[DIRECT])

    assert verdict.grade == "A"
    assert verdict.gaps == []
    assert verdict.reasons == []
    assert [c.status for c in verdict.specs] == ["meets"] * 4


def test_candidate_meeting_every_spec_with_checks_only_is_grade_b():
    verdict = verdict_for(candidate())

    assert verdict.grade == "B"
    assert verdict.explained()["basis"] == "checks_only"


def test_non_critical_shortfall_with_a_qualifying_trial_is_grade_b_listing_the_gap():
    verdict = verdict_for(candidate(flow_precision_rsd_pct=0.1), trials=[DIRECT])

    assert verdict.grade == "B"
    assert verdict.gaps == ["flow_precision_rsd_pct"]
    shortfall = next(c for c in verdict.specs if c.key == "flow_precision_rsd_pct")
    assert (shortfall.candidate, shortfall.reference, shortfall.status) == (
        0.1,
        0.07,
        "falls_short",
    )


def test_candidate_meeting_every_spec_without_a_qualifying_trial_is_grade_c():
    assert verdict_for(candidate(), trials=[]).grade == "C"
    assert verdict_for(candidate(), trials=[replace(PASSED, status="submitted")]).grade == "C"


def test_critical_spec_falling_short_excludes_and_the_reason_names_the_spec():
    verdict = verdict_for(candidate(max_pressure_bar=400))

    assert verdict.grade is None
    assert len(verdict.reasons) == 1
    assert "max_pressure_bar" in verdict.reasons[0]
    assert "falls short" in verdict.reasons[0]
    assert "400" in verdict.reasons[0] and "600" in verdict.reasons[0]


def test_unknown_critical_spec_excludes_and_the_reason_names_the_spec():
    verdict = verdict_for(candidate(detectors=None))

    assert verdict.grade is None
    assert len(verdict.reasons) == 1
    assert "detectors" in verdict.reasons[0]
    assert "unknown" in verdict.reasons[0]
    unknown = next(c for c in verdict.specs if c.key == "detectors")
    assert (unknown.candidate, unknown.status) == (None, "unknown")


def test_every_failing_critical_spec_gets_its_own_reason():
    verdict = verdict_for(candidate(max_pressure_bar=100, detectors=["UV"]))

    assert verdict.grade is None
    assert len(verdict.reasons) == 2
    assert "max_pressure_bar" in verdict.reasons[0]
    assert "detectors" in verdict.reasons[1]


def test_unknown_non_critical_spec_is_a_gap_so_the_best_grade_is_b():
    verified = verdict_for(candidate(solvent_channels=None))
    unverified = verdict_for(candidate(solvent_channels=None), trials=[])

    assert (verified.grade, verified.gaps) == ("B", ["solvent_channels"])
    assert (unverified.grade, unverified.gaps) == ("C", ["solvent_channels"])


@pytest.mark.parametrize(
    ("spec", "cand", "ref", "meets"),
    [
        (PRESSURE, 700, 600, True),
        (PRESSURE, 600, 600, True),
        (PRESSURE, 599.9, 600, False),
        (PRECISION, 0.05, 0.07, True),
        (PRECISION, 0.07, 0.07, True),
        (PRECISION, 0.08, 0.07, False),
        (SpecDef("field_t", "number", "equals"), 0.1 + 0.2, 0.3, True),
        (SpecDef("field_t", "number", "equals"), 9.4, 9.4000000001, True),
        (SpecDef("field_t", "number", "equals"), 9.4, 9.41, False),
        (SpecDef("field_t", "number", "equals"), 11.7, 9.4, False),
        (DETECTORS, ["uv", " Dad ", "FLD"], ["UV", "DAD"], True),
        (DETECTORS, ["UV"], ["UV", "DAD"], False),
        (SpecDef("nuclei", "set", "equals"), ["1h", "13C"], ["1H", "13c"], True),
        (SpecDef("nuclei", "set", "equals"), ["1H", "13C", "19F"], ["1H", "13C"], False),
        (SpecDef("optics", "text", "equals"), "Double Beam ", "double beam", True),
        (SpecDef("optics", "text", "equals"), "single beam", "double beam", False),
    ],
)
def test_spec_meets_follows_the_direction_of_the_spec(spec, cand, ref, meets):
    assert spec_meets(spec, cand, ref) is meets


def test_only_specs_the_reference_has_a_value_for_are_compared():
    comparisons = compare_specs(
        DEFINITIONS,
        {"max_pressure_bar": 700, "solvent_channels": 2, "flow_precision_rsd_pct": 0.01},
        {"max_pressure_bar": 600, "solvent_channels": 4},
    )

    assert [c.as_dict() for c in comparisons] == [
        {
            "key": "max_pressure_bar",
            "critical": True,
            "candidate": 700,
            "reference": 600,
            "status": "meets",
        },
        {
            "key": "solvent_channels",
            "critical": False,
            "candidate": 2,
            "reference": 4,
            "status": "falls_short",
        },
    ]


@pytest.mark.parametrize(
    ("changes", "counts"),
    [
        ({}, True),
        ({"check_count": 0, "has_paired": True, "equivalent": True}, True),
        ({"has_paired": True, "equivalent": True}, True),
        ({"status": "superseded"}, False),
        ({"status": "rejected"}, False),
        ({"status": "submitted"}, False),
        ({"all_checks_passed": False}, False),
        ({"check_count": 0}, False),
        ({"has_paired": True, "equivalent": False}, False),
        ({"has_paired": True, "equivalent": None}, False),
    ],
)
def test_a_trial_counts_only_when_accepted_with_passing_results(changes, counts):
    trial = replace(PASSED, **changes)

    assert trial.qualifies is counts
    assert trial.as_dict()["counts"] is counts
    assert verdict_for(candidate(), trials=[trial]).grade == ("B" if counts else "C")


def test_one_qualifying_trial_among_failing_ones_is_enough():
    failing = replace(DIRECT, id=2, all_checks_passed=False)

    assert verdict_for(candidate(), trials=[failing, DIRECT]).grade == "A"


def test_trials_against_this_reference_are_listed_first_then_newest_first():
    other_new = replace(PASSED, id=10, reference_product_id=99, ended_on=date(2026, 9, 30))
    this_old = replace(PASSED, id=11, ended_on=date(2025, 6, 30))
    this_new = replace(PASSED, id=12, ended_on=date(2026, 1, 31))
    no_reference = replace(PASSED, id=13, reference_product_id=None, ended_on=date(2026, 8, 1))

    verdict = verdict_for(candidate(), trials=[other_new, this_old, no_reference, this_new])

    assert [t.id for t in verdict.trials] == [12, 11, 10, 13]


def test_split_samples_against_another_imported_model_support_only_grade_b():
    # An equivalent trial against an Agilent does not make the product A against a Waters.
    elsewhere = replace(DIRECT, reference_product_id=99)
    verdict = grade(DEFINITIONS, candidate(), REFERENCE, [elsewhere], REFERENCE_ID, {99, 7})

    assert verdict.grade == "B"
    assert verdict.explained()["basis"] == "indirect"
    assert verdict.explained()["caveats"] == ["indirect_evidence", "single_site"]


@pytest.mark.parametrize(
    ("grades", "best"),
    [(["C", "A", "B"], "A"), (["C", "B"], "B"), (["C"], "C"), ([], None), (["X", "C"], "C")],
)
def test_best_grade_prefers_a_over_b_over_c(grades, best):
    assert best_grade(grades) == best


@pytest.mark.parametrize(
    ("value", "minimum", "meets"),
    [
        ("A", "A", True),
        ("A", "C", True),
        ("B", "A", False),
        ("B", "B", True),
        ("B", "C", True),
        ("C", "B", False),
        ("C", "C", True),
    ],
)
def test_meets_minimum_ranks_a_above_b_above_c(value, minimum, meets):
    assert meets_minimum(value, minimum) is meets


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 5, 15), 1, date(2026, 4, 15)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2026, 5, 31), 3, date(2026, 2, 28)),
        (date(2026, 7, 31), 1, date(2026, 6, 30)),
        (date(2026, 12, 31), 12, date(2025, 12, 31)),
        (date(2026, 11, 29), 25, date(2024, 10, 29)),
        (date(2026, 6, 10), 0, date(2026, 6, 10)),
    ],
)
def test_months_before_clamps_to_the_last_day_of_the_month(day, months, expected):
    assert months_before(day, months) == expected
