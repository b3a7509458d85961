"""Category detail on the hot path: two Core queries straight into the JSON the API returns.

The dict built here is exactly `CategoryDetail.model_dump(mode="json")` (same keys, same
order, same values), so it can be encoded once, or cached, without building models.
"""

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from instcat.errors import NotFound
from instcat.models import Category, MarketFigure, SpecDefinition
from instcat.models.base import table_of

_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"  # as the API's Timestamp type writes it
# Core tables, not the ORM classes, and statements built once with bound parameters: the
# ORM compile path and adapting a new statement to its cached compiled form cost more per
# request than the queries themselves.
_category = table_of(Category)
_parent = _category.alias("parent")
_child = _category.alias("child")
_spec = table_of(SpecDefinition)
_figure = table_of(MarketFigure)

# Codes are [a-z0-9-], so a comma separates them safely.
_CHILD_CODES = (
    select(func.aggregate_strings(_child.c.code, ","))
    .where(_child.c.parent_id == _category.c.id)
    .scalar_subquery()
)

# The category, its parent's code, its children's codes and its spec definitions (one row
# per spec, or one row with no spec), in display order: one round trip.
_CATEGORY_WITH_SPECS = (
    select(
        _category.c.id,
        _category.c.code,
        _category.c.name_zh,
        _category.c.name_en,
        _category.c.aliases,
        _parent.c.code,
        _category.c.description,
        _spec.c.key,
        _spec.c.name_zh,
        _spec.c.name_en,
        _spec.c.unit,
        _spec.c.kind,
        _spec.c.direction,
        _spec.c.critical,
        _CHILD_CODES,
    )
    .select_from(
        _category.outerjoin(_parent, _parent.c.id == _category.c.parent_id).outerjoin(
            _spec, _spec.c.category_id == _category.c.id
        )
    )
    .where(_category.c.code == bindparam("code"))
    .order_by(_spec.c.position, _spec.c.id)
)

# "Latest" is the highest year, then the latest source date, then the newest record.
NEWEST_FIRST = (
    col(MarketFigure.year).desc(),
    col(MarketFigure.source_date).desc().nulls_last(),
    col(MarketFigure.id).desc(),
)

_FIGURES = (
    select(
        _figure.c.id,
        _figure.c.ref,
        _figure.c.scope,
        _figure.c.year,
        _figure.c.metric,
        _figure.c.value,
        _figure.c.value_low,
        _figure.c.value_high,
        _figure.c.unit,
        _figure.c.basis,
        _figure.c.note,
        _figure.c.source_publication,
        _figure.c.source_title,
        _figure.c.source_date,
        _figure.c.source_quote,
        _figure.c.source_url,
        _figure.c.created_at,
    )
    .where(_figure.c.category_id == bindparam("category_id"))
    .order_by(_figure.c.year.desc(), _figure.c.source_date.desc().nulls_last(), _figure.c.id.desc())
)


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def figure_dict(row: Any, code: str | None) -> dict[str, Any]:
    """A row of the figure columns as the JSON of a MarketFigureRead."""
    return {
        "id": row[0],
        "ref": row[1],
        "category": code,
        "scope": row[2],
        "year": row[3],
        "metric": row[4],
        "value": float(row[5]),
        "value_low": _number(row[6]),
        "value_high": _number(row[7]),
        "unit": row[8],
        "basis": row[9],
        "note": row[10],
        "source": {
            "publication": row[11],
            "title": row[12],
            "date": row[13],
            "quote": row[14],
            "url": row[15],
        },
        "created_at": row[16].strftime(_TIMESTAMP),
    }


async def category_detail(connection: AsyncConnection, code: str) -> dict[str, Any]:
    """The JSON of a CategoryDetail: specs, subcategories and latest figure per metric."""
    rows = (await connection.execute(_CATEGORY_WITH_SPECS, {"code": code})).all()
    if not rows:
        raise NotFound("category", code)
    first = rows[0]
    category_id = first[0]
    specs = [
        {
            "key": row[7],
            "name_zh": row[8],
            "name_en": row[9],
            "unit": row[10],
            "kind": row[11],
            "direction": row[12],
            "critical": row[13],
        }
        for row in rows
        if row[7] is not None
    ]
    figures = await connection.execute(_FIGURES, {"category_id": category_id})
    market: dict[str, Any] = {}
    for figure in figures:
        if figure[4] not in market:
            market[figure[4]] = figure_dict(figure, code)
    return {
        "code": first[1],
        "name_zh": first[2],
        "name_en": first[3],
        "aliases": list(first[4]),
        "parent": first[5],
        "description": first[6],
        "specs": specs,
        # Sorted here, not in SQL: the database's collation may not order codes by code point.
        "children": sorted(first[14].split(",")) if first[14] else [],
        "market": market,
    }
