"""The array grader of a category agrees with `grading.grade`, odd values included: the
same grades, and the same spec-by-spec explanation, gaps and reasons."""

import random
from datetime import date
from typing import Any

import msgspec
import pytest

from instcat.catalogue.specs import SpecDef
from instcat.substitution.grading import TrialEvidence, grade
from instcat.substitution.index import CategoryFacts
from instcat.substitution.ranking import CategoryIndex

DEFINITIONS = [
    SpecDef("pressure", "number", "higher_better", critical=True, unit="bar"),
    SpecDef("noise", "number", "lower_better"),
    SpecDef("voltage", "number", "equal"),
    SpecDef("detectors", "set", "includes", critical=True),
    SpecDef("modes", "set", "equal"),
    SpecDef("interface", "text", "equal"),
]

# Values chosen to reach every branch: close numbers, numbers as text, text that is no number,
# lists where a number belongs, case and spaces in sets and text, a bare string for a set.
VALUES: dict[str, list[Any]] = {
    "pressure": [400, 600, 600.0000000001, "600", "high", [600], 1000],
    "noise": [0.1, 0.07, "0.07", None, 0.5],
    "voltage": [220, 220.0, "220", 110],
    "detectors": [["UV"], ["UV", "DAD"], [" uv ", "dad", "FLD"], "UV", ["UV", "DAD", "FLD", "RID"]],
    "modes": [["a", "b"], ["B", "A"], ["a"], []],
    "interface": ["USB", " usb ", "LAN", 5],
}


def _products(r: random.Random, count: int) -> list[tuple[int, dict[str, Any], bool, bool, bool]]:
    products = []
    for pid in range(1, count + 1):
        specs = {key: r.choice(values) for key, values in VALUES.items() if r.random() < 0.85}
        products.append((pid, specs, r.random() < 0.6, r.random() < 0.6, r.random() < 0.9))
    return products


def _trials(r: random.Random, count: int) -> dict[int, list[TrialEvidence]]:
    trials: dict[int, list[TrialEvidence]] = {}
    for pid in range(1, count + 1):
        if r.random() < 0.5:
            status = r.choice(["accepted", "submitted"])
            trial = TrialEvidence(pid, status, 3, r.random() < 0.8, False, None, date(2026, 1, 1))
            trials[pid] = [trial]
    return trials


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("rule", ["vendor", "manufacture"])
def test_array_grades_equal_spec_by_spec_grades(seed: int, rule: str) -> None:
    r = random.Random(seed)
    products = _products(r, 60)
    trials = _trials(r, 60)
    index = CategoryIndex.build(DEFINITIONS, products, trials, {})
    for position, (reference_id, reference, *_) in enumerate(products):
        assessment = index.assess(reference, rule)
        for i, (pid, specs, *_) in enumerate(products):
            if not assessment.among[i]:
                continue
            verdict = grade(DEFINITIONS, specs, reference, trials.get(pid, []), reference_id)
            assert assessment.grade(i) == verdict.grade, (position, pid, specs, reference)


def _facts(index: CategoryIndex) -> CategoryFacts:
    return CategoryFacts(index=index, feedback={}, service={}, shown={}, vendor_of={})


@pytest.mark.parametrize("seed", range(5))
def test_explanations_read_off_the_arrays_equal_spec_by_spec_ones(seed: int) -> None:
    r = random.Random(100 + seed)
    products = _products(r, 60)
    trials = _trials(r, 60)
    index = CategoryIndex.build(DEFINITIONS, products, trials, {})
    for reference_id, reference, *_ in products:
        assessment = index.assess(reference, "vendor")
        # One page of every candidate, in a shuffled order, as answers explain them.
        page = [i for i in range(len(products)) if assessment.among[i]]
        r.shuffle(page)
        explained = _facts(index).comparisons_json(assessment, page)
        reasons = assessment.reasons(page)
        for i, (specs, gaps), why in zip(page, explained, reasons, strict=True):
            pid, candidate, *_ = products[i]
            verdict = grade(DEFINITIONS, candidate, reference, trials.get(pid, []), reference_id)
            want = [c.as_dict() for c in verdict.specs]
            assert msgspec.json.decode(specs) == want, (pid, candidate, reference)
            assert gaps == verdict.gaps
            assert why == verdict.reasons
            assert assessment.grade(i) == verdict.grade


def test_an_empty_page_and_a_reference_without_values_explain_nothing() -> None:
    products = _products(random.Random(7), 10)
    index = CategoryIndex.build(DEFINITIONS, products, {}, {})
    facts = _facts(index)
    assert facts.comparisons_json(index.assess(products[0][1], "vendor"), []) == []
    bare = index.assess({}, "vendor")
    assert [(bytes(raw), gaps) for raw, gaps in facts.comparisons_json(bare, [0, 1])] == [
        (b"[]", []),
        (b"[]", []),
    ]
    assert bare.reasons([0, 1]) == [[], []]
