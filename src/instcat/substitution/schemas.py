"""What the alternatives and substitution-list API accepts and returns."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from instcat.catalogue.schemas import ProductRead
from instcat.common import Code, Name, Strict, Timestamp
from instcat.feedback.schemas import FeedbackSummary

DomesticRule = Literal["vendor", "manufacture"]
Grade = Literal["A", "B", "C"]


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


class GradeChange(BaseModel):
    product: ProductRead
    from_: Grade = Field(alias="from", serialization_alias="from")
    to: Grade

    model_config = {"populate_by_name": True}


class ListDiff(BaseModel):
    list_id: int
    against: int
    added: list[Entry]
    removed: list[Entry]
    changed: list[GradeChange]
