"""Grade every domestic candidate of a category against one reference at once (pure, no I/O).

`grading.grade` is the definition of a grade and explains it spec by spec; it is also too slow
to run for thousands of candidates on every request. This module reaches the same grades with
array operations over the whole category, so that only the candidates actually shown need
the full explanation. Tests check that both always agree.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from instcat.catalogue.specs import SpecDef
from instcat.substitution.grading import fold_values
from instcat.substitution.rules import EXCLUDED, GRADES, TrialEvidence, is_domestic
from instcat.substitution.tables import GRADE_TABLE, CandidateEvidence

Bools = npt.NDArray[np.bool_]
GRADE_OF_CODE = GRADES
STATUSES = ("meets", "falls_short", "unknown")  # as `grading.SpecComparison.status` names them
MEETS, FALLS_SHORT, UNKNOWN = range(3)


def _as_float(value: Any) -> float:
    """The number grading would compare, or NaN when it could not (unknown)."""
    if isinstance(value, (list, dict)):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def comparable(spec: SpecDef, value: Any) -> bool:
    """Whether `grading.spec_meets` can compare this value (if not, the status is unknown)."""
    try:
        if spec.kind == "number":
            float(value)
        else:
            _folded(spec, value)
    except (TypeError, ValueError):
        return False
    return True


def _folded(spec: SpecDef, value: Any) -> frozenset[str] | str:
    """A set or text value folded the way `grading.spec_meets` compares it."""
    if spec.kind == "set":
        return frozenset(fold_values(value))
    return str(value).strip().casefold()


def _groups(
    spec: SpecDef, specs: Sequence[Mapping[str, Any]]
) -> dict[frozenset[str] | str, npt.NDArray[np.intp]]:
    """Positions of the products by folded value (unknown and uncomparable values left out)."""
    positions: dict[frozenset[str] | str, list[int]] = {}
    for i, values in enumerate(specs):
        if spec.key not in values:
            continue
        try:
            folded = _folded(spec, values[spec.key])
        except (TypeError, ValueError):
            continue
        positions.setdefault(folded, []).append(i)
    return {value: np.array(found, dtype=np.intp) for value, found in positions.items()}


def _known(
    spec: SpecDef,
    specs: Sequence[Mapping[str, Any]],
    groups: Mapping[Any, npt.NDArray[np.intp]] | None,
) -> Bools:
    """Which products have a value grading can compare: for set and text specs, those in a
    group (folded once already); for numbers, those `float` accepts."""
    if groups is None:
        return np.array([spec.key in s and comparable(spec, s[spec.key]) for s in specs], bool)
    known = np.zeros(len(specs), dtype=bool)
    for positions in groups.values():
        known[positions] = True
    return known


@dataclass
class CategoryIndex:
    """The products of one category in columns, ready to grade against any reference."""

    definitions: list[SpecDef]
    critical: list[SpecDef]  # the critical definitions, in definition order
    ids: npt.NDArray[np.int64]
    specs: list[dict[str, Any]]
    domestic_vendor: Bools
    made_in_cn: Bools
    active: Bools
    overall: npt.NDArray[np.float64]  # feedback overall rating, 0 when none
    trials: dict[int, list[TrialEvidence]] = field(default_factory=dict)
    numbers: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    # Number specs: each value's part of the tolerance of equality (1e-9 × |value|).
    tolerances: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    # Set and text specs: the positions of the products holding each distinct value, folded
    # as grading compares them (products whose value is unknown are in no group).
    groups: dict[str, dict[frozenset[str] | str, npt.NDArray[np.intp]]] = field(
        default_factory=dict
    )
    # Per spec: the product has a value that grading can compare (else its status is unknown).
    known: dict[str, Bools] = field(default_factory=dict)
    position: dict[int, int] = field(default_factory=dict)
    # Positions best rated first (then by id), and positions by id.
    by_rating: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    by_id: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    # Per domestic rule: every product's evidence codes (`tables.CandidateEvidence`).
    _evidence: dict[str, CandidateEvidence] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        definitions: Sequence[SpecDef],
        products: Sequence[tuple[int, dict[str, Any], bool, bool, bool]],
        trials: Mapping[int, list[TrialEvidence]],
        overall: Mapping[int, float | None],
    ) -> "CategoryIndex":
        """Index products given as (id, specs, vendor is domestic, made in CN, active)."""
        ids = np.array([p[0] for p in products], dtype=np.int64)
        rating = np.array([overall.get(p[0]) or 0.0 for p in products], dtype=np.float64)
        specs = [p[1] for p in products]
        numbers = {
            d.key: np.array([_as_float(s.get(d.key)) for s in specs], dtype=np.float64)
            for d in definitions
            if d.kind == "number"
        }
        groups = {d.key: _groups(d, specs) for d in definitions if d.kind != "number"}
        known = {d.key: _known(d, specs, groups.get(d.key)) for d in definitions}
        return cls(
            definitions=list(definitions),
            critical=[d for d in definitions if d.critical],
            ids=ids,
            specs=specs,
            domestic_vendor=np.array([p[2] for p in products], dtype=bool),
            made_in_cn=np.array([p[3] for p in products], dtype=bool),
            active=np.array([p[4] for p in products], dtype=bool),
            overall=rating,
            trials={pid: list(t) for pid, t in trials.items()},
            numbers=numbers,
            tolerances={key: 1e-9 * np.abs(column) for key, column in numbers.items()},
            groups=groups,
            known=known,
            position={int(pid): i for i, pid in enumerate(ids)},
            by_rating=np.lexsort((ids, -rating)),
            by_id=np.argsort(ids, kind="stable"),
        )

    def domestic(self, rule: str) -> Bools:
        """Domestic products, by the vendor's country or by the place of manufacture."""
        return is_domestic(self.domestic_vendor, self.made_in_cn, rule)

    def evidence(self, rule: str) -> CandidateEvidence:
        """Every product's evidence codes under a domestic rule (made on first use)."""
        found = self._evidence.get(rule)
        if found is None:
            references = set(self.ids[~self.domestic(rule)].tolist())
            trials = [self.trials.get(int(pid), ()) for pid in self.ids]
            found = self._evidence[rule] = CandidateEvidence(trials, references)
        return found

    def candidates(self, rule: str) -> Bools:
        """Active domestic products."""
        return self.active & self.domestic(rule)

    def _meets(self, spec: SpecDef, reference: Any, among: Bools) -> Bools:
        if spec.kind == "number":
            if isinstance(reference, (list, dict)):
                return np.zeros(len(self.ids), dtype=bool)
            try:
                r = float(reference)
            except (TypeError, ValueError):
                return np.zeros(len(self.ids), dtype=bool)
            c = self.numbers[spec.key]
            # math.isclose(c, r, rel_tol=1e-9, abs_tol=1e-12), as grading does: the tolerance
            # max(1e-9 × max(|c|, |r|), 1e-12) is the larger of the candidate's part (kept
            # with the index) and the reference's.
            tolerance = np.maximum(self.tolerances[spec.key], max(1e-9 * abs(r), 1e-12))
            with np.errstate(invalid="ignore"):
                close = np.abs(c - r) <= tolerance
                if spec.direction == "higher_better":
                    return (c >= r) | close
                if spec.direction == "lower_better":
                    return (c <= r) | close
                return close
        meets = np.zeros(len(self.ids), dtype=bool)
        try:
            wanted = _folded(spec, reference)
        except (TypeError, ValueError):
            return meets  # a reference value grading cannot compare: unknown for everyone
        includes = spec.kind == "set" and spec.direction == "includes"
        # A category has few distinct values per spec: compare each once, not each product.
        for value, positions in self.groups[spec.key].items():
            if includes and isinstance(wanted, frozenset) and isinstance(value, frozenset):
                hit = wanted <= value
            else:
                hit = wanted == value
            if hit:
                meets[positions] = True
        return meets & among

    def assess(
        self, reference_id: int, rule: str, reference: Mapping[str, Any] | None = None
    ) -> "Assessment":
        """Grade every candidate against one reference (by default with the specs the index
        holds for it), keeping what explains each grade."""
        if reference is None:
            reference = self.specs[self.position[reference_id]]
        among = self.candidates(rule)
        short_critical = np.zeros(len(self.ids), dtype=bool)
        gap = np.zeros(len(self.ids), dtype=bool)
        meets: dict[str, Bools] = {}
        usable: dict[str, bool] = {}
        for spec in self.definitions:
            if spec.key not in reference:
                continue
            value = reference[spec.key]
            usable[spec.key] = comparable(spec, value)
            meets[spec.key] = self._meets(spec, value, among)
            if spec.critical:
                short_critical |= ~meets[spec.key]
            else:
                gap |= ~meets[spec.key]
        evidence = self.evidence(rule).against(reference_id)
        codes = GRADE_TABLE[evidence, gap.view(np.int8), short_critical.view(np.int8)]
        return Assessment(self, reference, among, codes, meets, usable, evidence)


@dataclass(frozen=True, slots=True)
class Assessment:
    """One reference graded against a category's candidates."""

    index: CategoryIndex
    reference: Mapping[str, Any]
    among: Bools
    codes: npt.NDArray[np.int8]
    meets: dict[str, Bools]  # per spec the reference has a value for
    usable: dict[str, bool]  # whether grading can compare the reference's value at all
    evidence: npt.NDArray[np.uint16]  # per product: `rules.evidence_for` for this reference

    def rank(self) -> tuple[list[int], list[int]]:
        """Candidate ids best grade first (then best rated, then id), and excluded ids by id."""
        index, codes = self.index, self.codes
        # The order by rating and id holds for every reference: only the grades reorder it.
        by_rating = index.by_rating
        picked = by_rating[(self.among & (codes != EXCLUDED))[by_rating]]
        ranked = picked[np.argsort(codes[picked], kind="stable")]
        excluded = index.by_id[(self.among & (codes == EXCLUDED))[index.by_id]]
        return index.ids[ranked].tolist(), index.ids[excluded].tolist()

    def grade(self, position: int) -> str | None:
        code = int(self.codes[position])
        return None if code == EXCLUDED else GRADE_OF_CODE[code]

    def statuses(
        self, positions: Sequence[int], definitions: Sequence[SpecDef]
    ) -> tuple[list[int], list[list[int]]]:
        """Which of `definitions` are compared (those the reference has a value for, by
        index) and, for each product at `positions`, the status of each as an index into
        `STATUSES`: `grading.compare_specs` read off the arrays a page at a time."""
        compared = [i for i, d in enumerate(definitions) if d.key in self.reference]
        codes = np.full((len(positions), len(compared)), UNKNOWN, dtype=np.int8)
        at = np.asarray(positions, dtype=np.intp)
        for column, i in enumerate(compared):
            key = definitions[i].key
            if self.usable[key]:
                known = self.index.known[key][at]
                meets = self.meets[key][at[known]]
                codes[known, column] = np.where(meets, MEETS, FALLS_SHORT)
        return compared, codes.tolist()
