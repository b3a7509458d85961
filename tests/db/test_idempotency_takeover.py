"""A claim left by a request that died (or an expired record) is taken over by one retry only,
however many arrive at once: the others are told to wait (409) or get the stored replay."""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from instcat.auth import Actor
from instcat.config import Settings
from instcat.db import Database
from instcat.errors import Conflict
from instcat.idempotency import KEEP_FOR, STALE_CLAIM, run_idempotent
from instcat.models import IdempotencyRecord
from instcat.models.base import table_of, utcnow

ROUTE, KEY, DIGEST = "POST /trials", "retry-1", "d" * 64


async def _user(db: Database) -> Actor:
    async with db.write() as session:
        await session.execute(
            text(
                "INSERT INTO user_account (name, role, token_hash, created_at) "
                "VALUES ('vendor user', 'vendor', 'h', CURRENT_TIMESTAMP)"
            )
        )
        user_id = (await session.execute(text("SELECT max(id) FROM user_account"))).scalar()
    return Actor(id=user_id, name="vendor user", role="vendor")


async def _leave_claim(db: Database, actor: Actor, age: timedelta, state: str) -> None:
    async with db.write() as session:
        await session.execute(
            insert(table_of(IdempotencyRecord)),
            {
                "user_id": actor.id,
                "route": ROUTE,
                "key": KEY,
                "request_hash": DIGEST,
                "state": state,
                "response_status": 201 if state == "done" else None,
                "created_at": utcnow() - age,
            },
        )


async def _race(
    db: Database, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], list[int]]:
    """Two retries at once, each having read the old claim before either takes it over."""
    runs: list[int] = []
    both_read = asyncio.Barrier(2)
    execute = AsyncSession.execute

    async def execute_then_meet(self: AsyncSession, statement: Any, *args: Any, **kw: Any) -> Any:
        result = await execute(self, statement, *args, **kw)
        if getattr(statement, "is_select", False) and "idempotency_record" in str(statement):
            # Wait for the other retry to have read the claim too. On SQLite it cannot (the
            # first one holds the writer's turn), so go on after a while.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both_read.wait(), 0.5)
        return result

    monkeypatch.setattr(AsyncSession, "execute", execute_then_meet)

    async def work(session: AsyncSession) -> tuple[int, Any]:
        runs.append(1)
        await asyncio.sleep(0.2)
        return 201, {"created": len(runs)}

    async def attempt() -> Any:
        try:
            return await run_idempotent(db, actor, ROUTE, KEY, DIGEST, work)
        except Conflict as conflict:
            return conflict

    outcomes = await asyncio.gather(attempt(), attempt())
    return list(outcomes), runs


@pytest.mark.parametrize(
    ("age", "state"),
    [(STALE_CLAIM + timedelta(minutes=1), "in_progress"), (KEEP_FOR + timedelta(hours=1), "done")],
    ids=["abandoned claim", "expired record"],
)
def test_one_retry_takes_over_an_old_claim(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, age: timedelta, state: str
) -> None:
    async def run() -> tuple[list[Any], list[int], list[Any]]:
        db = Database.from_settings(settings)
        try:
            actor = await _user(db)
            await _leave_claim(db, actor, age, state)
            outcomes, runs = await _race(db, actor, monkeypatch)
            async with db.read() as session:
                rows = list((await session.execute(select(IdempotencyRecord.state))).scalars())
            return outcomes, runs, rows
        finally:
            await db.dispose()

    outcomes, runs, rows = asyncio.run(run())
    assert len(runs) == 1, outcomes  # the work ran once
    done = [o for o in outcomes if not isinstance(o, Conflict) and not o.replayed]
    assert len(done) == 1 and done[0].status == 201
    # The other retry waited for the first (SQLite: writer turns) and replays it, or found
    # the claim taken under it (PostgreSQL: the row changed) and is told to wait.
    other = outcomes[1 - outcomes.index(done[0])]
    assert isinstance(other, Conflict) or (other.replayed and other.body == done[0].body)
    assert rows == ["done"]
