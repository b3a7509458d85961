"""Catalogue tables: categories, spec definitions, market figures, vendors, products."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from instcat.models.base import JSONType, UTCDateTime, utcnow


class Category(SQLModel, table=True):
    __tablename__ = "category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    parent_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    description: str | None = Field(default=None, sa_column=Column(Text))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SpecDefinition(SQLModel, table=True):
    __tablename__ = "spec_definition"
    __table_args__ = (UniqueConstraint("category_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="category.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=80)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    unit: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=10)
    direction: str = Field(max_length=20)
    critical: bool = Field(default=False)
    position: int = Field(default=0)


class MarketFigure(SQLModel, table=True):
    __tablename__ = "market_figure"
    __table_args__ = (Index(None, "category_id", "metric", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int | None = Field(default=None, foreign_key="category.id")
    scope: str | None = Field(default=None, max_length=500)
    year: int
    metric: str = Field(max_length=80)
    value: float = Field(sa_column=Column(Float, nullable=False))
    value_low: float | None = Field(default=None, sa_column=Column(Float))
    value_high: float | None = Field(default=None, sa_column=Column(Float))
    unit: str = Field(max_length=20)
    basis: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, sa_column=Column(Text))
    ref: str | None = Field(default=None, max_length=40, unique=True)
    source_publication: str = Field(max_length=500)
    source_title: str = Field(max_length=500)
    source_date: str | None = Field(default=None, max_length=10)
    source_quote: str | None = Field(default=None, sa_column=Column(Text))
    source_url: str | None = Field(default=None, max_length=1000)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Vendor(SQLModel, table=True):
    __tablename__ = "vendor"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    country: str = Field(max_length=2, index=True)
    founded_year: int | None = None
    city: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=500)
    service_regions: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    response_hours: float | None = Field(default=None, sa_column=Column(Float))
    certifications: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    description: str | None = Field(default=None, sa_column=Column(Text))
    source: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    illustrative: bool = Field(default=False)
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Product(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (
        UniqueConstraint("vendor_id", "model"),
        Index(None, "category_id", "status"),
        # A category's products in id order: searches page through them without sorting.
        Index(None, "category_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    category_id: int = Field(foreign_key="category.id")
    model: str = Field(max_length=200)
    name: str = Field(max_length=300)
    specs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    made_in: str = Field(max_length=2)
    launch_year: int | None = None
    status: str = Field(default="active", max_length=20)
    price_band: str | None = Field(default=None, max_length=100)
    illustrative: bool = Field(default=False)
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProductSpecValue(SQLModel, table=True):
    """One searchable spec value of a product: a number, or one member of a set."""

    __tablename__ = "product_spec_value"
    __table_args__ = (
        Index(None, "key", "num_value"),
        Index(None, "key", "text_value"),
        # Answers a spec filter for one product from the index alone; key first, so a
        # category's products (probed in id order) fall on few, neighbouring pages.
        Index(None, "key", "product_id", "num_value", "text_value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=80)
    num_value: float | None = Field(default=None, sa_column=Column(Float))
    text_value: str | None = Field(default=None, max_length=500)
