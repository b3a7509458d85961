"""Versions of a trial report: an amendment is a new draft copied from the accepted one.

Accepting the amendment later supersedes the version it corrects, so at most one version
of a report is accepted at a time.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.auth import Actor
from instcat.errors import Conflict
from instcat.models import Trial, TrialCheck

# What an amendment does not take over from the version it corrects: its identity,
# place in the workflow and history are its own.
_NOT_COPIED = frozenset(
    {
        "id",
        "status",
        "version",
        "previous_id",
        "row_version",
        "created_by",
        "created_at",
        "updated_at",
        "submitted_at",
        "decided_at",
    }
)
# An amendment that ended in one of these no longer blocks starting another.
_CLOSED = ("rejected", "superseded")


async def start_amendment(session: AsyncSession, actor: Actor, old: Trial) -> int:
    """Copy an accepted trial and its checks into a new draft version; returns the new id.

    The caller holds the row lock of `old`, so that the check for an amendment in progress
    and the insert of this one are not interleaved with another amend of the same trial.
    """
    old_id = old.id or 0
    in_progress = await session.execute(
        select(col(Trial.id)).where(
            col(Trial.previous_id) == old_id, col(Trial.status).notin_(_CLOSED)
        )
    )
    if (found := in_progress.scalar()) is not None:
        raise Conflict(f"Trial {old_id} already has an amendment in progress (id {found}).")
    copy = {
        column: getattr(old, column) for column in Trial.model_fields if column not in _NOT_COPIED
    }
    new = Trial(**copy, version=old.version + 1, previous_id=old_id, created_by=actor.id)
    session.add(new)
    await session.flush()
    new_id = new.id or 0
    old_checks = (
        await session.execute(select(TrialCheck).where(col(TrialCheck.trial_id) == old_id))
    ).scalars()
    for check in old_checks:
        session.add(TrialCheck(**check.model_dump(exclude={"id", "trial_id"}), trial_id=new_id))
    return new_id


async def supersede(session: AsyncSession, previous_id: int, now: datetime) -> None:
    """Mark the version an accepted amendment corrects as superseded (if it is still accepted)."""
    await session.execute(
        update(Trial)
        .where(col(Trial.id) == previous_id, col(Trial.status) == "accepted")
        .values(status="superseded", row_version=col(Trial.row_version) + 1, updated_at=now)
    )
