"""What the market-figure API accepts and returns: a figure with its source."""

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from instcat.common import (
    Code,
    Finite,
    LongText,
    Name,
    ShortText,
    Strict,
    Timestamp,
    Url,
    Year,
)

_SOURCE_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,79}$")


class SourceIn(Strict):
    publication: Name
    title: ShortText = Field(min_length=1)
    date: str | None = None
    quote: LongText | None = None
    url: Url | None = None

    @field_validator("date")
    @classmethod
    def _date_shape(cls, value: str | None) -> str | None:
        if value is not None and not _SOURCE_DATE.match(value):
            raise ValueError("use YYYY, YYYY-MM or YYYY-MM-DD")
        return value


class SourceRead(BaseModel):
    publication: str
    title: str
    date: str | None
    quote: str | None
    url: str | None


class MarketFigureCreate(Strict):
    category: Code | None = None
    scope: ShortText | None = None
    year: Year
    metric: str = Field(max_length=80)
    value: Finite
    value_low: Finite | None = None
    value_high: Finite | None = None
    unit: Name = Field(max_length=20)
    basis: Literal["units", "value"] | None = None
    note: LongText | None = None
    ref: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
    source: SourceIn

    @field_validator("metric")
    @classmethod
    def _metric_shape(cls, value: str) -> str:
        if not _METRIC.match(value):
            raise ValueError("metric names are snake_case, e.g. domestic_share_units")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "MarketFigureCreate":
        if self.category is None and not self.scope:
            raise ValueError("scope is required when category is null")
        if self.metric.startswith("domestic_share"):
            for name in ("value", "value_low", "value_high"):
                number = getattr(self, name)
                if number is not None and not 0 <= number <= 100:
                    raise ValueError(f"{name}: a domestic share is a percentage from 0 to 100")
        low, high = self.value_low, self.value_high
        if (low is None) != (high is None):
            raise ValueError("give both value_low and value_high, or neither")
        if low is not None and high is not None and not low <= self.value <= high:
            raise ValueError("value must lie between value_low and value_high")
        return self


class MarketFigureRead(BaseModel):
    id: int
    ref: str | None
    category: str | None
    scope: str | None
    year: int
    metric: str
    value: float
    value_low: float | None
    value_high: float | None
    unit: str
    basis: str | None
    note: str | None
    source: SourceRead
    created_at: Timestamp
