"""Trial reports, their metric checks and reviews."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Float, Index, Text
from sqlmodel import Field, SQLModel

from instcat.models.base import JSONType, UTCDateTime, utcnow


class Trial(SQLModel, table=True):
    __tablename__ = "trial"
    __table_args__ = (
        Index(None, "status", "product_id"),
        Index(None, "vendor_id", "status"),
        # Covers what list generation reads of every accepted trial, without the large rows.
        Index(
            "ix_trial_evidence",
            "status",
            "product_id",
            "id",
            "check_count",
            "all_checks_passed",
            "has_paired",
            "equivalent",
            "ended_on",
            "reference_product_id",
            "pair_count",
            "proportional_bias",
            "constant_bias",
            "linear",
            "site_institution",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    reference_product_id: int | None = Field(default=None, foreign_key="product.id")
    # The owner: the product's vendor when the trial was created.
    vendor_id: int = Field(foreign_key="vendor.id")
    status: str = Field(default="draft", max_length=20)
    # The report's version: 1, then +1 for each amendment (previous_id links back).
    version: int = Field(default=1)
    previous_id: int | None = Field(default=None, foreign_key="trial.id", index=True)
    # Optimistic concurrency for the ETag; bumped on every change.
    row_version: int = Field(default=1)
    site_institution: str = Field(max_length=200)
    site_lab: str | None = Field(default=None, max_length=200)
    site_city: str | None = Field(default=None, max_length=200)
    started_on: date
    ended_on: date
    uptime_pct: float | None = Field(default=None, sa_column=Column(Float))
    failures: int | None = None
    service_response_hours: float | None = Field(default=None, sa_column=Column(Float))
    summary: str | None = Field(default=None, sa_column=Column(Text))
    paired: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    statistics: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    # Kept beside the JSON so that lists and grading never load the paired values.
    has_paired: bool = Field(default=False)
    equivalent: bool | None = None
    all_checks_passed: bool = Field(default=True)
    # The figures of the statistics that grading reads (`instcat.substitution.rules`).
    pair_count: int | None = None
    proportional_bias: bool | None = None
    constant_bias: bool | None = None
    linear: bool | None = None
    check_count: int = Field(default=0)
    illustrative: bool = Field(default=False)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TrialCheck(SQLModel, table=True):
    __tablename__ = "trial_check"

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE", index=True)
    position: int
    metric: str = Field(max_length=200)
    unit: str | None = Field(default=None, max_length=40)
    candidate: float = Field(sa_column=Column(Float, nullable=False))
    reference: float | None = Field(default=None, sa_column=Column(Float))
    criterion_op: str = Field(max_length=20)
    criterion_value: float = Field(sa_column=Column(Float, nullable=False))
    passed: bool


class TrialReview(SQLModel, table=True):
    __tablename__ = "trial_review"

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE", index=True)
    decision: str = Field(max_length=20)
    comment: str = Field(sa_column=Column(Text, nullable=False))
    reviewer_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
