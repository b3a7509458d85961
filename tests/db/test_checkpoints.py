"""SQLite: a large write transaction (a generated list) commits without copying its log into
the database file; that checkpoint runs right after, in the background."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from instcat.auth import SYSTEM
from instcat.config import Settings
from instcat.db import Database
from instcat.devdata import generate
from instcat.migrate import upgrade
from instcat.substitution import storage
from instcat.substitution.lists import ListService
from instcat.substitution.schemas import ListCriteria
from tests.conftest import SEED_DIR


def _migrated(tmp_path: Path) -> Path:
    path = tmp_path / "checkpoints.db"
    upgrade(f"sqlite:///{path}")
    return path


async def _generated(path: Path) -> Database:
    db = Database.from_settings(Settings(database_url=f"sqlite:///{path}", seed_dir=SEED_DIR))
    await generate(db, 0.002, 5, seed_dir=SEED_DIR)
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


def test_a_generated_list_is_copied_into_the_database_after_the_answer(tmp_path: Path) -> None:
    path = _migrated(tmp_path)

    async def run() -> tuple[int, int, int, set[int]]:
        db = await _generated(path)
        try:
            before = path.stat().st_size
            await ListService(db).generate(SYSTEM, ListCriteria(label="whole"))
            answered = path.stat().st_size
            pending = list(db._checkpoints)
            assert len(pending) == 1 and not pending[0].done()
            await asyncio.gather(*pending)
            return before, answered, path.stat().st_size, await _autocheckpoints(db)
        finally:
            await db.dispose()

    before, answered, copied, settings = asyncio.run(run())
    assert answered == before  # the commit left the new pages in the log
    assert copied > before  # the background checkpoint copied them
    assert settings == {1000}  # every connection checkpoints automatically again


def test_a_list_that_fails_starts_no_checkpoint_and_holds_none_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_build(*args: Any) -> Any:
        raise RuntimeError("grading failed")

    monkeypatch.setattr(storage, "build_category", failing_build)

    path = _migrated(tmp_path)

    async def run() -> tuple[int, set[int]]:
        db = await _generated(path)
        try:
            with pytest.raises(RuntimeError):
                await ListService(db).generate(SYSTEM, ListCriteria(label="broken"))
            return len(db._checkpoints), await _autocheckpoints(db)
        finally:
            await db.dispose()

    assert asyncio.run(run()) == (0, {1000})
