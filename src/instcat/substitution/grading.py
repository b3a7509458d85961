"""Spec-by-spec comparison, and one candidate graded against one reference with it (pure).

The rule that turns the comparison and the trial evidence into a grade, its basis, caveats
and explanation is `rules`; `grade` here applies it to one pair, spec by spec, and is what
the array paths (`ranking`, `matrix`) are tested against.
"""

import math
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import msgspec

from instcat.catalogue.specs import SpecDef
from instcat.substitution.rules import (
    EXCLUDED,
    GRADE_RANK,
    GRADES,
    TRIAL_FIELDS,
    TrialEvidence,
    best_grade,
    decide,
    evidence_for,
    explained,
    meets_minimum,
)

__all__ = [
    "GRADE_RANK",
    "TRIAL_FIELDS",
    "TrialEvidence",
    "best_grade",
    "meets_minimum",
]

_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class SpecComparison:
    key: str
    critical: bool
    candidate: Any
    reference: Any
    status: str  # "meets" | "falls_short" | "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "critical": self.critical,
            "candidate": self.candidate,
            "reference": self.reference,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    grade: str | None
    specs: list[SpecComparison]
    gaps: list[str]
    reasons: list[str] = field(default_factory=list)
    trials: list[TrialEvidence] = field(default_factory=list)
    evidence: int = 0  # `rules.evidence_for` of the pair

    def explained(self, lang: str = "zh") -> dict[str, Any]:
        """`basis`, `caveats` and `why` of a graded pair (`rules.explained`)."""
        return explained(self.evidence, self.gaps, lang)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def fold_values(values: Iterable[str]) -> set[str]:
    """Values as set specs compare them: trimmed and case-folded."""
    return {v.strip().casefold() for v in values}


def spec_meets(spec: SpecDef, candidate: Any, reference: Any) -> bool:
    """Whether the candidate's value is at least as good as the reference's, by direction."""
    if spec.kind == "number":
        c, r = float(candidate), float(reference)
        if spec.direction == "higher_better":
            return c >= r or _close(c, r)
        if spec.direction == "lower_better":
            return c <= r or _close(c, r)
        return _close(c, r)
    if spec.kind == "set":
        c_set, r_set = fold_values(candidate), fold_values(reference)
        return r_set <= c_set if spec.direction == "includes" else r_set == c_set
    return str(candidate).strip().casefold() == str(reference).strip().casefold()


def compare_specs(
    definitions: Sequence[SpecDef], candidate: Mapping[str, Any], reference: Mapping[str, Any]
) -> list[SpecComparison]:
    """Compare every spec the reference has a value for, in definition order."""
    result = []
    for spec in definitions:
        if spec.key not in reference:
            continue
        ref_value = reference[spec.key]
        if spec.key not in candidate:
            status = "unknown"
            cand_value = None
        else:
            cand_value = candidate[spec.key]
            try:
                status = "meets" if spec_meets(spec, cand_value, ref_value) else "falls_short"
            except (TypeError, ValueError):
                # A value stored before its spec changed kind cannot be compared.
                status = "unknown"
        result.append(SpecComparison(spec.key, spec.critical, cand_value, ref_value, status))
    return result


def _shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class Shortfall:
    """How one critical spec that does not meet a reference's value excludes a candidate,
    worded once per reference value."""

    __slots__ = ("_after", "_before", "unknown")

    def __init__(self, key: str, reference: Any, unit: str | None) -> None:
        suffix = f" {unit}" if unit else ""
        self.unknown = f"critical spec {key} is unknown for the candidate"
        self._before = f"critical spec {key} falls short: candidate "
        self._after = f"{suffix} vs reference {_shown(reference)}{suffix}"

    def reason(self, status: str, candidate: Any) -> str:
        """The reason for a status other than "meets"."""
        if status == "unknown":
            return self.unknown
        return f"{self._before}{_shown(candidate)}{self._after}"

    def json_parts(self) -> tuple[bytes, bytes, bytes]:
        """The same wording as JSON: the whole reason when the candidate's value is unknown,
        and what goes before and after `shown_json(candidate)` when it falls short."""
        return _encode(self.unknown), _encode(self._before)[:-1], _encode(self._after)[1:]


def shown_json(candidate: Any) -> bytes:
    """A candidate's value as a reason shows it, escaped for the inside of a JSON string."""
    return _encode(_shown(candidate))[1:-1]


def newest_first(trials: Iterable[TrialEvidence]) -> list[TrialEvidence]:
    """Trials in the order answers and lists show them: latest end date first, then by id."""
    return sorted(trials, key=lambda t: (-t.ended_on.toordinal(), -t.id))


def gaps_of(specs: Iterable[SpecComparison]) -> list[str]:
    """The non-critical specs a candidate does not meet (falls short or unknown)."""
    return [c.key for c in specs if not c.critical and c.status != "meets"]


def shortfalls(definitions: Sequence[SpecDef], specs: Iterable[SpecComparison]) -> list[str]:
    """Why a candidate is not a substitute: each critical spec that does not meet the reference.

    Comparing only the critical definitions gives the same reasons as comparing them all.
    """
    units = {d.key: d.unit for d in definitions}
    return [
        Shortfall(c.key, c.reference, units.get(c.key)).reason(c.status, c.candidate)
        for c in specs
        if c.critical and c.status != "meets"
    ]


def grade(
    definitions: Sequence[SpecDef],
    candidate_specs: Mapping[str, Any],
    reference_specs: Mapping[str, Any],
    trials: Sequence[TrialEvidence],
    reference_id: int | None = None,
    references: Container[int] = frozenset(),
) -> Verdict:
    """Grade a candidate against one reference from its specs and its trial evidence.
    `references` holds the imported products of the reference's category."""
    specs = compare_specs(definitions, candidate_specs, reference_specs)
    reasons = shortfalls(definitions, specs)
    gaps = gaps_of(specs)
    # Trials against this very reference first, then the rest, newest first within each.
    ordered = sorted(newest_first(trials), key=lambda t: t.reference_product_id != reference_id)
    evidence = evidence_for(trials, -1 if reference_id is None else reference_id, references)
    code, _ = decide(evidence, bool(gaps), bool(reasons))
    if code == EXCLUDED:
        return Verdict(None, specs, gaps, reasons, ordered, evidence)
    return Verdict(GRADES[code], specs, gaps, [], ordered, evidence)


def months_before(day: date, months: int) -> date:
    """The calendar date `months` months before `day` (clamped to the month's last day)."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - date.resolution).day
    return date(year, month, min(day.day, last_day))
