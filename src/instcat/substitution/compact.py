"""List entries in their stored form, built a category at a time, and expanded for reading.

A stored entry keeps what the list froze: the product as it was, the evidence (trials,
feedback), the entry grade, and for each reference it replaces the reference's id, the
grade and the non-critical gaps (a bit mask over the category's gap keys). The ids and the
masks are packed as little-endian integers (`REFERENCE_ID`, `mask_type`), which JSON holds
as base64: national lists hold millions of pairs. What many entries share is stored once
per list (`ListParts`): each reference product, each vendor's names and service figures,
and each category's names, spec definitions and gap keys. The spec-by-spec comparison of
any (entry, reference) is recomputed exactly by `compare_specs` when read. Lists generated
before some of this was shared keep it in every entry, with plain lists of numbers, and
read as before.
"""

from base64 import b64decode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from instcat.catalogue.specs import SpecDef
from instcat.substitution.evidence_rows import feedback_summary
from instcat.substitution.grading import compare_specs, grade, newest_first
from instcat.substitution.matrix import GRADE_CODES, Unsupported, gaps_of, grade_matrix
from instcat.substitution.rules import EXCLUDED, GRADE_RANK, TRIAL_FIELDS, explained
from instcat.substitution.schemas import Entry, ListCriteria
from instcat.substitution.snapshot import (
    Catalogue,
    CategoryRows,
    is_candidate_row,
    is_domestic_row,
    with_names,
)
from instcat.substitution.tables import CandidateEvidence

REFERENCE_ID = np.dtype("<i4")  # product ids are 32-bit integers in the schema
EVIDENCE = np.dtype("<u2")  # `rules.evidence_for` codes


def mask_type(keys: int) -> np.dtype:
    """The narrowest unsigned integer that holds a gap mask over `keys` keys."""
    for width in (1, 2, 4):
        if keys <= 8 * width:
            return np.dtype(f"<u{width}")
    return np.dtype("<u8")


# What a `replaces` item of a list generated before grades had a basis shows.
UNEXPLAINED: dict[str, Any] = {"basis": None, "caveats": [], "why": []}


@lru_cache(maxsize=4096)
def _explained(code: int, gaps: tuple[str, ...], lang: str) -> dict[str, Any]:
    """`rules.explained`, once per distinct pair of evidence and gaps (lists repeat them);
    shared by the entries that show it, which only read it."""
    return explained(code, gaps, lang)


def unpacked(packed: str, dtype: np.dtype) -> list[int]:
    """Integers packed by `category_entries` (base64 in JSON)."""
    values: list[int] = np.frombuffer(b64decode(packed), dtype).tolist()
    return values


@dataclass
class CategoryList:
    """One category's part of a list: its stored entries in list order, and what they
    share: the references they replace, their vendors and the category's own part."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    references: dict[int, dict[str, Any]] = field(default_factory=dict)
    vendors: dict[str, dict[str, Any]] = field(default_factory=dict)
    part: dict[str, Any] = field(default_factory=dict)  # names and gap keys


@dataclass
class ListParts:
    """What a list stores once for its entries: category code → names and gap keys, and
    vendor slug → names and service figures (those of the entries being read)."""

    categories: Mapping[str, dict[str, Any]]
    vendors: Mapping[str, dict[str, Any]]


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Grade codes, gap masks and evidence codes of every (candidate, reference) pair."""
    ref_ids = [r["id"] for r in refs]
    evidence = CandidateEvidence(
        [rows.trials.get(c["id"], ()) for c in candidates], set(ref_ids)
    ).matrix(ref_ids)
    try:
        graded = grade_matrix(
            rows.definitions, [c["specs"] for c in candidates], [r["specs"] for r in refs], evidence
        )
        return graded.codes, graded.gap_masks, evidence, graded.gap_keys
    except Unsupported:
        # Values the matrix cannot mirror: grade pair by pair (and fail the same way).
        keys = tuple(d.key for d in rows.definitions if not d.critical)
        codes = np.full((len(candidates), len(refs)), EXCLUDED, dtype=np.int8)
        masks = np.zeros((len(candidates), len(refs)), dtype=np.int64)
        references = set(ref_ids)
        for i, c in enumerate(candidates):
            trials = rows.trials.get(c["id"], [])
            for j, r in enumerate(refs):
                verdict = grade(
                    rows.definitions, c["specs"], r["specs"], trials, r["id"], references
                )
                evidence[i, j] = verdict.evidence
                if verdict.grade is not None:
                    codes[i, j] = GRADE_RANK[verdict.grade]
                    masks[i, j] = sum(1 << keys.index(g) for g in verdict.gaps)
        return codes, masks, evidence, keys


def category_entries(
    rows: CategoryRows, catalogue: Catalogue, criteria: ListCriteria
) -> CategoryList:
    """Stored entries of one category in list order, and what they share."""
    rule = criteria.domestic_rule
    refs = [p for p in rows.products if not is_domestic_row(p, rule)]
    candidates, service = [], []
    for product in rows.products:
        if not is_candidate_row(product, rule):
            continue
        figures = catalogue.service(product["vendor"])
        if _passes(rows.feedback.get(product["id"]), figures, criteria):
            candidates.append(product)
            service.append(figures)
    if not candidates or not refs:
        return CategoryList()
    codes, masks, evidence, gap_keys = _grades(rows, candidates, refs)
    ok = codes <= GRADE_RANK[criteria.min_grade]
    cand_idx, ref_idx = np.nonzero(ok)
    if not len(cand_idx):
        return CategoryList()
    pair_codes = codes[cand_idx, ref_idx]
    # Per candidate: best grade first, then reference id (nonzero gives references in id
    # order within a candidate, and a stable sort keeps it).
    order = np.argsort(cand_idx * 4 + pair_codes, kind="stable")
    cand_idx, ref_idx, pair_codes = cand_idx[order], ref_idx[order], pair_codes[order]
    # Whole-category bytes, sliced per entry: far cheaper than small numpy slices (msgspec
    # writes bytes as base64).
    ids = np.array([r["id"] for r in refs], dtype=REFERENCE_ID)[ref_idx].tobytes()
    gap_mask = mask_type(len(gap_keys))
    pair_masks = masks[cand_idx, ref_idx].astype(gap_mask).tobytes()
    pair_grades = GRADE_CODES[pair_codes].tobytes().decode()
    pair_evidence = evidence[cand_idx, ref_idx].astype(EVIDENCE).tobytes()
    starts = np.flatnonzero(np.r_[True, cand_idx[1:] != cand_idx[:-1]]).tolist()
    owners = cand_idx[starts].tolist()
    built = CategoryList()
    id_size, mask_size, code_size = REFERENCE_ID.itemsize, gap_mask.itemsize, EVIDENCE.itemsize
    for i, start, end in zip(owners, starts, [*starts[1:], len(pair_grades)], strict=True):
        product = candidates[i]
        if product["vendor"] not in built.vendors:
            vendor = catalogue.by_slug[product["vendor"]]
            built.vendors[product["vendor"]] = {
                "name_zh": vendor.name_zh,
                "name_en": vendor.name_en,
                "service": service[i],
            }
        trials = newest_first(rows.trials.get(product["id"], []))
        grades = pair_grades[start:end]
        built.entries.append(
            {
                "category": rows.code,
                "product": product,
                "grade": grades[0],
                "replaces": {
                    "references": ids[start * id_size : end * id_size],
                    "grades": grades,
                    "gaps": pair_masks[start * mask_size : end * mask_size],
                    "evidence": pair_evidence[start * code_size : end * code_size],
                },
                "evidence": {
                    "trials": [t.as_row() for t in trials],
                    "feedback": feedback_summary(rows.feedback.get(product["id"])),
                },
            }
        )
    built.entries.sort(key=lambda e: (GRADE_RANK[e["grade"]], e["product"]["id"]))
    built.part = {"name_zh": rows.name_zh, "name_en": rows.name_en, "gap_keys": list(gap_keys)}
    for j in np.unique(ref_idx).tolist():  # stored whole, as `ProductRead` JSON
        reference = refs[j]
        vendor = catalogue.by_slug[reference["vendor"]]
        names = {"name_zh": vendor.name_zh, "name_en": vendor.name_en}
        built.references[reference["id"]] = with_names(reference, names, built.part)
    return built


def expanded(
    data: dict[str, Any],
    references: Mapping[int, dict[str, Any]],
    definitions: Mapping[str, Sequence[SpecDef]],
    parts: ListParts | None = None,
    specs: bool = True,
    lang: str = "zh",
) -> dict[str, Any]:
    """The JSON of the public entry of a stored one (`expand` validates it). `parts` is None
    for a list generated before its entries shared them; entries stored before compaction
    are whole. With `specs` False, each reference's spec-by-spec comparison is left empty
    (exports that do not show it skip the work). Lists generated before grades had a basis
    show `basis` null and no caveats or why."""
    stored = data["replaces"]
    if isinstance(stored, list):
        return {**data, "replaces": [{**r, **UNEXPLAINED} for r in stored]}
    product = data["product"]
    evidence = data["evidence"]
    if parts is None:
        gap_keys = stored["gap_keys"]
        ids, masks = stored["references"], stored["gaps"]
    else:
        category = parts.categories[data["category"]]
        vendor = parts.vendors[product["vendor"]]
        gap_keys = category["gap_keys"]
        ids = unpacked(stored["references"], REFERENCE_ID)
        masks = unpacked(stored["gaps"], mask_type(len(gap_keys)))
        product = with_names(product, vendor, category)
        trials = [dict(zip(TRIAL_FIELDS, row, strict=True)) for row in evidence["trials"]]
        evidence = {
            "trials": trials,
            "accepted_trials": len(trials),
            "feedback": evidence["feedback"],
            "service": vendor["service"],
        }
    shown = definitions.get(data["category"], []) if specs else []
    codes: list[int] | list[None] = [None] * len(ids)
    if "evidence" in stored:
        found = stored["evidence"]
        codes = found if isinstance(found, list) else unpacked(found, EVIDENCE)
    replaces = []
    for ref_id, grade_value, mask, code in zip(ids, stored["grades"], masks, codes, strict=True):
        reference = references[ref_id]
        compared = compare_specs(shown, product["specs"], reference["specs"]) if specs else []
        gaps = gaps_of(mask, gap_keys)
        replaces.append(
            {
                "reference": reference,
                "grade": grade_value,
                **(UNEXPLAINED if code is None else _explained(code, tuple(gaps), lang)),
                "specs": [c.as_dict() for c in compared],
                "gaps": gaps,
            }
        )
    return {**data, "product": product, "evidence": evidence, "replaces": replaces}


def expand(
    data: dict[str, Any],
    references: Mapping[int, dict[str, Any]],
    definitions: Mapping[str, Sequence[SpecDef]],
    parts: ListParts | None = None,
    lang: str = "zh",
) -> Entry:
    """The public entry of a stored one (see `expanded`)."""
    return Entry.model_validate(expanded(data, references, definitions, parts, lang=lang))
