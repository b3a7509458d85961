"""What the trial API accepts and returns."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from instcat.common import Finite, IsoDate, LongText, Name, ShortText, Strict, Timestamp
from instcat.trials.checks import criterion_problem

MAX_CHECKS = 100
MIN_PAIRS = 3
MAX_PAIRS = 10_000

TrialStatus = Literal[
    "draft", "submitted", "accepted", "rejected", "revision_requested", "superseded"
]


class SiteIn(Strict):
    institution: Name
    lab: Name | None = None
    city: Name | None = None


class Criterion(Strict):
    op: Literal["le", "ge", "abs_diff_le", "rel_diff_le_pct"]
    value: Finite


class CheckIn(Strict):
    metric: Name
    unit: ShortText | None = None
    candidate: Finite
    reference: Finite | None = None
    criterion: Criterion

    @model_validator(mode="after")
    def _evaluable(self) -> "CheckIn":
        problem = criterion_problem(self.criterion.op, self.reference)
        if problem:
            raise ValueError(problem)
        return self


class PairedIn(Strict):
    analyte: Name
    unit: ShortText | None = None
    candidate: list[Finite] = Field(max_length=MAX_PAIRS)
    reference: list[Finite] = Field(max_length=MAX_PAIRS)
    margin: Finite = Field(gt=0)

    @model_validator(mode="after")
    def _paired(self) -> "PairedIn":
        if len(self.candidate) != len(self.reference):
            raise ValueError("candidate and reference must have the same number of values")
        if len(self.candidate) < MIN_PAIRS:
            raise ValueError(f"at least {MIN_PAIRS} pairs are needed")
        return self


class TrialFields(Strict):
    """Fields a vendor fills in; shared by create and update."""

    reference_product_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    site: SiteIn | None = None
    started_on: IsoDate | None = None
    ended_on: IsoDate | None = None
    checks: list[CheckIn] | None = Field(default=None, max_length=MAX_CHECKS)
    paired: PairedIn | None = None
    uptime_pct: Finite | None = Field(default=None, ge=0, le=100)
    failures: int | None = Field(default=None, ge=0, le=1_000_000)
    service_response_hours: Finite | None = Field(default=None, ge=0, le=10_000)
    summary: LongText | None = None
    illustrative: bool | None = None


class TrialCreate(TrialFields):
    product_id: int = Field(ge=1, le=2**31 - 1)
    site: SiteIn
    started_on: IsoDate
    ended_on: IsoDate
    checks: list[CheckIn] = Field(default_factory=list, max_length=MAX_CHECKS)
    illustrative: bool = False


class TrialUpdate(TrialFields):
    """Fields to change; `checks` and `paired`, when given, replace what was there.

    Dates and the reference are checked against the stored trial by the service
    (trials/rules.py), so that each error names its field.
    """


class ReviewIn(Strict):
    decision: Literal["accept", "reject", "request_revision"]
    # Something to read: a comment of only spaces tells the vendor nothing.
    comment: LongText = Field(min_length=1, pattern=r"\S")


class CheckRead(BaseModel):
    metric: str
    unit: str | None
    candidate: float
    reference: float | None
    criterion: dict[str, Any]
    passed: bool


class ReviewRead(BaseModel):
    decision: str
    comment: str
    reviewer: dict[str, Any] | None
    at: Timestamp


class SiteRead(BaseModel):
    institution: str
    lab: str | None
    city: str | None


class TrialBase(BaseModel):
    """What a trial in a list and a whole trial both show."""

    id: int
    product_id: int
    reference_product_id: int | None
    vendor: str
    status: str
    version: int
    previous_id: int | None
    site: SiteRead
    started_on: date
    ended_on: date
    all_checks_passed: bool
    illustrative: bool
    updated_at: Timestamp


class TrialSummary(TrialBase):
    """A trial in a list: everything but the paired values themselves."""

    check_count: int
    has_paired: bool
    equivalent: bool | None


class TrialRead(TrialBase):
    checks: list[CheckRead]
    paired: dict[str, Any] | None
    statistics: dict[str, Any] | None
    uptime_pct: float | None
    failures: int | None
    service_response_hours: float | None
    summary: str | None
    reviews: list[ReviewRead]
    created_at: Timestamp
    submitted_at: Timestamp | None
    decided_at: Timestamp | None
