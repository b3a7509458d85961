"""Grading every candidate of a category against every reference at once (numpy, no I/O).

`grading.grade` is the reference semantics: one status per (candidate, reference, spec) —
meets, falls short, unknown, or not compared when the reference has no value — then the
rule's table (`tables.GRADE_TABLE`). Values are converted once per product, not per pair.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from instcat.catalogue.specs import SpecDef
from instcat.substitution.rules import GRADES
from instcat.substitution.tables import GRADE_TABLE

MEETS, FALLS_SHORT, UNKNOWN, NOT_COMPARED = 0, 1, 2, 3
STATUS_NAMES = ("meets", "falls_short", "unknown")
GRADE_CODES = np.array([g.encode() for g in GRADES])
MAX_GAP_BITS = 62  # gaps are a bit mask per pair over the non-critical specs


# Not in errors.py: a signal caught in this module, never an error anyone is shown.
class Unsupported(Exception):
    """A value the vectorised path cannot mirror exactly; grade this category one by one."""


@dataclass(frozen=True, slots=True)
class Grades:
    """Per pair: grade code (`rules.GRADES` index, or `rules.EXCLUDED`) and the bit mask of
    non-critical gaps."""

    codes: np.ndarray  # int8 [candidates, references]
    gap_masks: np.ndarray  # unsigned ints [candidates, references]
    gap_keys: tuple[str, ...]  # bit i of a gap mask is gap_keys[i]
    statuses: list[np.ndarray]  # int8 [candidates, references] per definition, when kept


def _isclose(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _number_key(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # not comparable: "unknown", as in grading.compare_specs
    except OverflowError as error:
        raise Unsupported(str(error)) from error


def _set_key(value: Any) -> frozenset[str] | None:
    try:
        return frozenset(v.strip().casefold() for v in value)
    except TypeError:
        return None
    except AttributeError as error:  # grading.grade raises here too
        raise Unsupported(str(error)) from error


def _text_key(value: Any) -> str:
    return str(value).strip().casefold()


def _bounds(direction: str, ranked: np.ndarray, reference: float) -> tuple[int, int]:
    """The ranks [lo, hi] of the candidate values that meet one reference value.

    Meeting is "at least as good, or close" (math.isclose), so the values that meet form one
    run of the sorted distinct values: the exact ones, widened by the close neighbours.
    """
    count = len(ranked)
    if math.isnan(reference):
        return count, -1
    lo = int(np.searchsorted(ranked, reference, "left"))
    hi = int(np.searchsorted(ranked, reference, "right")) - 1
    while lo > 0 and _isclose(float(ranked[lo - 1]), reference):
        lo -= 1
    while hi + 1 < count and _isclose(float(ranked[hi + 1]), reference):
        hi += 1
    if direction == "higher_better":
        hi = count - 1
    elif direction == "lower_better":
        lo = 0
    return lo, hi


def _all_bounds(direction: str, ranked: np.ndarray, references: list[float]) -> list[Any]:
    """`_bounds` of many reference values: searched together, and one by one only where a
    neighbouring value may be close (a looser test than math.isclose, so none is missed)."""
    values = np.array(references, dtype=np.float64)
    count = len(ranked)
    if not count:
        return [list(_bounds(direction, ranked, v)) for v in references]
    lo = np.searchsorted(ranked, values, "left")
    hi = np.searchsorted(ranked, values, "right") - 1
    below = ranked[np.maximum(lo - 1, 0)]
    above = ranked[np.minimum(hi + 1, count - 1)]
    with np.errstate(invalid="ignore", over="ignore"):
        slack = np.maximum(1e-8 * np.abs(values), 1e-11)
        near = ((lo > 0) & ~(np.abs(values - below) > slack)) | (
            (hi + 1 < count) & ~(np.abs(above - values) > slack)
        )
    near |= np.isnan(values) | np.isinf(values)
    if direction == "higher_better":
        hi[:] = count - 1
    elif direction == "lower_better":
        lo[:] = 0
    result: list[Any] = np.stack([lo, hi], axis=1).tolist()
    for j in np.flatnonzero(near).tolist():
        result[j] = list(_bounds(direction, ranked, references[j]))
    return result


def _number_meets(direction: str, cands: list[float | None], refs: list[float | None]) -> Any:
    values = np.array([math.nan if c is None else c for c in cands], dtype=np.float64)
    ranked = np.unique(values[~np.isnan(values)])
    ranks = np.where(np.isnan(values), -1, np.searchsorted(ranked, values))
    # References share values too: find the bounds of each distinct one once.
    distinct = list(dict.fromkeys(refs))
    found = _all_bounds(direction, ranked, [math.nan if r is None else r for r in distinct])
    bounds_of = dict(zip(distinct, found, strict=True))
    bounds = np.array([bounds_of[r] for r in refs], dtype=np.intp).reshape(-1, 2)
    rank = ranks[:, None]
    if direction == "higher_better":  # every bound reaches the best value
        return rank >= bounds[:, 0][None, :]
    if direction == "lower_better":
        return (rank <= bounds[:, 1][None, :]) & (rank >= 0)
    return (rank >= bounds[:, 0][None, :]) & (rank <= bounds[:, 1][None, :])


def _keyed_meets(spec: SpecDef, c_codes: np.ndarray, r_codes: np.ndarray, keys: list[Any]) -> Any:
    if spec.kind != "set" or spec.direction != "includes":
        return c_codes[:, None] == r_codes[None, :]
    # Inclusion: compare the few distinct sets once, then look every pair up.
    table = np.array(
        [[r is not None and c is not None and r <= c for r in keys] for c in keys], dtype=bool
    ).reshape(len(keys), len(keys))
    return table[c_codes[:, None], r_codes[None, :]]


def _meets(
    spec: SpecDef, candidates: Sequence[Mapping[str, Any]], references: Sequence[Mapping[str, Any]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Meets per pair, and which candidates / references have no comparable value or none."""
    key = spec.key
    key_of = {"number": _number_key, "set": _set_key}.get(spec.kind, _text_key)
    c_keys = [key_of(c[key]) if key in c else None for c in candidates]
    r_keys = [key_of(r[key]) if key in r else None for r in references]
    if spec.kind == "number":
        # Number keys are floats (or None): `_number_key` made them.
        numbers = cast(list[float | None], c_keys), cast(list[float | None], r_keys)
        meets = _number_meets(spec.direction, *numbers)
    else:
        codes: dict[Any, int] = {}
        c_codes = np.array([codes.setdefault(k, len(codes)) for k in c_keys], dtype=np.intp)
        r_codes = np.array([codes.setdefault(k, len(codes)) for k in r_keys], dtype=np.intp)
        meets = _keyed_meets(spec, c_codes, r_codes, list(codes))
    c_unknown = np.array([k is None for k in c_keys], dtype=bool)
    r_unknown = np.array([k is None for k in r_keys], dtype=bool)
    absent = np.array([key not in r for r in references], dtype=bool)
    return meets, c_unknown, r_unknown, absent


def spec_statuses(
    spec: SpecDef, candidates: Sequence[Mapping[str, Any]], references: Sequence[Mapping[str, Any]]
) -> np.ndarray:
    """Status of every (candidate, reference) pair for one spec, as `compare_specs` decides."""
    meets, c_unknown, r_unknown, absent = _meets(spec, candidates, references)
    status = np.where(meets, MEETS, FALLS_SHORT).astype(np.int8)
    # No value, or one that cannot be compared (a key of None): unknown.
    status[c_unknown, :] = UNKNOWN
    status[:, r_unknown] = UNKNOWN
    status[:, absent] = NOT_COMPARED
    return status


def spec_short(
    spec: SpecDef, candidates: Sequence[Mapping[str, Any]], references: Sequence[Mapping[str, Any]]
) -> np.ndarray:
    """Per pair: the spec falls short or is unknown (what counts against a grade)."""
    meets, c_unknown, r_unknown, absent = _meets(spec, candidates, references)
    short = ~meets
    short[c_unknown, :] = True
    short[:, r_unknown] = True
    short[:, absent] = False
    return short


def grade_matrix(
    definitions: Sequence[SpecDef],
    candidates: Sequence[Mapping[str, Any]],
    references: Sequence[Mapping[str, Any]],
    evidence: np.ndarray,
    keep_statuses: bool = False,
) -> Grades:
    """Grades of every candidate against every reference, from their specs and the evidence
    code of each pair (`tables.CandidateEvidence.matrix`)."""
    shape = (len(candidates), len(references))
    non_critical = sum(not spec.critical for spec in definitions)
    if non_critical > MAX_GAP_BITS:
        raise Unsupported("too many non-critical specs for a gap mask")
    mask_type = np.uint16 if non_critical <= 16 else np.int64
    failed_critical = np.zeros(shape, dtype=bool)
    gap_masks = np.zeros(shape, dtype=mask_type)
    gap_keys: list[str] = []
    statuses = []
    for spec in definitions:
        if keep_statuses:
            status = spec_statuses(spec, candidates, references)
            statuses.append(status)
            short = (status == FALLS_SHORT) | (status == UNKNOWN)
        else:
            short = spec_short(spec, candidates, references)
        if spec.critical:
            failed_critical |= short
        else:
            gap_masks |= short.astype(mask_type) << mask_type(len(gap_keys))
            gap_keys.append(spec.key)
    codes = GRADE_TABLE[evidence, (gap_masks != 0).view(np.int8), failed_critical.view(np.int8)]
    return Grades(codes, gap_masks, tuple(gap_keys), statuses)


def gaps_of(mask: int, gap_keys: Sequence[str]) -> list[str]:
    """The gap keys a mask stands for, in definition order."""
    return [key for bit, key in enumerate(gap_keys) if mask >> bit & 1]
