"""What the alternatives and substitution-list API accepts and returns."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from instcat.catalogue.schemas import ProductRead
from instcat.common import Code, Name, Strict, Timestamp
from instcat.feedback.schemas import FeedbackSummary

DomesticRule = Literal["vendor", "manufacture"]
Grade = Literal["A", "B", "C"]
Basis = Literal["direct", "indirect", "checks_only", "none"]
Caveat = Literal[
    "spec_gaps",
    "indirect_evidence",
    "checks_only",
    "few_pairs",
    "proportional_bias",
    "constant_bias",
    "nonlinear",
    "single_site",
    "not_equivalent",
]
DiffReason = Literal[
    "discontinued",
    "no_longer_domestic",
    "spec_changed",
    "evidence_added",
    "evidence_superseded",
    "evidence_expired",
    "not_equivalent",
    "grade_up",
    "grade_down",
    "criteria_changed",
    "rule_changed",
]
Language = Literal["zh", "en"]

_BASIS = (
    "The strongest evidence the candidate has for this very reference: `direct` (an "
    "equivalent split-sample trial against it), `indirect` (against another imported model "
    "of the category), `checks_only` (metric checks, or split samples without a reference), "
    "`none`. See docs/grading.md."
)
_CAVEATS = "What limits the grade, in this order when present (docs/grading.md)"
_WHY = (
    "Sentences saying which rule decided the grade and what evidence would raise it; "
    "Chinese unless the request asks `lang=en`"
)


class SpecComparisonRead(BaseModel):
    key: str
    critical: bool
    candidate: Any
    reference: Any
    status: Literal["meets", "falls_short", "unknown"]


class TrialRef(BaseModel):
    id: int
    status: str
    all_checks_passed: bool
    equivalent: bool | None
    ended_on: str
    reference_product_id: int | None
    counts: bool = Field(description="Whether this trial counts as evidence for grade A/B")


class ServiceFigures(BaseModel):
    response_hours: float | None
    regions: list[str]


class Candidate(BaseModel):
    product: ProductRead
    grade: Grade
    basis: Basis = Field(description=_BASIS)
    caveats: list[Caveat] = Field(description=_CAVEATS)
    why: list[str] = Field(description=_WHY)
    specs: list[SpecComparisonRead]
    gaps: list[str]
    trials: list[TrialRef]
    feedback: FeedbackSummary
    service: ServiceFigures


class Excluded(BaseModel):
    product_id: int
    reasons: list[str]


class ReferenceAlternatives(BaseModel):
    reference: ProductRead
    candidates: list[Candidate] = Field(
        description="Best grade first, then best rated; the page that `limit`/`offset` asked for"
    )
    excluded: list[Excluded] = Field(
        description="By product id; the page that `excluded_limit`/`excluded_offset` asked for"
    )
    candidates_total: int = Field(description="Candidates in all, over every page")
    excluded_total: int = Field(description="Excluded products in all, over every page")


class Alternatives(ReferenceAlternatives):
    domestic_rule: DomesticRule


class CategoryAlternatives(BaseModel):
    category: str
    domestic_rule: DomesticRule
    references: list[ReferenceAlternatives]


class ListCriteria(Strict):
    label: Name
    categories: list[Code] | None = Field(default=None, max_length=200)
    min_grade: Grade = "C"
    min_feedback: int = Field(default=0, ge=0, le=1_000_000)
    min_rating: float | None = Field(default=None, ge=1, le=5)
    max_service_hours: float | None = Field(default=None, ge=0, le=10_000)
    max_trial_age_months: int | None = Field(default=None, ge=1, le=600)
    domestic_rule: DomesticRule = "vendor"


class Replaces(BaseModel):
    reference: ProductRead
    grade: Grade
    basis: Basis | None = Field(
        description=_BASIS + " Null for lists generated before grades had a basis."
    )
    caveats: list[Caveat] = Field(description=_CAVEATS + "; empty for such lists")
    why: list[str] = Field(description=_WHY + "; empty for such lists")
    specs: list[SpecComparisonRead]
    gaps: list[str]


class Evidence(BaseModel):
    trials: list[TrialRef]
    accepted_trials: int
    feedback: FeedbackSummary
    service: ServiceFigures


class Entry(BaseModel):
    category: str
    product: ProductRead
    grade: Grade
    replaces: list[Replaces]
    evidence: Evidence


class SubstitutionListSummary(BaseModel):
    id: int
    label: str
    status: Literal["draft", "published"]
    criteria: dict[str, Any]
    domestic_rule: DomesticRule
    generated_at: Timestamp
    published_at: Timestamp | None
    entry_count: int


class SubstitutionList(SubstitutionListSummary):
    entries: list[Entry]


_REASONS = "Why, in the contract's vocabulary and order (docs/grading.md)"


class RemovedEntry(Entry):
    reasons: list[DiffReason] = Field(description=_REASONS)


class GradeChange(BaseModel):
    product: ProductRead
    from_: Grade = Field(alias="from", serialization_alias="from")
    to: Grade
    reasons: list[DiffReason] = Field(description=_REASONS)

    model_config = {"populate_by_name": True}


class ListDiff(BaseModel):
    list_id: int
    against: int
    added: list[Entry]
    removed: list[RemovedEntry]
    changed: list[GradeChange]
