"""Graded domestic alternatives for imported references, from loaded evidence (no I/O)."""

from dataclasses import dataclass

from instcat.catalogue.schemas import ProductRead
from instcat.substitution.grading import GRADE_RANK, Verdict, grade
from instcat.substitution.schemas import (
    Candidate,
    Excluded,
    ReferenceAlternatives,
    ServiceFigures,
    SpecComparisonRead,
    TrialRef,
)
from tests.reference.evidence import CategoryEvidence, is_domestic


@dataclass(frozen=True, slots=True)
class Graded:
    product: ProductRead
    verdict: Verdict


def references(evidence: CategoryEvidence, rule: str) -> list[ProductRead]:
    """The imported products of the category (active or not: buyers still ask about them)."""
    return [p for p in evidence.products if not is_domestic(p, rule)]


def candidates_of(evidence: CategoryEvidence, rule: str) -> list[ProductRead]:
    """The active domestic products of the category."""
    return [p for p in evidence.products if p.status == "active" and is_domestic(p, rule)]


def grade_all(evidence: CategoryEvidence, reference: ProductRead, rule: str) -> list[Graded]:
    """Every domestic candidate graded against one reference."""
    imported = {p.id for p in references(evidence, rule)}
    return [
        Graded(
            product,
            grade(
                evidence.definitions,
                product.specs,
                reference.specs,
                evidence.trials.get(product.id, []),
                reference.id,
                imported,
            ),
        )
        for product in candidates_of(evidence, rule)
    ]


def service_of(evidence: CategoryEvidence, product: ProductRead) -> ServiceFigures:
    hours, regions = evidence.service.get(product.vendor, (None, []))
    return ServiceFigures(response_hours=hours, regions=regions)


def candidate_answer(evidence: CategoryEvidence, graded: Graded, lang: str = "zh") -> Candidate:
    verdict = graded.verdict
    assert verdict.grade is not None
    return Candidate(
        product=graded.product,
        grade=verdict.grade,
        **verdict.explained(lang),
        specs=[SpecComparisonRead(**c.as_dict()) for c in verdict.specs],
        gaps=verdict.gaps,
        trials=[TrialRef(**t.as_dict()) for t in verdict.trials],
        feedback=evidence.feedback_of(graded.product.id),
        service=service_of(evidence, graded.product),
    )


def answer_for(
    evidence: CategoryEvidence, reference: ProductRead, rule: str
) -> ReferenceAlternatives:
    """Candidates best grade first (then best rated), and the excluded with their reasons.

    The unpaged reference implementation: the service reaches the same answer faster
    (`ranking.CategoryIndex`), and tests hold the two equal.
    """
    graded = grade_all(evidence, reference, rule)
    accepted = [g for g in graded if g.verdict.grade is not None]
    accepted.sort(
        key=lambda g: (
            GRADE_RANK[g.verdict.grade or "C"],
            -(evidence.feedback_of(g.product.id).overall or 0),
            g.product.id,
        )
    )
    excluded = [
        Excluded(product_id=g.product.id, reasons=g.verdict.reasons)
        for g in graded
        if g.verdict.grade is None
    ]
    return ReferenceAlternatives(
        reference=reference,
        candidates=[candidate_answer(evidence, g) for g in accepted],
        excluded=excluded,
        candidates_total=len(accepted),
        excluded_total=len(excluded),
    )
