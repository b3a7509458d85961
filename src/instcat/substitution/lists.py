"""Substitution lists: generated from criteria, reviewed as drafts, published and frozen."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col

from instcat.auth import Actor
from instcat.common import DEFAULT_PAGE, Page, audit
from instcat.db import Database, checkpoint_later, rows_changed
from instcat.errors import Conflict, NotFound
from instcat.models import SubstitutionEntry
from instcat.models import SubstitutionList as ListRow
from instcat.models.base import utcnow
from instcat.models.lists import SubstitutionReference, SubstitutionVendor
from instcat.substitution.diff_reasons import Reasons
from instcat.substitution.evidence_rows import read_now
from instcat.substitution.export import written
from instcat.substitution.grading import months_before
from instcat.substitution.list_reads import entries_at, entry_chunks, grades_of, read_entries
from instcat.substitution.rules import RULE_VERSION
from instcat.substitution.schemas import (
    Entry,
    GradeChange,
    ListCriteria,
    ListDiff,
    RemovedEntry,
    SubstitutionList,
    SubstitutionListSummary,
)
from instcat.substitution.service import category_ids_for
from instcat.substitution.storage import store_entries


def _summary(row: ListRow) -> SubstitutionListSummary:
    return SubstitutionListSummary(
        id=row.id or 0,
        label=row.label,
        status=row.status,
        criteria=row.criteria,
        domestic_rule=row.domestic_rule,
        generated_at=row.generated_at,
        published_at=row.published_at,
        entry_count=row.entry_count,
    )


class ListService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def generate(
        self,
        actor: Actor,
        criteria: ListCriteria,
        today: date | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> SubstitutionList:
        """Grade the evidence under the criteria and store the result as a draft list.

        The answer shows the first `limit` entries; `entry_count` counts them all.
        """
        actor.require("reviewer")
        today = today or date.today()
        try:
            async with self.db.write() as session:
                taken = await session.execute(
                    select(col(ListRow.id)).where(col(ListRow.label) == criteria.label)
                )
                if taken.first():
                    raise Conflict(f"A list labelled {criteria.label!r} already exists.")
                # Lists run to a hundred megabytes: copying them into the database file
                # is left to run after the answer.
                checkpoint_later(session)
                category_ids = await category_ids_for(session, criteria.categories)
                cutoff = (
                    months_before(today, criteria.max_trial_age_months)
                    if criteria.max_trial_age_months
                    else None
                )
                stored = criteria.model_dump(mode="json")
                stored["evaluated_on"] = today.isoformat()
                stored["grading_rule"] = RULE_VERSION
                row = ListRow(
                    label=criteria.label,
                    criteria=stored,
                    domestic_rule=criteria.domestic_rule,
                    entry_count=0,
                    created_by=actor.id,
                )
                session.add(row)
                await session.flush()
                list_id = row.id or 0
                # The evidence is read on connections of their own, as one snapshot.
                async with self.db.snapshot(2) as readers:
                    stored_entries = await store_entries(
                        session,
                        list_id,
                        category_ids,
                        criteria,
                        cutoff,
                        readers,
                        self.db.list_build_processes,
                    )
                row.entry_count = stored_entries.count
                row.spec_definitions = stored_entries.definitions
                row.categories = stored_entries.categories
                await session.flush()
                await audit(
                    session,
                    actor,
                    "generate",
                    "substitution_list",
                    list_id,
                    {"entries": stored_entries.count},
                )
                entries = await self._entries(session, row, limit, 0)
                return SubstitutionList(**_summary(row).model_dump(), entries=entries)
        except IntegrityError as clash:
            raise Conflict(f"A list labelled {criteria.label!r} already exists.") from clash

    async def _visible(self, session: AsyncSession, actor: Actor, list_id: int) -> ListRow:
        row = await session.get(ListRow, list_id)
        if row is None or (row.status == "draft" and not actor.is_staff):
            raise NotFound("substitution_list", list_id)
        return row

    async def _entries(
        self,
        session: AsyncSession,
        row: ListRow,
        limit: int | None,
        offset: int,
        lang: str = "zh",
    ) -> list[Entry]:
        return await read_entries(session, row, limit, offset, lang)

    async def get(
        self,
        actor: Actor,
        list_id: int,
        limit: int | None = DEFAULT_PAGE,
        offset: int = 0,
        lang: str = "zh",
    ) -> SubstitutionList:
        """A list with a page of its entries (all when `limit` is None); drafts are for staff."""
        async with self.db.read() as session:
            row = await self._visible(session, actor, list_id)
            entries = await self._entries(session, row, limit, offset, lang)
        return SubstitutionList(**_summary(row).model_dump(), entries=entries)

    async def summary(self, actor: Actor, list_id: int) -> SubstitutionListSummary:
        """A list without its entries; drafts are for staff."""
        async with self.db.read() as session:
            return _summary(await self._visible(session, actor, list_id))

    async def entry_chunks(
        self, actor: Actor, list_id: int, specs: bool = True
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every entry of a list a chunk at a time, as the JSON of `Entry` (see
        `list_reads.entry_chunks`), all read in one read transaction. Fails when the list is
        not (or no longer) visible: check with `summary` before a response starts."""
        async with self.db.read() as session:
            row = await self._visible(session, actor, list_id)
            async for chunk in entry_chunks(session, row, specs):
                yield chunk

    async def export(
        self, actor: Actor, list_id: int, format: str
    ) -> tuple[SubstitutionListSummary, AsyncIterator[bytes]]:
        """The list and its export in `format` (csv, xlsx or json), written as its entries are
        read (`export.written`). A list that is not visible fails here, before any of it."""
        summary = await self.summary(actor, list_id)
        chunks = self.entry_chunks(actor, list_id, specs=format == "json")  # only JSON shows them
        return summary, written(format, summary, chunks)

    async def list_lists(
        self, actor: Actor, status: str | None, limit: int, offset: int
    ) -> Page[SubstitutionListSummary]:
        """Published lists for everyone; staff also see drafts."""
        query = select(ListRow).options(
            # Both are plain attributes to the type checker; they are mapped columns.
            defer(cast(QueryableAttribute[Any], ListRow.spec_definitions)),
            defer(cast(QueryableAttribute[Any], ListRow.categories)),
        )
        if not actor.is_staff:
            query = query.where(col(ListRow.status) == "published")
        if status is not None:
            query = query.where(col(ListRow.status) == status)
        async with self.db.read() as session:
            total = (
                await session.execute(
                    select(func.count()).select_from(
                        query.with_only_columns(col(ListRow.id)).subquery()
                    )
                )
            ).scalar_one()
            rows = await session.execute(
                query.order_by(col(ListRow.id).desc()).limit(limit).offset(offset)
            )
            items = [_summary(r) for r in rows.scalars()]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def publish(
        self, actor: Actor, list_id: int, limit: int | None = DEFAULT_PAGE, offset: int = 0
    ) -> SubstitutionList:
        """Freeze a draft under its label; publishing twice is a 409."""
        actor.require("reviewer")
        async with self.db.write() as session:
            row = await self._visible(session, actor, list_id)
            if row.status != "draft":
                raise Conflict("This list is already published; published lists never change.")
            changed = await rows_changed(
                session,
                update(ListRow)
                .where(col(ListRow.id) == list_id, col(ListRow.status) == "draft")
                .values(status="published", published_at=utcnow(), published_by=actor.id),
            )
            if changed != 1:
                raise Conflict("This list was published by someone else meanwhile.")
            await audit(session, actor, "publish", "substitution_list", list_id)
        return await self.get(actor, list_id, limit, offset)

    async def delete(self, actor: Actor, list_id: int) -> None:
        """Delete a draft; a published list is permanent (409)."""
        actor.require("reviewer")
        async with self.db.write() as session:
            row = await self._visible(session, actor, list_id)
            if row.status != "draft":
                raise Conflict("A published list cannot be deleted.")
            await session.execute(
                delete(SubstitutionEntry).where(col(SubstitutionEntry.list_id) == list_id)
            )
            for shared in (SubstitutionReference, SubstitutionVendor):
                await session.execute(delete(shared).where(col(shared.list_id) == list_id))
            changed = await rows_changed(
                session,
                delete(ListRow).where(col(ListRow.id) == list_id, col(ListRow.status) == "draft"),
            )
            if changed != 1:
                raise Conflict("This list was published meanwhile and cannot be deleted.")
            await audit(
                session, actor, "delete", "substitution_list", list_id, {"label": row.label}
            )

    async def diff(self, actor: Actor, list_id: int, against_id: int, lang: str = "zh") -> ListDiff:
        """Entries added to and removed from `against`, and grades that changed, the removed
        and changed ones with their reasons (`diff_reasons`)."""
        async with self.db.read() as session:
            this = await self._visible(session, actor, list_id)
            other = await self._visible(session, actor, against_id)
            # Compare grades first; only the entries that differ are read and shown.
            mine = await grades_of(session, list_id)
            theirs = await grades_of(session, against_id)
            added = sorted(pos for pid, (_, pos) in mine.items() if pid not in theirs)
            removed = sorted(pos for pid, (_, pos) in theirs.items() if pid not in mine)
            changed = sorted(
                pos
                for pid, (grade, pos) in mine.items()
                if pid in theirs and theirs[pid][0] != grade
            )
            mine_entries = await entries_at(session, this, sorted(added + changed), lang)
            changed_ids = [mine_entries[pos].product.id for pos in changed]
            their_positions = removed + [theirs[pid][1] for pid in changed_ids]
            their_entries = await entries_at(session, other, sorted(their_positions), lang)
            older = list(their_entries.values())
            now = await read_now(
                session,
                sorted({e.product.id for e in older}),
                sorted({t.id for e in older for t in e.evidence.trials}),
            )
        reasons = Reasons(this.criteria, other.criteria, this.domestic_rule, now)
        changes: list[Any] = []
        for pos, pid in zip(changed, changed_ids, strict=True):
            entry, before = mine_entries[pos], their_entries[theirs[pid][1]]
            changes.append(
                GradeChange(
                    product=entry.product,
                    from_=before.grade,
                    to=entry.grade,
                    reasons=reasons.changed(before, entry),
                )
            )
        return ListDiff(
            list_id=list_id,
            against=against_id,
            added=[mine_entries[pos] for pos in added],
            removed=[
                RemovedEntry(
                    **their_entries[pos].model_dump(), reasons=reasons.removed(their_entries[pos])
                )
                for pos in removed
            ],
            changed=changes,
        )
