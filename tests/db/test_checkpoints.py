"""SQLite: a large write transaction (a generated list) commits without copying its log into
the database file; that checkpoint runs right after, in the background.

The generated catalogue is small, so its list's log (about 75 pages) stays under the default
automatic checkpoint (1,000 pages). Connections here checkpoint at `PAGES` instead, so that a
commit that did not hold its checkpoint back would copy the log before answering.
"""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from instcat.auth import SYSTEM
from instcat.config import Settings
from instcat.db import Database
from instcat.substitution import storage
from instcat.substitution.lists import ListService
from instcat.substitution.schemas import ListCriteria
from tests.conftest import SEED_DIR
from tests.templates import SqliteTemplates


def _generated_file(templates: SqliteTemplates, tmp_path: Path) -> Path:
    """A copy of the generated catalogue (tests/conftest.py: generated once per session)."""
    return templates.copy_to("generated", tmp_path / "checkpoints.db")


PAGES = 16


async def _generated(path: Path) -> Database:
    db = Database.from_settings(Settings(database_url=f"sqlite:///{path}", seed_dir=SEED_DIR))

    @event.listens_for(db.engine.sync_engine, "connect")
    def _small_checkpoints(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA wal_autocheckpoint={PAGES}")
        cursor.close()

    async with db.engine.connect() as connection:  # start from a copied log
        await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return db


async def _autocheckpoints(db: Database, connections: int = 4) -> set[int]:
    """The automatic checkpoint setting of several pooled connections at once."""
    held = [await db.engine.connect() for _ in range(connections)]
    try:
        return {(await c.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one() for c in held}
    finally:
        for connection in held:
            await connection.close()


def _gate_background_checkpoints(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The background checkpoint starts only once the returned event is set (it runs on a
    thread of its own, so without the gate it may already be copying when the test looks)."""
    gate = asyncio.Event()
    checkpoint = Database._checkpoint

    async def gated(self: Database) -> None:
        await gate.wait()
        await checkpoint(self)

    monkeypatch.setattr(Database, "_checkpoint", gated)
    return gate


def _generate_and_checkpoint(path: Path, gate: asyncio.Event) -> tuple[int, int, int, set[int]]:
    """Database file sizes before the list, when it is answered, and after the background
    checkpoint; and the pooled connections' automatic checkpoint settings after it."""

    async def run() -> tuple[int, int, int, set[int]]:
        db = await _generated(path)
        try:
            before = path.stat().st_size
            await ListService(db).generate(SYSTEM, ListCriteria(label="whole"))
            answered = path.stat().st_size
            pending = list(db._checkpoints)
            assert len(pending) == 1 and not pending[0].done()
            gate.set()
            await asyncio.gather(*pending)
            return before, answered, path.stat().st_size, await _autocheckpoints(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_a_generated_list_is_copied_into_the_database_after_the_answer(
    sqlite_templates: SqliteTemplates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _gate_background_checkpoints(monkeypatch)
    before, answered, copied, settings = _generate_and_checkpoint(
        _generated_file(sqlite_templates, tmp_path), gate
    )
    assert answered == before  # the commit left the new pages in the log
    assert copied > before  # the background checkpoint copied them
    assert settings == {PAGES}  # every connection checkpoints automatically again


def test_without_holding_back_the_commit_copies_the_log_itself(
    sqlite_templates: SqliteTemplates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: a commit that keeps its automatic checkpoint copies the
    list's pages into the database file before the answer."""

    async def keep(self: Database, session: Any) -> None:
        return None

    monkeypatch.setattr(Database, "_hold_checkpoints", keep)
    path = _generated_file(sqlite_templates, tmp_path)

    async def run() -> tuple[int, int]:
        db = await _generated(path)
        try:
            before = path.stat().st_size
            await ListService(db).generate(SYSTEM, ListCriteria(label="whole"))
            return before, path.stat().st_size
        finally:
            await db.dispose()

    before, answered = asyncio.run(run())
    assert answered > before


def test_a_list_that_fails_starts_no_checkpoint_and_holds_none_back(
    sqlite_templates: SqliteTemplates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_build(*args: Any) -> Any:
        raise RuntimeError("grading failed")

    monkeypatch.setattr(storage, "build_category", failing_build)

    path = _generated_file(sqlite_templates, tmp_path)

    async def run() -> tuple[int, set[int]]:
        db = await _generated(path)
        try:
            with pytest.raises(RuntimeError):
                await ListService(db).generate(SYSTEM, ListCriteria(label="broken"))
            return len(db._checkpoints), await _autocheckpoints(db)
        finally:
            await db.dispose()

    assert asyncio.run(run()) == (0, {PAGES})
