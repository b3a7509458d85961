"""What the catalogue API accepts and returns."""

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from instcat.catalogue.market_schemas import MarketFigureRead, SourceIn
from instcat.catalogue.specs import direction_problem
from instcat.common import (
    Code,
    Country,
    Finite,
    Key,
    LongText,
    Name,
    ShortText,
    Slug,
    Strict,
    Timestamp,
    Url,
    Year,
)

Kind = Literal["number", "set", "text"]
Direction = Literal["higher_better", "lower_better", "includes", "equals"]


# --- categories -----------------------------------------------------------------------------


class SpecDefinitionIn(Strict):
    key: Key
    name_zh: Name
    name_en: Name
    unit: ShortText | None = None
    kind: Kind
    direction: Direction
    critical: bool = False

    @model_validator(mode="after")
    def _direction_fits_kind(self) -> "SpecDefinitionIn":
        problem = direction_problem(self.kind, self.direction)
        if problem:
            raise ValueError(problem)
        return self


class SpecDefinitionRead(BaseModel):
    key: str
    name_zh: str
    name_en: str
    unit: str | None
    kind: str
    direction: str
    critical: bool


def _unique_keys(specs: list[SpecDefinitionIn] | None) -> list[SpecDefinitionIn] | None:
    if specs is not None:
        keys = [s.key for s in specs]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"duplicate spec keys: {', '.join(duplicates)}")
    return specs


class CategoryCreate(Strict):
    code: Code
    name_zh: Name
    name_en: Name
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    parent: Code | None = None
    description: LongText | None = None
    specs: list[SpecDefinitionIn] = Field(default_factory=list, max_length=50)

    _check_specs = field_validator("specs")(_unique_keys)


class CategoryUpdate(Strict):
    """Fields to change; `specs`, when given, replaces the whole list. Null clears `parent`
    or `description` and is a 400 for any other field."""

    name_zh: Name | None = None
    name_en: Name | None = None
    aliases: list[Name] | None = Field(default=None, max_length=50)
    parent: Code | None = None
    description: LongText | None = None
    specs: list[SpecDefinitionIn] | None = Field(default=None, max_length=50)

    _check_specs = field_validator("specs")(_unique_keys)


class CategoryRead(BaseModel):
    code: str
    name_zh: str
    name_en: str
    aliases: list[str]
    parent: str | None
    description: str | None
    specs: list[SpecDefinitionRead]


class CategoryDetail(CategoryRead):
    children: list[str]
    market: dict[str, MarketFigureRead]


# --- vendors --------------------------------------------------------------------------------


class ServiceIn(Strict):
    regions: list[Name] = Field(default_factory=list, max_length=100)
    response_hours: Finite | None = Field(default=None, ge=0, le=10_000)


class ServiceRead(BaseModel):
    regions: list[str]
    response_hours: float | None


class VendorCreate(Strict):
    slug: Slug
    name_zh: Name
    name_en: Name
    country: Country
    founded_year: Year | None = None
    city: Name | None = None
    website: Url | None = None
    service: ServiceIn = Field(default_factory=ServiceIn)
    certifications: list[Name] = Field(default_factory=list, max_length=100)
    description: LongText | None = None
    source: SourceIn | None = None
    illustrative: bool = False


_ILLUSTRATIVE_EDIT = (
    "Whether the record is example data rather than sourced. Only an admin may change it; "
    "anyone else gets a 403 for a different value, and may send the current one."
)


class VendorUpdate(Strict):
    """Fields to change. `country` and `illustrative` are for admins only; `slug` never
    changes. Null clears a field that may be empty and is a 400 for any other."""

    name_zh: Name | None = None
    name_en: Name | None = None
    country: Country | None = None
    founded_year: Year | None = None
    city: Name | None = None
    website: Url | None = None
    service: ServiceIn | None = Field(
        default=None,
        description=(
            "Merges into the stored service: a field left out keeps its stored value "
            "(`{}` changes nothing), `response_hours: null` clears the figure."
        ),
    )
    certifications: list[Name] | None = Field(default=None, max_length=100)
    description: LongText | None = None
    illustrative: bool | None = Field(default=None, description=_ILLUSTRATIVE_EDIT)


class VendorRead(BaseModel):
    id: int
    slug: str
    name_zh: str
    name_en: str
    country: str
    domestic: bool
    founded_year: int | None
    city: str | None
    website: str | None
    service: ServiceRead
    certifications: list[str]
    description: str | None
    illustrative: bool
    source: dict[str, Any] | None
    version: int
    created_at: Timestamp
    updated_at: Timestamp


# --- products -------------------------------------------------------------------------------


class ProductCreate(Strict):
    vendor: Slug
    category: Code
    model: Name
    name: Name
    specs: dict[str, Any] = Field(default_factory=dict)
    made_in: Country
    launch_year: Year | None = None
    status: Literal["active", "discontinued"] = "active"
    price_band: Name | None = None
    illustrative: bool = False


class ProductUpdate(Strict):
    """Fields to change. `specs` merges: a key set to null is removed. Null clears
    `launch_year` or `price_band` and is a 400 for any other field."""

    category: Code | None = None
    model: Name | None = None
    name: Name | None = None
    specs: dict[str, Any] | None = None
    made_in: Country | None = None
    launch_year: Year | None = None
    status: Literal["active", "discontinued"] | None = None
    price_band: Name | None = None
    illustrative: bool | None = Field(default=None, description=_ILLUSTRATIVE_EDIT)


class ProductRead(BaseModel):
    id: int
    vendor: str
    vendor_name_zh: str
    vendor_name_en: str
    category: str
    category_name_zh: str
    category_name_en: str
    model: str
    name: str
    specs: dict[str, Any]
    made_in: str
    domestic: bool
    launch_year: int | None
    status: str
    price_band: str | None
    illustrative: bool
    version: int
    created_at: Timestamp
    updated_at: Timestamp
