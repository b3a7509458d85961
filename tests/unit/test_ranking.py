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
    """Trials of every kind the rule tells apart: checks only, split samples against another
    product (any: imported, domestic or none), equivalent or not, few or many pairs, bias and
    linearity flags true, false or unknown, one institution or two, several per product."""
    trials: dict[int, list[TrialEvidence]] = {}
    trial_id = 0
    for pid in range(1, count + 1):
        for _ in range(r.choice([0, 0, 1, 1, 2, 3])):
            trial_id += 1
            paired = r.random() < 0.7
            flags = [True, False, None]
            trials.setdefault(pid, []).append(
                TrialEvidence(
                    trial_id,
                    r.choice(["accepted", "accepted", "accepted", "submitted"]),
                    r.choice([0, 3]),
                    r.random() < 0.85,
                    paired,
                    r.choice([True, True, False, None]) if paired else None,
                    date(2026, 1, r.randint(1, 3)),
                    r.choice([None, *range(1, count + 1)]) if paired or r.random() < 0.3 else None,
                    r.choice([12, 39, 40, 60]) if paired else None,
                    r.choice(flags) if paired else None,
                    r.choice(flags) if paired else None,
                    r.choice([True, True, False, None]) if paired else None,
                    r.choice(["Lab A", "Lab B"]),
                )
            )
    return trials


def _imported(products: list[tuple[int, dict[str, Any], bool, bool, bool]], rule: str) -> set[int]:
    return {p[0] for p in products if not (p[3] if rule == "manufacture" else p[2])}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("rule", ["vendor", "manufacture"])
def test_array_grades_equal_spec_by_spec_grades(seed: int, rule: str) -> None:
    r = random.Random(seed)
    products = _products(r, 60)
    trials = _trials(r, 60)
    index = CategoryIndex.build(DEFINITIONS, products, trials, {})
    imported = _imported(products, rule)
    for position, (reference_id, reference, *_) in enumerate(products):
        assessment = index.assess(reference_id, rule)
        for i, (pid, specs, *_) in enumerate(products):
            if not assessment.among[i]:
                continue
            found = trials.get(pid, [])
            verdict = grade(DEFINITIONS, specs, reference, found, reference_id, imported)
            assert assessment.grade(i) == verdict.grade, (position, pid, specs, reference)
            assert int(assessment.evidence[i]) == verdict.evidence, (pid, reference_id, found)


@pytest.mark.parametrize("seed", range(5))
def test_candidates_rank_by_grade_then_rating_then_id(seed: int) -> None:
    r = random.Random(200 + seed)
    products = _products(r, 60)
    r.shuffle(products)  # an index holds its products in any order
    trials = _trials(r, 60)
    overall = {pid: r.choice([None, 0.0, 3.5, 4.25, 4.25]) for pid, *_ in products}
    index = CategoryIndex.build(DEFINITIONS, products, trials, overall)
    imported = _imported(products, "vendor")
    for reference_id, reference, *_ in products:
        assessment = index.assess(reference_id, "vendor")
        verdicts = {
            pid: grade(DEFINITIONS, specs, reference, trials.get(pid, []), reference_id, imported)
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
    imported = _imported(products, "vendor")
    lang = r.choice(["zh", "en"])
    for reference_id, reference, *_ in products:
        assessment = index.assess(reference_id, "vendor")
        # One page of every candidate and one of every excluded product, in a shuffled order.
        page = [i for i in range(len(products)) if assessment.among[i]]
        r.shuffle(page)
        accepted = [products[i][0] for i in page if assessment.grade(i) is not None]
        refused = [products[i][0] for i in page if assessment.grade(i) is None]
        shown = msgspec.json.decode(facts.candidates_json(assessment, accepted, reference_id, lang))
        excluded = msgspec.json.decode(facts.excluded_json(assessment, refused))
        assert [c["product"]["id"] for c in shown] == accepted
        assert [e["product_id"] for e in excluded] == refused
        verdicts = {
            pid: grade(
                DEFINITIONS, candidate, reference, trials.get(pid, []), reference_id, imported
            )
            for pid, candidate, *_ in products
        }
        for candidate in shown:
            verdict = verdicts[candidate["product"]["id"]]
            assert candidate["grade"] == verdict.grade
            explained = verdict.explained(lang)
            assert {k: candidate[k] for k in explained} == explained
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
    assessment = index.assess(products[0][0], "vendor")
    assert bytes(facts.candidates_json(assessment, [], 1)) == b"[]"
    assert bytes(facts.excluded_json(assessment, [])) == b"[]"
    bare = index.assess(products[0][0], "vendor", {})
    among = [pid for i, pid in enumerate(index.ids.tolist()) if bare.among[i]]
    assert [
        (c["specs"], c["gaps"])
        for c in msgspec.json.decode(facts.candidates_json(bare, among, products[0][0]))
    ] == [([], [])] * len(among)
    assert msgspec.json.decode(facts.excluded_json(bare, among)) == [
        {"product_id": pid, "reasons": []} for pid in among
    ]
