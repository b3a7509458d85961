"""Turning graded evidence into list entries under a list's criteria (no I/O)."""

from instcat.catalogue.schemas import ProductRead
from instcat.substitution.grading import (
    GRADE_RANK,
    best_grade,
    grade,
    meets_minimum,
    newest_first,
)
from instcat.substitution.schemas import (
    Entry,
    Evidence,
    ListCriteria,
    Replaces,
    SpecComparisonRead,
    TrialRef,
)
from tests.reference.alternatives import candidates_of, references, service_of
from tests.reference.evidence import CategoryEvidence


def _passes_thresholds(
    evidence: CategoryEvidence, product: ProductRead, criteria: ListCriteria
) -> bool:
    feedback = evidence.feedback_of(product.id)
    if feedback.count < criteria.min_feedback:
        return False
    if criteria.min_rating is not None and (
        feedback.overall is None or feedback.overall < criteria.min_rating
    ):
        return False
    if criteria.max_service_hours is not None:
        hours = service_of(evidence, product).response_hours
        if hours is None or hours > criteria.max_service_hours:
            return False
    return True


def entries_for_category(evidence: CategoryEvidence, criteria: ListCriteria) -> list[Entry]:
    """One entry per domestic product that replaces at least one reference well enough."""
    rule = criteria.domestic_rule
    refs = references(evidence, rule)
    imported = {r.id for r in refs}
    entries = []
    for product in candidates_of(evidence, rule):
        if not _passes_thresholds(evidence, product, criteria):
            continue
        trials = evidence.trials.get(product.id, [])
        replaces = []
        for reference in refs:
            verdict = grade(
                evidence.definitions, product.specs, reference.specs, trials, reference.id, imported
            )
            if verdict.grade is None or not meets_minimum(verdict.grade, criteria.min_grade):
                continue
            replaces.append(
                Replaces(
                    reference=reference,
                    grade=verdict.grade,
                    **verdict.explained(),
                    specs=[SpecComparisonRead(**c.as_dict()) for c in verdict.specs],
                    gaps=verdict.gaps,
                )
            )
        if not replaces:
            continue
        replaces.sort(key=lambda r: (GRADE_RANK[r.grade], r.reference.id))
        ordered_trials = newest_first(trials)
        entries.append(
            Entry(
                category=evidence.code,
                product=product,
                grade=best_grade(r.grade for r in replaces),
                replaces=replaces,
                evidence=Evidence(
                    trials=[TrialRef(**t.as_dict()) for t in ordered_trials],
                    accepted_trials=len(trials),
                    feedback=evidence.feedback_of(product.id),
                    service=service_of(evidence, product),
                ),
            )
        )
    return entries


def build_entries(evidence: dict[int, CategoryEvidence], criteria: ListCriteria) -> list[Entry]:
    """Entries of every category, ordered by category code, grade, then product id."""
    entries = [e for ev in evidence.values() for e in entries_for_category(ev, criteria)]
    entries.sort(key=lambda e: (e.category, GRADE_RANK[e.grade], e.product.id))
    return entries
