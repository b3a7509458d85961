"""What the feedback API accepts and returns."""

from typing import Literal

from pydantic import BaseModel, Field

from instcat.common import LongText, Page, Strict, Timestamp

DIMENSIONS = ("performance", "stability", "usability", "service", "value")
Rating = int


class RatingsIn(Strict):
    performance: int = Field(ge=1, le=5)
    stability: int = Field(ge=1, le=5)
    usability: int = Field(ge=1, le=5)
    service: int = Field(ge=1, le=5)
    value: int = Field(ge=1, le=5)


class FeedbackCreate(Strict):
    ratings: RatingsIn
    months_used: int | None = Field(default=None, ge=0, le=600)
    text: LongText | None = Field(default=None, max_length=5000)
    illustrative: bool = False


class ModerationIn(Strict):
    decision: Literal["publish", "reject"]
    comment: LongText | None = Field(default=None, max_length=5000)


class RatingsRead(BaseModel):
    performance: int
    stability: int
    usability: int
    service: int
    value: int


class FeedbackRead(BaseModel):
    id: int
    product_id: int
    ratings: RatingsRead
    months_used: int | None
    text: str | None
    status: str
    illustrative: bool
    created_at: Timestamp
    moderated_at: Timestamp | None
    moderation_comment: str | None


class FeedbackSummary(BaseModel):
    """Published feedback only: count, mean per dimension, and the mean of those means."""

    count: int
    mean: dict[str, float]
    overall: float | None


class FeedbackPage(Page[FeedbackRead]):
    summary: FeedbackSummary
