"""The array grader of a category agrees with `grading.grade`, odd values included: the
same grades, and the same spec-by-spec explanation, gaps and reasons."""

import random
from datetime import date
from typing import Any

import msgspec
import pytest

from instcat.catalogue.specs import SpecDef
from instcat.substitution.evidence_rows import feedback_summary
from instcat.substitution.grading import GRADE_RANK, TrialEvidence, grade
from instcat.substitution.index import CategoryFacts
from instcat.substitution.ranking import CategoryIndex

DEFINITIONS = [
    SpecDef("pressure", "number", "higher_better", critical=True, unit='bar "g"'),
    SpecDef("noise", "number", "lower_better"),
    SpecDef("voltage", "number", "equal"),
    SpecDef("detectors", "set", "includes", critical=True),
    SpecDef("modes", "set", "equal"),
    SpecDef("interface", "text", "equal"),
]

# Values chosen to reach every branch: close numbers, numbers as text, text that is no number,
# lists where a number belongs, case and spaces in sets and text, a bare string for a set,
# quotes, backslashes, control characters and Chinese in what answers write out.
VALUES: dict[str, list[Any]] = {
    "pressure": [400, 600, 600.0000000001, "600", "high", [600], 1000],
    "noise": [0.1, 0.07, "0.07", None, 0.5],
    "voltage": [220, 220.0, "220", 110],
    "detectors": [
        ["UV"],
        ["UV", "DAD"],
        [" uv ", "dad", "FLD"],
        "UV",
        ["UV", "DAD", "FLD", "RID"],
        ['UV "2"', "DAD\\", "检测器\t"],
    ],
    "modes": [["a", "b"], ["B", "A"], ["a"], []],
    "interface": ["USB", " usb ", "LAN", 5, 'RS-232 "DB9"', "网口\n"],
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


@pytest.mark.parametrize("seed", range(5))
def test_candidates_rank_by_grade_then_rating_then_id(seed: int) -> None:
    r = random.Random(200 + seed)
    products = _products(r, 60)
    r.shuffle(products)  # an index holds its products in any order
    trials = _trials(r, 60)
    overall = {pid: r.choice([None, 0.0, 3.5, 4.25, 4.25]) for pid, *_ in products}
    index = CategoryIndex.build(DEFINITIONS, products, trials, overall)
    for reference_id, reference, *_ in products:
        assessment = index.assess(reference, "vendor")
        verdicts = {
            pid: grade(DEFINITIONS, specs, reference, trials.get(pid, []), reference_id)
            for pid, specs, *_ in products
            if assessment.among[index.position[pid]]
        }
        graded = [pid for pid, verdict in verdicts.items() if verdict.grade is not None]
        graded.sort(key=lambda pid: (GRADE_RANK[verdicts[pid].grade], -(overall[pid] or 0), pid))
        refused = sorted(pid for pid, verdict in verdicts.items() if verdict.grade is None)
        assert assessment.rank() == (graded, refused)


def _facts(index: CategoryIndex) -> CategoryFacts:
    """Facts whose products show as their id alone (what surrounds the grade is not tested)."""
    return CategoryFacts(
        index=index,
        feedback={},
        service={},
        shown={pid: msgspec.Raw(b'{"id":%d}' % pid) for pid in index.ids.tolist()},
        vendor_of={pid: "v" for pid in index.ids.tolist()},
    )


@pytest.mark.parametrize("seed", range(5))
def test_explanations_written_as_bytes_equal_spec_by_spec_ones(seed: int) -> None:
    r = random.Random(100 + seed)
    products = _products(r, 60)
    trials = _trials(r, 60)
    index = CategoryIndex.build(DEFINITIONS, products, trials, {})
    facts = _facts(index)
    for reference_id, reference, *_ in products:
        assessment = index.assess(reference, "vendor")
        # One page of every candidate and one of every excluded product, in a shuffled order.
        page = [i for i in range(len(products)) if assessment.among[i]]
        r.shuffle(page)
        accepted = [products[i][0] for i in page if assessment.grade(i) is not None]
        refused = [products[i][0] for i in page if assessment.grade(i) is None]
        shown = msgspec.json.decode(facts.candidates_json(assessment, accepted, reference_id))
        excluded = msgspec.json.decode(facts.excluded_json(assessment, refused))
        assert [c["product"]["id"] for c in shown] == accepted
        assert [e["product_id"] for e in excluded] == refused
        verdicts = {
            pid: grade(DEFINITIONS, candidate, reference, trials.get(pid, []), reference_id)
            for pid, candidate, *_ in products
        }
        for candidate in shown:
            verdict = verdicts[candidate["product"]["id"]]
            assert candidate["grade"] == verdict.grade
            assert candidate["specs"] == [c.as_dict() for c in verdict.specs], reference
            assert candidate["gaps"] == verdict.gaps
            assert candidate["trials"] == [t.as_dict() for t in verdict.trials]
            assert candidate["feedback"] == feedback_summary(None)
            assert candidate["service"] == {"response_hours": None, "regions": []}
        for entry in excluded:
            verdict = verdicts[entry["product_id"]]
            assert verdict.grade is None
            assert entry["reasons"] == verdict.reasons, reference


def test_an_empty_page_and_a_reference_without_values_explain_nothing() -> None:
    products = _products(random.Random(7), 10)
    index = CategoryIndex.build(DEFINITIONS, products, {}, {})
    facts = _facts(index)
    assessment = index.assess(products[0][1], "vendor")
    assert bytes(facts.candidates_json(assessment, [], 1)) == b"[]"
    assert bytes(facts.excluded_json(assessment, [])) == b"[]"
    bare = index.assess({}, "vendor")
    among = [pid for i, pid in enumerate(index.ids.tolist()) if bare.among[i]]
    assert [
        (c["specs"], c["gaps"])
        for c in msgspec.json.decode(facts.candidates_json(bare, among, products[0][0]))
    ] == [([], [])] * len(among)
    assert msgspec.json.decode(facts.excluded_json(bare, among)) == [
        {"product_id": pid, "reasons": []} for pid in among
    ]
