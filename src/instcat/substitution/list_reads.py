"""Reading a stored list: pages of entries, chunks for exports, grades for diffs.

Entries are stored packed (`compact`); reading expands them again, with the references and
vendors the list stores once and the spec definitions it was generated with.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.catalogue.specs import SpecDef
from instcat.errors import Conflict
from instcat.models import SubstitutionEntry
from instcat.models.lists import SubstitutionList, SubstitutionReference, SubstitutionVendor
from instcat.substitution.compact import (
    REFERENCE_ID,
    ListParts,
    definitions_from_json,
    expand,
    expanded,
    unpacked,
)
from instcat.substitution.schemas import Entry

CHUNK = 200  # entries expanded at a time by `entry_chunks`
IN_LIST_MAX = 5_000  # more reference ids than this: read the list's references whole


async def _shared(
    session: AsyncSession,
    table: type[SubstitutionReference | SubstitutionVendor],
    key: Any,
    list_id: int,
    wanted: set[Any],
) -> dict[Any, dict[str, Any]]:
    """Key → data of a list's shared rows (`table`: its references or vendors) with these
    keys; all of the list's when there are too many keys to name."""
    query = select(key, col(table.data)).where(col(table.list_id) == list_id)
    if len(wanted) <= IN_LIST_MAX:
        query = query.where(key.in_(sorted(wanted)))
    return {found: value for found, value in await session.execute(query)}


async def _references(
    session: AsyncSession, list_id: int, ids: set[int]
) -> dict[int, dict[str, Any]]:
    return await _shared(
        session, SubstitutionReference, col(SubstitutionReference.product_id), list_id, ids
    )


async def _vendors(
    session: AsyncSession, list_id: int, slugs: set[str]
) -> dict[str, dict[str, Any]]:
    return await _shared(session, SubstitutionVendor, col(SubstitutionVendor.slug), list_id, slugs)


async def _expanded(
    session: AsyncSession, listed: SubstitutionList, stored: list[Any], lang: str = "zh"
) -> list[Entry]:
    ids = _reference_ids(listed, stored)
    references = await _references(session, listed.id or 0, ids) if ids else {}
    definitions = _definitions(listed)
    parts = await _parts(session, listed, stored)
    return [expand(data, references, definitions, parts, lang) for data in stored]


def _definitions(listed: SubstitutionList) -> dict[str, list[SpecDef]]:
    return {
        code: definitions_from_json(rows) for code, rows in (listed.spec_definitions or {}).items()
    }


async def _parts(
    session: AsyncSession, listed: SubstitutionList, stored: list[Any]
) -> ListParts | None:
    """What these stored entries of the list share with it (None for lists generated before
    entries shared anything)."""
    if listed.categories is None:
        return None
    slugs = {data["product"]["vendor"] for data in stored}
    vendors = await _vendors(session, listed.id or 0, slugs) if slugs else {}
    return ListParts(listed.categories, vendors)


def _reference_ids(listed: SubstitutionList, stored: list[Any]) -> set[int]:
    return {
        ref_id
        for data in stored
        if isinstance(data["replaces"], dict)
        for ref_id in (
            data["replaces"]["references"]
            if listed.categories is None
            else unpacked(data["replaces"]["references"], REFERENCE_ID)
        )
    }


async def entry_chunks(
    session: AsyncSession, listed: SubstitutionList, specs: bool = True
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every entry of a list in list order, `CHUNK` at a time, as the JSON of `Entry` (with
    `specs` False, without the spec-by-spec comparisons): for exports, which must not hold
    a national list (3 million replaced references at scale 1) at once. Each reference is
    read once; the expanding runs in a worker thread, so the server keeps answering."""
    list_id = listed.id or 0
    references: dict[int, dict[str, Any]] = {}
    definitions = _definitions(listed)
    for start in range(0, listed.entry_count, CHUNK):
        query = (
            select(col(SubstitutionEntry.data))
            .where(
                col(SubstitutionEntry.list_id) == list_id,
                col(SubstitutionEntry.position) >= start,
                col(SubstitutionEntry.position) < start + CHUNK,
            )
            .order_by(col(SubstitutionEntry.position))
        )
        stored = list((await session.execute(query)).scalars())
        if len(stored) != min(CHUNK, listed.entry_count - start):
            raise Conflict("This list was deleted while it was being read.")
        missing = _reference_ids(listed, stored) - references.keys()
        if missing:
            references.update(await _references(session, list_id, missing))
        parts = await _parts(session, listed, stored)
        yield await asyncio.to_thread(_expanded_all, stored, references, definitions, parts, specs)


def _expanded_all(stored: list[Any], *context: Any) -> list[dict[str, Any]]:
    return [expanded(data, *context) for data in stored]


async def read_entries(
    session: AsyncSession,
    listed: SubstitutionList,
    limit: int | None,
    offset: int,
    lang: str = "zh",
) -> list[Entry]:
    """The entries of a list in list order, `limit` of them from `offset` (all when None)."""
    query = (
        select(col(SubstitutionEntry.data))
        .where(col(SubstitutionEntry.list_id) == listed.id)
        .order_by(col(SubstitutionEntry.position))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    stored = list((await session.execute(query)).scalars())
    return await _expanded(session, listed, stored, lang)


async def grades_of(session: AsyncSession, list_id: int) -> dict[int, tuple[str, int]]:
    """Product id → (grade, position) of every entry of a list, without the entries."""
    rows = await session.execute(
        select(
            col(SubstitutionEntry.product_id),
            col(SubstitutionEntry.grade),
            col(SubstitutionEntry.position),
        ).where(col(SubstitutionEntry.list_id) == list_id)
    )
    return {pid: (grade, position) for pid, grade, position in rows}


async def entries_at(
    session: AsyncSession, listed: SubstitutionList, positions: list[int], lang: str = "zh"
) -> dict[int, Entry]:
    """The entries at these positions of a list, read a thousand at a time."""
    found: dict[int, Entry] = {}
    for start in range(0, len(positions), 1000):
        chunk = positions[start : start + 1000]
        rows = (
            await session.execute(
                select(col(SubstitutionEntry.position), col(SubstitutionEntry.data)).where(
                    col(SubstitutionEntry.list_id) == listed.id,
                    col(SubstitutionEntry.position).in_(chunk),
                )
            )
        ).all()
        entries = await _expanded(session, listed, [r[1] for r in rows], lang)
        found.update(zip((r[0] for r in rows), entries, strict=True))
    return found
