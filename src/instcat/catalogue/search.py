"""Product search on the hot path: Core selects straight into the JSON the API returns.

The dicts built here are exactly `ProductRead.model_dump(mode="json")` (same keys, same order,
same values), so a page can be encoded once without building a pydantic model per row.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from instcat.catalogue.specs import SpecDef, SpecFilter, parse_filters
from instcat.catalogue.vendors import DOMESTIC_COUNTRY
from instcat.common import DEFAULT_PAGE
from instcat.errors import InvalidInput
from instcat.models import Category, Product, ProductSpecValue, SpecDefinition, Vendor
from instcat.models.base import table_of
from instcat.text import like_pattern, query_forms

# Core tables, not the ORM classes: the ORM compile path, and adapting each new statement
# to its cached compiled form, cost more per request than the queries themselves.
_product = table_of(Product)
_vendor = table_of(Vendor)
_category = table_of(Category)
_value = table_of(ProductSpecValue)
_spec = table_of(SpecDefinition)

# Litestar encodes responses with msgspec too: for plain JSON values the bytes are the same.
_encoder = msgspec.json.Encoder()

_PRODUCT_COLUMNS = (
    _product.c.id,
    _vendor.c.slug,
    _vendor.c.name_zh,
    _vendor.c.name_en,
    _category.c.code,
    _category.c.name_zh,
    _category.c.name_en,
    _product.c.model,
    _product.c.name,
    _product.c.specs,
    _product.c.made_in,
    _vendor.c.country,
    _product.c.launch_year,
    _product.c.status,
    _product.c.price_band,
    _product.c.illustrative,
    _product.c.version,
    _product.c.created_at,
    _product.c.updated_at,
)
_SPEC_COLUMNS = (
    _spec.c.key,
    _spec.c.kind,
    _spec.c.direction,
    _spec.c.critical,
    _spec.c.unit,
)
_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"  # as the API's Timestamp type writes it


def encode_json(document: Any) -> bytes:
    """The response body for a document of plain JSON values."""
    return _encoder.encode(document)


def product_rows_select() -> Select[Any]:
    """The columns a ProductRead shows, for `product_dict()`; add where/order as needed."""
    return (
        select(*_PRODUCT_COLUMNS)
        .join(_vendor, _vendor.c.id == _product.c.vendor_id)
        .join(_category, _category.c.id == _product.c.category_id)
    )


def product_dict(row: Sequence[Any]) -> dict[str, Any]:
    """A row of `product_rows_select()` as the JSON of a ProductRead."""
    return {
        "id": row[0],
        "vendor": row[1],
        "vendor_name_zh": row[2],
        "vendor_name_en": row[3],
        "category": row[4],
        "category_name_zh": row[5],
        "category_name_en": row[6],
        "model": row[7],
        "name": row[8],
        "specs": row[9],
        "made_in": row[10],
        "domestic": row[11] == DOMESTIC_COUNTRY,
        "launch_year": row[12],
        "status": row[13],
        "price_band": row[14],
        "illustrative": row[15],
        "version": row[16],
        "created_at": row[17].strftime(_TIMESTAMP),
        "updated_at": row[18].strftime(_TIMESTAMP),
    }


async def product_dicts(
    connection: AsyncConnection, where: Iterable[ColumnElement[bool]]
) -> list[dict[str, Any]]:
    """Products matching `where`, by id, as ProductRead JSON (a fast loader for bulk reads)."""
    query = product_rows_select().where(*where).order_by(_product.c.id)
    return [product_dict(row) for row in await connection.execute(query)]


_ALL_SPECS = select(*_SPEC_COLUMNS).order_by(_spec.c.category_id, _spec.c.position)


def _subtree_with_specs_sql() -> Select[Any]:
    code: BindParameter[str] = bindparam("code")
    subtree = select(_category.c.id).where(_category.c.code == code).cte("subtree", recursive=True)
    # UNION, not UNION ALL: it stops even if a bad edit ever made the tree a cycle.
    subtree = subtree.union(select(_category.c.id).where(_category.c.parent_id == subtree.c.id))
    return (
        select(subtree.c.id, *_SPEC_COLUMNS)
        .outerjoin(_spec, _spec.c.category_id == subtree.c.id)
        .order_by(_spec.c.category_id, _spec.c.position)
    )


_SUBTREE_WITH_SPECS = _subtree_with_specs_sql()


async def spec_defs(
    connection: AsyncConnection, category_ids: list[int] | None
) -> dict[str, SpecDef]:
    """Key → SpecDef of the given categories (all when None), as `as_spec_defs` builds it."""
    query = _ALL_SPECS
    if category_ids is not None:
        query = query.where(_spec.c.category_id.in_(category_ids))
    return {row[0]: SpecDef(*row) for row in await connection.execute(query)}


async def subtree_with_specs(
    connection: AsyncConnection, code: str
) -> tuple[list[int], dict[str, SpecDef]]:
    """Ids of category `code` and its subcategories, and their specs, in one round trip.

    An unknown code is a 400 on `category`, as `subtree_ids` answers.
    """
    ids: dict[int, None] = {}
    definitions: dict[str, SpecDef] = {}
    for row in await connection.execute(_SUBTREE_WITH_SPECS, {"code": code}):
        ids[row[0]] = None
        if row[1] is not None:
            definitions[row[1]] = SpecDef(*row[1:])
    if not ids:
        raise InvalidInput.field("category", f"unknown category {code!r}")
    return list(ids), definitions


class _Shape(NamedTuple):
    """What decides the SQL of a search; every value in it is a bound parameter."""

    categories: bool
    filters: tuple[tuple[str, int], ...]  # (operation, number of values) per spec filter
    forms: int  # search text forms
    status: bool
    vendor: bool
    domestic: bool | None


def _filter_sql(i: int, op: str, count: int) -> ColumnElement[bool]:
    value = _value.c
    base = and_(value.product_id == _product.c.id, value.key == bindparam(f"k{i}"))
    if op in ("includes", "text"):
        members = (value.text_value == bindparam(f"v{i}_{j}") for j in range(count))
        return and_(*(exists().where(base, member) for member in members))
    number: BindParameter[float] = bindparam(f"v{i}_0")
    compare = {"gte": value.num_value >= number, "lte": value.num_value <= number}
    return exists().where(base, compare.get(op, value.num_value == number))


# Built once per shape, not per request: building and cache-keying a statement costs about
# as much as running it. Only SQL text lives here, never data, so nothing goes stale.
@lru_cache(maxsize=256)
def _statements(shape: _Shape) -> tuple[Select[Any], Select[Any]]:
    conditions: list[ColumnElement[bool]] = []
    if shape.categories:
        conditions.append(_product.c.category_id.in_(bindparam("ids", expanding=True)))
    conditions.extend(_filter_sql(i, op, count) for i, (op, count) in enumerate(shape.filters))
    if shape.forms:
        forms: list[BindParameter[str]] = [bindparam(f"q{j}") for j in range(shape.forms)]
        conditions.append(or_(*(_product.c.search_text.like(f, escape="\\") for f in forms)))
    if shape.status:
        conditions.append(_product.c.status == bindparam("status"))
    # Count and pick the page from products alone (index-only), joining the vendor only when
    # a filter is about the vendor; then load the page's rows by primary key. Loading the
    # rows in the same query as the filter makes PostgreSQL fetch every match and sort.
    matching = select(_product.c.id).select_from(_product)
    if shape.vendor or shape.domestic is not None:
        matching = matching.join(_vendor, _vendor.c.id == _product.c.vendor_id)
        if shape.vendor:
            conditions.append(_vendor.c.slug == bindparam("vendor"))
        if shape.domestic is not None:
            is_cn = _vendor.c.country == DOMESTIC_COUNTRY
            conditions.append(is_cn if shape.domestic else ~is_cn)
    matching = matching.where(*conditions)
    counted = matching.with_only_columns(func.count(), maintain_column_froms=False)
    page = (
        matching.order_by(_product.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .correlate(None)
    )
    rows = product_rows_select().where(_product.c.id.in_(page)).order_by(_product.c.id)
    return counted, rows


def _filter_params(filters: list[SpecFilter], params: dict[str, Any]) -> tuple[Any, ...]:
    shape = []
    for i, spec_filter in enumerate(filters):
        params[f"k{i}"] = spec_filter.key
        if spec_filter.op == "includes":
            values: tuple[Any, ...] = spec_filter.values
            shape.append(("includes", len(values)))
        elif spec_filter.text is not None:
            values = (spec_filter.text,)
            shape.append(("text", 1))
        else:
            values = (spec_filter.number,)
            shape.append((spec_filter.op, 1))
        for j, member in enumerate(values):
            params[f"v{i}_{j}"] = member
    return tuple(shape)


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """What a product search asks for: text, category (with subcategories), vendor, origin,
    status, spec filters as query parameters (`spec.<key>.<op>`), and the page. Hashable,
    so that it keys cached answers."""

    q: str | None = None
    category: str | None = None
    vendor: str | None = None
    domestic: bool | None = None
    status: str | None = None
    spec_params: tuple[tuple[str, str], ...] = ()
    limit: int = DEFAULT_PAGE
    offset: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec_params", tuple(tuple(p) for p in self.spec_params))


async def search_page(connection: AsyncConnection, criteria: SearchCriteria) -> dict[str, Any]:
    """One page of a product search as the JSON of a Page[ProductRead]."""
    c = criteria
    params: dict[str, Any] = {"limit": c.limit, "offset": c.offset, "vendor": c.vendor}
    if c.category:
        params["ids"], definitions = await subtree_with_specs(connection, c.category)
    else:
        definitions = await spec_defs(connection, None)
    filters, errors = parse_filters(c.spec_params, definitions)
    if errors:
        raise InvalidInput("Invalid spec filter.", errors)
    forms = query_forms(c.q) if c.q else []
    for j, form in enumerate(forms):
        params[f"q{j}"] = like_pattern(form)
    params["status"] = c.status
    shape = _Shape(
        categories=bool(c.category),
        filters=_filter_params(filters, params),
        forms=len(forms),
        status=bool(c.status),
        vendor=bool(c.vendor),
        domestic=c.domestic,
    )
    counted, rows = _statements(shape)
    total = (await connection.execute(counted, params)).scalar_one()
    items: list[dict[str, Any]] = []
    if total > c.offset:
        items = [product_dict(row) for row in await connection.execute(rows, params)]
    return {"items": items, "total": total, "limit": c.limit, "offset": c.offset}
