"""The grading rule on plain values: basis, grade, caveats, why, and the tables built from it."""

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from instcat.substitution.rules import (
    CAVEATS,
    EVIDENCE_CODES,
    GRADES,
    TrialEvidence,
    basis_of,
    caveat_codes,
    decide,
    evidence_for,
    explained,
    is_domestic,
    why,
)
from instcat.substitution.tables import CAVEAT_TABLE, GRADE_TABLE, CandidateEvidence

R = 7  # the reference asked about
OTHER = 8  # another imported product of its category
IMPORTED = {R, OTHER}

DIRECT = TrialEvidence(
    id=1,
    status="accepted",
    check_count=0,
    all_checks_passed=True,
    has_paired=True,
    equivalent=True,
    ended_on=date(2026, 6, 30),
    reference_product_id=R,
    pairs=45,
    proportional_bias=False,
    constant_bias=False,
    linear=True,
    institution="协和医院",
)
CHECKS = replace(
    DIRECT,
    id=2,
    check_count=3,
    has_paired=False,
    equivalent=None,
    reference_product_id=None,
    pairs=None,
    proportional_bias=None,
    constant_bias=None,
    linear=None,
    institution="华西医院",
)


def outcome(trials, gaps=False, critical_short=False, reference=R):
    """(grade, basis, caveats) of a candidate with these trials against `reference`."""
    evidence = evidence_for(trials, reference, IMPORTED)
    code, mask = decide(evidence, gaps, critical_short)
    grade = None if code == len(GRADES) else GRADES[code]
    return grade, basis_of(evidence), caveat_codes(mask)


def test_direct_split_samples_with_40_pairs_unbiased_and_linear_are_grade_a():
    assert outcome([DIRECT, CHECKS]) == ("A", "direct", [])


def test_exactly_40_pairs_are_enough_and_39_are_few():
    assert outcome([replace(DIRECT, pairs=40), CHECKS])[0] == "A"
    assert outcome([replace(DIRECT, pairs=39), CHECKS]) == ("B", "direct", ["few_pairs"])


def test_a_single_site_is_a_caveat_but_does_not_lower_the_grade():
    assert outcome([DIRECT]) == ("A", "direct", ["single_site"])


def test_non_critical_gaps_keep_direct_evidence_at_b():
    assert outcome([DIRECT, CHECKS], gaps=True) == ("B", "direct", ["spec_gaps"])


def test_a_critical_shortfall_is_not_graded_whatever_the_evidence():
    assert outcome([DIRECT, CHECKS], critical_short=True) == (None, "direct", [])


@pytest.mark.parametrize(
    ("changes", "caveat"),
    [
        ({"proportional_bias": True}, ["proportional_bias"]),
        ({"linear": False}, ["nonlinear"]),
        ({"proportional_bias": None}, []),  # no regression: not A, nothing to flag
        ({"linear": None}, []),
    ],
)
def test_proportional_bias_nonlinearity_or_no_regression_keep_direct_evidence_at_b(changes, caveat):
    assert outcome([replace(DIRECT, **changes), CHECKS]) == ("B", "direct", caveat)


def test_constant_bias_is_a_caveat_that_still_allows_a():
    assert outcome([replace(DIRECT, constant_bias=True), CHECKS]) == (
        "A",
        "direct",
        ["constant_bias"],
    )


def test_the_best_direct_trial_has_the_most_pairs_then_the_latest_end_then_the_highest_id():
    small_clean = replace(DIRECT, id=10, pairs=20)
    large_biased = replace(DIRECT, id=11, pairs=60, proportional_bias=True)
    # The larger trial decides, although the smaller one is clean.
    assert outcome([small_clean, large_biased, CHECKS])[2] == ["proportional_bias"]
    early = replace(DIRECT, id=12, ended_on=date(2026, 1, 1), linear=False)
    late = replace(DIRECT, id=13, ended_on=date(2026, 2, 1))
    assert outcome([early, late, CHECKS]) == ("A", "direct", [])
    low_id = replace(DIRECT, id=14, constant_bias=True)
    high_id = replace(DIRECT, id=15)
    assert outcome([low_id, high_id, CHECKS]) == ("A", "direct", [])


def test_split_samples_against_another_imported_model_are_indirect_b():
    elsewhere = replace(DIRECT, reference_product_id=OTHER)
    assert outcome([elsewhere, CHECKS]) == ("B", "indirect", ["indirect_evidence"])


def test_split_samples_against_no_reference_or_outside_the_category_count_as_checks_only():
    unreferenced = replace(DIRECT, reference_product_id=None)
    outside = replace(DIRECT, reference_product_id=999)
    assert outcome([unreferenced, CHECKS]) == ("B", "checks_only", ["checks_only"])
    assert outcome([outside])[1:] == ("checks_only", ["checks_only", "single_site"])


def test_metric_checks_alone_are_checks_only_b():
    assert outcome([CHECKS]) == ("B", "checks_only", ["checks_only", "single_site"])


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "submitted"},
        {"status": "superseded"},
        {"all_checks_passed": False},
    ],
)
def test_trials_that_do_not_qualify_give_no_basis(changes):
    assert outcome([replace(DIRECT, **changes)]) == ("C", "none", [])


def test_paired_results_without_a_verdict_have_not_shown_equivalence():
    assert outcome([replace(DIRECT, equivalent=None)]) == ("C", "none", ["not_equivalent"])


def test_no_trial_at_all_is_c_with_basis_none():
    assert outcome([]) == ("C", "none", [])


def test_a_failed_latest_trial_against_the_reference_makes_it_c_whatever_else():
    failed = replace(DIRECT, id=20, equivalent=False, ended_on=date(2026, 9, 1))
    grade, basis, caveats = outcome([DIRECT, failed, CHECKS])
    # The older direct trial still qualifies (basis direct), but the latest one failed.
    assert (grade, basis, caveats) == ("C", "direct", ["not_equivalent"])


def test_an_older_failed_trial_is_outweighed_by_a_later_equivalent_one():
    failed = replace(DIRECT, id=20, equivalent=False, ended_on=date(2025, 9, 1))
    assert outcome([DIRECT, failed, CHECKS]) == ("A", "direct", [])


def test_a_failed_trial_against_another_model_does_not_make_this_one_c():
    failed = replace(DIRECT, id=20, equivalent=False, reference_product_id=OTHER)
    assert outcome([DIRECT, failed, CHECKS]) == ("A", "direct", [])


def test_same_end_date_the_higher_id_is_the_latest():
    passed = replace(DIRECT, id=30)
    failed = replace(DIRECT, id=31, equivalent=False)
    assert outcome([passed, failed, CHECKS])[0] == "C"
    assert outcome([replace(failed, id=29), passed, CHECKS])[0] == "A"


def test_caveats_come_in_the_contract_order():
    biased = replace(
        DIRECT, pairs=12, proportional_bias=True, constant_bias=True, linear=False, id=40
    )
    failed = replace(DIRECT, id=41, equivalent=False, ended_on=date(2026, 9, 1))
    _, _, caveats = outcome([biased, failed], gaps=True)
    assert caveats == [
        "spec_gaps",
        "few_pairs",
        "proportional_bias",
        "constant_bias",
        "nonlinear",
        "single_site",
        "not_equivalent",
    ]
    assert caveats == [c for c in CAVEATS if c in caveats]


def test_the_tables_hold_decide_for_every_code():
    for code in range(EVIDENCE_CODES):
        for gaps in (False, True):
            for short in (False, True):
                at = (code, int(gaps), int(short))
                assert (int(GRADE_TABLE[at]), int(CAVEAT_TABLE[at])) == decide(code, gaps, short)


def test_candidate_evidence_equals_evidence_for_every_pair():
    trials = [
        [DIRECT, CHECKS],
        [replace(DIRECT, reference_product_id=OTHER)],
        [],
        [CHECKS, replace(DIRECT, equivalent=False)],
    ]
    held = CandidateEvidence(trials, IMPORTED)
    matrix = held.matrix([R, OTHER, 9])
    for j, reference in enumerate([R, OTHER, 9]):
        expected = [evidence_for(t, reference, IMPORTED) for t in trials]
        assert held.against(reference).tolist() == expected
        assert matrix[:, j].tolist() == expected
    assert matrix.dtype == np.uint16


def test_domestic_is_decided_by_the_vendor_or_by_the_place_of_manufacture():
    assert is_domestic(True, False, "vendor") is True
    assert is_domestic(True, False, "manufacture") is False
    vendor, made = np.array([True, False]), np.array([False, True])
    assert is_domestic(vendor, made, "manufacture").tolist() == [False, True]


def test_why_names_the_deciding_rule_and_what_would_raise_the_grade():
    a = why(evidence_for([DIRECT, CHECKS], R, IMPORTED), [], "en")
    assert a[0].startswith("Grade A") and "40" in a[0]
    indirect = why(evidence_for([replace(DIRECT, reference_product_id=OTHER)], R, IMPORTED), [])
    assert indirect[0].startswith("等级 B") and "间接证据" in indirect[0]
    assert any("至少 40 个样本" in s for s in indirect)
    none_en = why(evidence_for([], R, IMPORTED), ["noise"], "en")
    assert none_en[0].startswith("Grade C")
    assert "These non-critical specs fall short or are unknown: noise." in none_en
    assert any("40 samples against this model" in s for s in none_en)
    failed = replace(DIRECT, equivalent=False)
    said = why(evidence_for([failed], R, IMPORTED), [], "en")
    assert "failed the equivalence test" in said[0]


def test_explained_carries_basis_caveats_and_why_together():
    shown = explained(evidence_for([replace(DIRECT, pairs=12), CHECKS], R, IMPORTED), ["x"], "zh")
    assert shown["basis"] == "direct"
    assert shown["caveats"] == ["spec_gaps", "few_pairs"]
    assert any("少于 40 对" in s for s in shown["why"])
