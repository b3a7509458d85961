"""SQLite's side of writing: connection pragmas, immediate write transactions, held-back
checkpoints, and writer turns that queue writers in arrival order across processes."""

import asyncio
import os
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from instcat.file_lock import FileLock

IMMEDIATE = "instcat_immediate"
# Set on a pooled SQLite connection whose automatic checkpoints are held back (the value
# to restore when it goes back to the pool).
HELD_CHECKPOINTS = "instcat_held_checkpoints"
# How long a writer waits for its turn in this process before it leaves the waiting to
# SQLite's own busy timeout (as long again), as all writers did before the turns existed.
WRITER_TURN_TIMEOUT = 30.0


def install_sqlite_hooks(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        # A connection whose commit left its checkpoint to the background (see
        # `checkpoint_later`) checkpoints automatically again before anyone else uses it.
        pages = record.info.pop(HELD_CHECKPOINTS, None)
        if pages is not None and dbapi_connection is not None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front: a deferred transaction that upgrades
        # to a write fails with "database is locked" under concurrency.
        if connection.get_execution_options().get(IMMEDIATE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class WriterTurns:
    """One SQLite write transaction at a time, in arrival order, within and across processes.

    SQLite lets one writer in at a time anyway; writers that find the lock taken sleep in
    its busy handler in growing steps (up to 100 ms) and may miss the moment it frees. Queued
    on an asyncio lock instead, the next writer of this process starts as soon as the last
    one commits. Between processes (server workers) the turn is an exclusive file lock beside
    the database (`FileLock`), so the kernel hands it over at once.

    Turns only order writers: SQLite's own lock still guards the data. A writer that cannot
    get its turn in time, and writers that take no turns (other tools), fall back to the
    busy handler.
    """

    def __init__(self, database_path: str | None = None) -> None:
        # An asyncio lock belongs to one event loop; tests run several loops in one process.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._file = FileLock(f"{database_path}-writer") if database_path else None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold the writer turn for the duration of the block."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            await asyncio.wait_for(lock.acquire(), WRITER_TURN_TIMEOUT)
        except TimeoutError:
            yield  # a stuck writer: fall back to SQLite's busy timeout rather than fail here
            return
        try:
            held = await self._file.acquire(WRITER_TURN_TIMEOUT) if self._file else None
            try:
                yield
            finally:
                if held is not None:
                    os.close(held)  # releases the file lock
        finally:
            lock.release()
