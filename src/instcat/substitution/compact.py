"""List entries in their stored form, built a category at a time, and expanded for reading.

A stored entry keeps what the list froze: the product as it was, the evidence (trials,
feedback, service), the entry grade, and for each reference it replaces the reference's id,
the grade and the non-critical gaps (a bit mask over `gap_keys`). Each reference product is
stored once per list, and the category's spec definitions once per list, so the spec-by-spec
comparison of any (entry, reference) is recomputed exactly by `compare_specs` when read.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from instcat.catalogue.specs import SpecDef
from instcat.substitution.grading import GRADE_RANK, compare_specs, grade, newest_first
from instcat.substitution.matrix import GRADE_CODES, Unsupported, gaps_of, grade_matrix
from instcat.substitution.schemas import Entry, ListCriteria
from instcat.substitution.snapshot import (
    Catalogue,
    CategoryRows,
    feedback_summary,
    is_domestic_row,
)


def definitions_json(definitions: Sequence[SpecDef]) -> list[list[Any]]:
    """Spec definitions as stored with a list: [key, kind, direction, critical, unit]."""
    return [[d.key, d.kind, d.direction, d.critical, d.unit] for d in definitions]


def definitions_from_json(stored: Sequence[Sequence[Any]]) -> list[SpecDef]:
    return [SpecDef(*row) for row in stored]


def _passes(feedback: Any, service: dict[str, Any], criteria: ListCriteria) -> bool:
    """The list's thresholds on feedback (a `load_feedback` row or None) and service."""
    if (feedback[0] if feedback else 0) < criteria.min_feedback:
        return False
    if criteria.min_rating is not None:
        overall = feedback_summary(feedback)["overall"]
        if overall is None or overall < criteria.min_rating:
            return False
    hours = service["response_hours"]
    return criteria.max_service_hours is None or (
        hours is not None and hours <= criteria.max_service_hours
    )


def _grades(
    rows: CategoryRows, candidates: list[dict[str, Any]], refs: list[dict[str, Any]]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    verified = [any(t.qualifies for t in rows.trials.get(c["id"], [])) for c in candidates]
    try:
        graded = grade_matrix(
            rows.definitions, [c["specs"] for c in candidates], [r["specs"] for r in refs], verified
        )
        return graded.codes, graded.gap_masks, graded.gap_keys
    except Unsupported:
        # Values the matrix cannot mirror: grade pair by pair (and fail the same way).
        keys = tuple(d.key for d in rows.definitions if not d.critical)
        codes = np.full((len(candidates), len(refs)), 3, dtype=np.int8)
        masks = np.zeros((len(candidates), len(refs)), dtype=np.int64)
        for i, c in enumerate(candidates):
            trials = rows.trials.get(c["id"], [])
            for j, r in enumerate(refs):
                verdict = grade(rows.definitions, c["specs"], r["specs"], trials, r["id"])
                if verdict.grade is not None:
                    codes[i, j] = GRADE_RANK[verdict.grade]
                    masks[i, j] = sum(1 << keys.index(g) for g in verdict.gaps)
        return codes, masks, keys


def category_entries(
    rows: CategoryRows, catalogue: Catalogue, criteria: ListCriteria
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Stored entries of one category in list order, and the references they replace."""
    rule = criteria.domestic_rule
    refs = [p for p in rows.products if not is_domestic_row(p, rule)]
    candidates, service = [], []
    for product in rows.products:
        if product["status"] != "active" or not is_domestic_row(product, rule):
            continue
        figures = catalogue.service(product["vendor"])
        if _passes(rows.feedback.get(product["id"]), figures, criteria):
            candidates.append(product)
            service.append(figures)
    if not candidates or not refs:
        return [], {}
    codes, masks, gap_keys = _grades(rows, candidates, refs)
    ok = codes <= GRADE_RANK[criteria.min_grade]
    cand_idx, ref_idx = np.nonzero(ok)
    if not len(cand_idx):
        return [], {}
    pair_codes = codes[cand_idx, ref_idx]
    # Per candidate: best grade first, then reference id (nonzero gives references in id
    # order within a candidate, and a stable sort keeps it).
    order = np.argsort(cand_idx * 4 + pair_codes, kind="stable")
    cand_idx, ref_idx, pair_codes = cand_idx[order], ref_idx[order], pair_codes[order]
    # Whole-category lists, sliced per entry: far cheaper than small numpy slices.
    pair_refs = np.array([r["id"] for r in refs], dtype=np.int64)[ref_idx].tolist()
    pair_masks = masks[cand_idx, ref_idx].tolist()
    pair_grades = GRADE_CODES[pair_codes].tobytes().decode()
    starts = np.flatnonzero(np.r_[True, cand_idx[1:] != cand_idx[:-1]]).tolist()
    owners = cand_idx[starts].tolist()
    keys = list(gap_keys)
    entries = []
    for i, start, end in zip(owners, starts, [*starts[1:], len(pair_refs)], strict=True):
        product = candidates[i]
        trials = newest_first(rows.trials.get(product["id"], []))
        grades = pair_grades[start:end]
        entries.append(
            {
                "category": rows.code,
                "product": product,
                "grade": grades[0],
                "replaces": {
                    "references": pair_refs[start:end],
                    "grades": grades,
                    "gaps": pair_masks[start:end],
                    "gap_keys": keys,
                },
                "evidence": {
                    "trials": [t.as_dict() for t in trials],
                    "accepted_trials": len(trials),
                    "feedback": feedback_summary(rows.feedback.get(product["id"])),
                    "service": service[i],
                },
            }
        )
    entries.sort(key=lambda e: (GRADE_RANK[e["grade"]], e["product"]["id"]))
    return entries, {refs[j]["id"]: refs[j] for j in np.unique(ref_idx).tolist()}


def expand(
    data: dict[str, Any],
    references: Mapping[int, dict[str, Any]],
    definitions: Mapping[str, Sequence[SpecDef]],
) -> Entry:
    """The public entry of a stored one (entries stored before compaction are already whole)."""
    stored = data["replaces"]
    if isinstance(stored, list):
        return Entry.model_validate(data)
    product = data["product"]
    specs = definitions.get(data["category"], [])
    replaces = []
    for ref_id, grade_value, mask in zip(
        stored["references"], stored["grades"], stored["gaps"], strict=True
    ):
        reference = references[ref_id]
        compared = compare_specs(specs, product["specs"], reference["specs"])
        replaces.append(
            {
                "reference": reference,
                "grade": grade_value,
                "specs": [c.as_dict() for c in compared],
                "gaps": gaps_of(mask, stored["gap_keys"]),
            }
        )
    return Entry.model_validate({**data, "replaces": replaces})
