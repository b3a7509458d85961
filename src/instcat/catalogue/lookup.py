"""Named queries the catalogue services share: categories, their tree and spec definitions."""

from collections.abc import Iterable
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.catalogue.schemas import SpecDefinitionRead
from instcat.catalogue.specs import SpecDef
from instcat.db import ROW_LOCK
from instcat.errors import InvalidInput, NotFound
from instcat.models import Category, SpecDefinition, Vendor


async def category_by_code(session: AsyncSession, code: str) -> Category:
    """The category with this code, or NotFound."""
    category = (await session.execute(select(Category).where(col(Category.code) == code))).scalar()
    if category is None:
        raise NotFound("category", code)
    return category


async def category_codes(session: AsyncSession) -> dict[int, tuple[str, int | None]]:
    """Every category id → (code, parent id)."""
    rows = await session.execute(
        select(col(Category.id), col(Category.code), col(Category.parent_id))
    )
    # Ids read back from the table are never None.
    return {cast(int, row[0]): (row[1], row[2]) for row in rows}


def descendants(tree: dict[int, tuple[str, int | None]], root_id: int) -> list[int]:
    """The root and every category below it."""
    children: dict[int | None, list[int]] = {}
    for cid, (_code, parent) in tree.items():
        children.setdefault(parent, []).append(cid)
    found, stack = [], [root_id]
    while stack:
        cid = stack.pop()
        if cid in found:
            continue
        found.append(cid)
        stack.extend(children.get(cid, []))
    return found


async def subtree_ids(session: AsyncSession, code: str, field: str = "category") -> list[int]:
    """Ids of the category `code` and its subcategories; an unknown code is a 400 on `field`."""
    tree = await category_codes(session)
    root = next((cid for cid, (c, _p) in tree.items() if c == code), None)
    if root is None:
        raise InvalidInput.field(field, f"unknown category {code!r}")
    return descendants(tree, root)


async def spec_rows(
    session: AsyncSession, category_ids: Iterable[int] | None = None
) -> list[SpecDefinition]:
    """Spec definitions, in display order, of the given categories (all when None)."""
    query = select(SpecDefinition).order_by(
        col(SpecDefinition.category_id), col(SpecDefinition.position)
    )
    if category_ids is not None:
        query = query.where(col(SpecDefinition.category_id).in_(list(category_ids)))
    return list((await session.execute(query)).scalars())


def as_spec_defs(rows: Iterable[SpecDefinition]) -> dict[str, SpecDef]:
    """Key → SpecDef for validation and filtering."""
    return {
        row.key: SpecDef(row.key, row.kind, row.direction, row.critical, row.unit) for row in rows
    }


def as_spec_reads(rows: Iterable[SpecDefinition]) -> list[SpecDefinitionRead]:
    return [
        SpecDefinitionRead(
            key=r.key,
            name_zh=r.name_zh,
            name_en=r.name_en,
            unit=r.unit,
            kind=r.kind,
            direction=r.direction,
            critical=r.critical,
        )
        for r in rows
    ]


async def vendor_by_slug(session: AsyncSession, slug: str, *, lock: bool = False) -> Vendor:
    """The vendor with this slug, or NotFound; `lock` holds its row until the transaction
    ends (see `instcat.db.ROW_LOCK`)."""
    query = select(Vendor).where(col(Vendor.slug) == slug)
    if lock:
        query = query.with_for_update(**ROW_LOCK).execution_options(populate_existing=True)
    vendor = (await session.execute(query)).scalar()
    if vendor is None:
        raise NotFound("vendor", slug)
    return vendor
