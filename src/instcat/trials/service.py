"""Trial reports: create, edit, submit, review, amend — each one transaction with its audit."""

from typing import Any, cast

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col

from instcat.auth import Actor
from instcat.common import (
    Page,
    audit,
    check_if_match,
    lost_race,
    refuse_nulls,
)
from instcat.db import ROW_LOCK, Database, rows_changed
from instcat.errors import Conflict, Forbidden, NotFound
from instcat.idempotency import Outcome, request_hash, run_idempotent
from instcat.models import Product, Trial, TrialCheck, TrialReview, Vendor
from instcat.models.base import utcnow
from instcat.trials.checks import check_passed
from instcat.trials.creating import insert_trial, prepare
from instcat.trials.reads import EDITABLE_STATUSES, can_see, full_read, summary_read, visible_to
from instcat.trials.rules import check_dates, check_reference
from instcat.trials.schemas import (
    CheckIn,
    ReviewIn,
    TrialCreate,
    TrialRead,
    TrialSummary,
    TrialUpdate,
)
from instcat.trials.stats import paired_columns
from instcat.trials.versions import start_amendment, supersede

DECISIONS = {"accept": "accepted", "reject": "rejected", "request_revision": "revision_requested"}

# What a PATCH may set to null (clear); null for any other field is a 400.
NULLABLE_FIELDS = (
    "reference_product_id",
    "paired",
    "uptime_pct",
    "failures",
    "service_response_hours",
    "summary",
)


class TrialService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reads ------------------------------------------------------------------------------

    async def list_trials(
        self,
        actor: Actor,
        *,
        status: str | None,
        product_id: int | None,
        vendor: str | None,
        limit: int,
        offset: int,
    ) -> Page[TrialSummary]:
        """Trials the caller may see: public accepted ones, a vendor's own, all for staff."""
        query = (
            select(Trial, col(Vendor.slug))
            .join(Vendor, col(Vendor.id) == col(Trial.vendor_id))
            .options(
                # Both are plain attributes to the type checker; they are mapped columns.
                defer(cast(QueryableAttribute[Any], Trial.paired), raiseload=True),
                defer(cast(QueryableAttribute[Any], Trial.statistics), raiseload=True),
            )
        )
        if not actor.is_staff:
            query = query.where(visible_to(actor))
            if status is None and actor.role != "vendor":
                query = query.where(col(Trial.status) == "accepted")
        if status is not None:
            query = query.where(col(Trial.status) == status)
        if product_id is not None:
            query = query.where(
                or_(
                    col(Trial.product_id) == product_id,
                    col(Trial.reference_product_id) == product_id,
                )
            )
        if vendor is not None:
            query = query.where(col(Vendor.slug) == vendor)
        async with self.db.read() as session:
            total = (
                await session.execute(
                    select(func.count()).select_from(
                        query.with_only_columns(col(Trial.id)).subquery()
                    )
                )
            ).scalar_one()
            rows = await session.execute(
                query.order_by(col(Trial.id).desc()).limit(limit).offset(offset)
            )
            items = [summary_read(trial, slug) for trial, slug in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def get(self, actor: Actor, trial_id: int) -> tuple[TrialRead, int]:
        """One trial with statistics and reviews, and its row version for the ETag."""
        async with self.db.read() as session:
            trial = await self._visible(session, actor, trial_id)
            return await full_read(session, trial), trial.row_version

    async def _visible(
        self, session: AsyncSession, actor: Actor, trial_id: int, *, lock: bool = False
    ) -> Trial:
        # `lock` holds the row (ROW_LOCK) until the transaction ends.
        trial = await session.get(
            Trial, trial_id, with_for_update=ROW_LOCK if lock else None, populate_existing=lock
        )
        if trial is None or not can_see(actor, trial):
            raise NotFound("trial", trial_id)
        return trial

    async def _owned(
        self, session: AsyncSession, actor: Actor, trial_id: int, *, lock: bool = False
    ) -> Trial:
        trial = await self._visible(session, actor, trial_id, lock=lock)
        if not actor.acts_for_vendor(trial.vendor_id):
            raise Forbidden("Only the vendor that owns this trial may change it.")
        return trial

    # --- writes -----------------------------------------------------------------------------

    async def create(self, actor: Actor, data: TrialCreate, idempotency_key: str | None) -> Outcome:
        """A new draft trial report for one of the vendor's own products."""
        actor.require("vendor")
        # Computed before any transaction opens: SQLite's write lock is not held meanwhile.
        prepared = prepare(data)

        async def work(session: AsyncSession) -> tuple[int, Any]:
            read = await insert_trial(session, actor, prepared)
            return 201, read.model_dump(mode="json")

        digest = request_hash(data)
        return await run_idempotent(self.db, actor, "POST /trials", idempotency_key, digest, work)

    async def _check_reference(
        self, session: AsyncSession, product_id: int, reference_id: int | None
    ) -> None:
        if reference_id is None:
            return
        rows = await session.execute(
            select(col(Product.id), col(Product.category_id), col(Vendor.country))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(Product.id).in_((product_id, reference_id)))
        )
        found = {row.id: row for row in rows}
        check_reference(found[product_id], found.get(reference_id), reference_id)

    async def update(
        self, actor: Actor, trial_id: int, data: TrialUpdate, if_match: str | None
    ) -> tuple[TrialRead, int]:
        """Edit a draft, or a trial sent back for revision."""
        actor.require("vendor")
        changes = data.model_dump(exclude_unset=True)
        refuse_nulls(changes, NULLABLE_FIELDS)
        # Computed before the write transaction opens (and a 400 before anything is read).
        paired = paired_columns(data.paired) if "paired" in changes else None
        async with self.db.write() as session:
            trial = await self._owned(session, actor, trial_id)
            check_if_match(if_match, trial.row_version)
            if trial.status not in EDITABLE_STATUSES:
                raise Conflict(f"A trial that is {trial.status} cannot be edited.")
            check_dates(
                data.started_on or trial.started_on,
                data.ended_on or trial.ended_on,
                ended_changed="ended_on" in changes,
            )
            if "reference_product_id" in changes:
                await self._check_reference(session, trial.product_id, data.reference_product_id)
            values: dict[str, Any] = {
                k: v for k, v in changes.items() if k not in ("site", "checks", "paired")
            }
            if data.site is not None:
                values.update(_site_columns(data))
            if paired is not None:
                values.update(paired)
            await self._bump(session, trial, values, EDITABLE_STATUSES, if_match)
            if data.checks is not None:
                await _replace_checks(session, trial, data.checks)
            await audit(session, actor, "update", "trial", trial_id, {"fields": sorted(changes)})
            return await self._reload(session, trial_id)

    async def submit(
        self, actor: Actor, trial_id: int, if_match: str | None
    ) -> tuple[TrialRead, int]:
        """Send a draft (or a revised trial) to the reviewers."""
        actor.require("vendor")
        async with self.db.write() as session:
            trial = await self._owned(session, actor, trial_id)
            check_if_match(if_match, trial.row_version)
            if trial.status not in EDITABLE_STATUSES:
                raise Conflict(f"A trial that is {trial.status} cannot be submitted.")
            values = {"status": "submitted", "submitted_at": utcnow()}
            await self._bump(session, trial, values, EDITABLE_STATUSES, if_match)
            await audit(session, actor, "submit", "trial", trial_id)
            return await self._reload(session, trial_id)

    async def review(
        self, actor: Actor, trial_id: int, data: ReviewIn, if_match: str | None
    ) -> tuple[TrialRead, int]:
        """Accept, reject or send back a submitted trial; exactly one concurrent decision wins."""
        actor.require("reviewer")
        async with self.db.write() as session:
            trial = await self._visible(session, actor, trial_id)
            check_if_match(if_match, trial.row_version)
            if trial.status != "submitted":
                raise Conflict(f"Only submitted trials are reviewed; this one is {trial.status}.")
            status = DECISIONS[data.decision]
            now = utcnow()
            await self._bump(
                session, trial, {"status": status, "decided_at": now}, ("submitted",), if_match
            )
            session.add(
                TrialReview(
                    trial_id=trial_id,
                    decision=data.decision,
                    comment=data.comment,
                    reviewer_id=actor.id,
                    at=now,
                )
            )
            if status == "accepted" and trial.previous_id is not None:
                await supersede(session, trial.previous_id, now)
            await audit(session, actor, data.decision, "trial", trial_id, {"status": status})
            return await self._reload(session, trial_id)

    async def amend(self, actor: Actor, trial_id: int) -> tuple[TrialRead, int]:
        """Start a correction of an accepted trial: a new draft version linked to it."""
        actor.require("vendor")
        async with self.db.write() as session:
            # Locked before anything is checked: a concurrent amend of the same trial waits
            # here until this one commits, then finds its draft (or the status it left) and
            # gets a 409. Without the lock two amends on PostgreSQL both find no amendment
            # in progress and both add one.
            old = await self._owned(session, actor, trial_id, lock=True)
            if old.status != "accepted":
                raise Conflict(
                    f"Only the accepted version can be amended; this one is {old.status}."
                )
            new_id = await start_amendment(session, actor, old)
            await audit(session, actor, "amend", "trial", new_id, {"previous_id": trial_id})
            return await self._reload(session, new_id)

    async def _bump(
        self,
        session: AsyncSession,
        trial: Trial,
        values: dict[str, Any],
        allowed: tuple[str, ...],
        if_match: str | None,
    ) -> None:
        # Conditional on the version and status read above: a concurrent change makes
        # this match no row, and the loser gets 409/412 with nothing written.
        changed = await rows_changed(
            session,
            update(Trial)
            .where(
                col(Trial.id) == trial.id,
                col(Trial.row_version) == trial.row_version,
                col(Trial.status).in_(allowed),
            )
            .values(**values, row_version=trial.row_version + 1, updated_at=utcnow()),
        )
        if changed != 1:
            raise lost_race("trial", if_match is not None)

    async def _reload(self, session: AsyncSession, trial_id: int) -> tuple[TrialRead, int]:
        await session.flush()
        session.expire_all()
        trial = await session.get(Trial, trial_id)
        assert trial is not None
        return await full_read(session, trial), trial.row_version


def _site_columns(data: TrialCreate | TrialUpdate) -> dict[str, Any]:
    site = data.site
    if site is None:
        return {}
    return {"site_institution": site.institution, "site_lab": site.lab, "site_city": site.city}


async def _replace_checks(session: AsyncSession, trial: Trial, checks: list[CheckIn]) -> None:
    await session.execute(delete(TrialCheck).where(col(TrialCheck.trial_id) == trial.id))
    results = []
    for position, check in enumerate(checks):
        passed = check_passed(
            check.criterion.op, check.criterion.value, check.candidate, check.reference
        )
        results.append(passed)
        session.add(
            TrialCheck(
                trial_id=trial.id or 0,
                position=position,
                metric=check.metric,
                unit=check.unit,
                candidate=check.candidate,
                reference=check.reference,
                criterion_op=check.criterion.op,
                criterion_value=check.criterion.value,
                passed=passed,
            )
        )
    trial.all_checks_passed = all(results)
    trial.check_count = len(results)
    session.add(trial)
