"""Idempotency-Key handling for POSTs that create things.

The key is claimed, the work done and its response stored in one write transaction. A
concurrent retry with the same key waits for that transaction (SQLite takes one writer at a
time; on PostgreSQL its claim waits on the unique index), then finds the stored response and
replays it instead of creating a second record. If the work fails, the claim is rolled back
with it, so a failed request can be sent again with the same key.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, null, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.auth import Actor
from instcat.db import Database, bookkeeping_only
from instcat.errors import Conflict, InvalidInput, Unprocessable
from instcat.models import IdempotencyRecord
from instcat.models.base import table_of, utcnow

KEEP_FOR = timedelta(hours=24)
# A claim older than this belongs to a request that died; a retry may take it over.
STALE_CLAIM = timedelta(minutes=2)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False


def request_hash(data: BaseModel, *extra: object) -> str:
    """A fingerprint of the validated request body (plus route parameters)."""
    canonical = json.dumps(
        [data.model_dump(mode="json"), *extra], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.field(
            "header:Idempotency-Key", f"1 to {MAX_KEY_LENGTH} printable characters"
        )


_TABLE = table_of(IdempotencyRecord)


def _claim_statement(insert: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING of a fresh claim, built once per dialect."""
    return (
        insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["user_id", "route", "key"])
        .returning(_TABLE.c.id)  # a row only when the claim was inserted (rowcount is unreliable)
    )


_CLAIM = {"sqlite": _claim_statement(sqlite_insert), "postgresql": _claim_statement(pg_insert)}
# On the table, not the ORM class: no loaded records to keep in step, so the ORM's bulk-update
# bookkeeping would be work for nothing.
_OWNER = (
    (_TABLE.c.user_id == bindparam("owner_user"))
    & (_TABLE.c.route == bindparam("owner_route"))
    & (_TABLE.c.key == bindparam("owner_key"))
)
_DONE = update(_TABLE).where(_OWNER)
# A fresh claim in place of the record as it was read (a conditional update, so only one of
# several concurrent takers wins).
_TAKE_OVER = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("claim_id"), _TABLE.c.created_at == bindparam("seen_at"))
    .values(
        state="in_progress",
        request_hash=bindparam("request_hash"),
        created_at=bindparam("created_at"),
        response_status=None,
        response_body=null(),
    )
    .returning(_TABLE.c.id)
)


async def _claim(
    session: AsyncSession, actor: Actor, route: str, key: str, digest: str
) -> Outcome | None:
    """Claim the key, or return the stored outcome of an earlier request with it."""
    now = utcnow()
    # The usual case, a new key, is one statement; only a taken key is looked at.
    claim = _CLAIM[session.get_bind().dialect.name]
    row = {"user_id": actor.id or 0, "route": route, "key": key, "request_hash": digest}
    claimed = await session.execute(claim, {**row, "state": "in_progress", "created_at": now})
    if claimed.first() is not None:
        return None
    existing = (
        await session.execute(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.user_id) == actor.id,
                col(IdempotencyRecord.route) == route,
                col(IdempotencyRecord.key) == key,
            )
        )
    ).scalar()
    if existing is None:
        # The claim was deleted meanwhile (expired): claim it afresh, or lose to a racer.
        if (
            await session.execute(claim, {**row, "state": "in_progress", "created_at": now})
        ).first():
            return None
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    if now - existing.created_at <= KEEP_FOR:  # an expired record is simply taken over
        if existing.request_hash != digest:
            raise Unprocessable("This Idempotency-Key was used with a different request body.")
        if existing.state == "done":
            return Outcome(existing.response_status or 200, existing.response_body, True)
        if now - existing.created_at < STALE_CLAIM:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
    # An expired record, or a claim abandoned by a request that died: take it over, but only
    # as it was read. Of concurrent retries that read the same row, the first to update it
    # wins; on PostgreSQL the others wait for its row lock, then find the row changed.
    taken = await session.execute(
        _TAKE_OVER,
        {
            "claim_id": existing.id,
            "seen_at": existing.created_at,
            "request_hash": digest,
            "created_at": now,
        },
    )
    if taken.first() is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    return None


async def run_idempotent(
    db: Database,
    actor: Actor,
    route: str,
    key: str | None,
    digest: str,
    work: Callable[[AsyncSession], Awaitable[tuple[int, Any]]],
) -> Outcome:
    """Run `work` in one write transaction, at most once per (user, route, key)."""
    if key is None or actor.id is None:
        async with db.write() as session:
            status, body = await work(session)
        return Outcome(status, body)
    _check_key(key)
    owner = {"owner_user": actor.id, "owner_route": route, "owner_key": key}
    async with db.write() as session:
        try:
            stored = await _claim(session, actor, route, key, digest)
        except IntegrityError as race:
            # Another request claimed the same key between our read and our insert.
            raise Conflict(
                "A request with this Idempotency-Key is still being processed."
            ) from race
        if stored is not None:
            bookkeeping_only(session)
            return stored
        status, body = await work(session)
        done = {"state": "done", "response_status": status, "response_body": body}
        await session.execute(_DONE, {**owner, **done})
    return Outcome(status, body)
