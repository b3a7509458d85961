"""User feedback on products, and idempotency records for retried POSTs."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from instcat.models.base import JSONType, UTCDateTime, utcnow


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"
    __table_args__ = (
        Index(None, "product_id", "status"),
        # Covers the published-feedback summaries (count and means) of list generation.
        Index(
            "ix_feedback_summary",
            "status",
            "product_id",
            "performance",
            "stability",
            "usability",
            "service",
            "value",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    author_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    performance: int
    stability: int
    usability: int
    service: int
    value: int
    months_used: int | None = None
    text: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="pending", max_length=20, index=True)
    illustrative: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    moderated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    moderator_id: int | None = Field(default=None, foreign_key="user_account.id")
    moderation_comment: str | None = Field(default=None, sa_column=Column(Text))


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a POST sent with an Idempotency-Key, kept for replays."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "route", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    route: str = Field(max_length=200)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    state: str = Field(default="in_progress", max_length=20)
    response_status: int | None = None
    response_body: Any | None = Field(default=None, sa_column=Column(JSONType))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
