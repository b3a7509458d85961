"""Engine and session setup, SQLite pragmas and write transactions."""

import asyncio
import logging
import multiprocessing
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import aiosqlite
from sqlalchemy import CursorResult, Executable, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from instcat.cache import AnswerCache, RevisionReader, bump_revision
from instcat.config import Settings, sqlite_file
from instcat.file_lock import FileLock

logger = logging.getLogger("instcat.db")

IMMEDIATE = "instcat_immediate"
# Set on a pooled SQLite connection whose automatic checkpoints are held back (the value
# to restore when it goes back to the pool).
_HELD_CHECKPOINTS = "instcat_held_checkpoints"
# How long a writer waits for its turn in this process before it leaves the waiting to
# SQLite's own busy timeout (as long again), as all writers did before the turns existed.
WRITER_TURN_TIMEOUT = 30.0


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
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
        pages = record.info.pop(_HELD_CHECKPOINTS, None)
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


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for the configured database."""
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, connect_args={"timeout": 30})
        _install_sqlite_hooks(engine)
        return engine
    return create_async_engine(
        settings.database_url, pool_size=10, max_overflow=20, pool_pre_ping=True
    )


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


def _list_build_processes(settings: Settings) -> int:
    if settings.list_build_processes is not None:
        return settings.list_build_processes
    # Measured at scale 1 on two cores, fresh copies alternating: SQLite 5.2-5.4 s with a
    # thread, 4.1-4.2 s with two processes; PostgreSQL on the same machine 5.4-5.6 s with a
    # thread, 5.2-5.5 s with two (its server's work storing the rows takes a core too).
    # The workers fork from a server process, which not every platform offers.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return 0
    return min(2, os.cpu_count() or 1)


_BOOKKEEPING_ONLY = "instcat_bookkeeping_only"
_CHECKPOINT_LATER = "instcat_checkpoint_later"


def checkpoint_later(session: AsyncSession) -> None:
    """Mark a write transaction as large: on SQLite its commit does not wait to copy its
    write-ahead log into the database (a checkpoint), which runs right after it instead,
    in the background. Other writers' commits still checkpoint as usual."""
    session.info[_CHECKPOINT_LATER] = True


def bookkeeping_only(session: AsyncSession) -> None:
    """Mark a write transaction as changing nothing that any answer shows."""
    session.info[_BOOKKEEPING_ONLY] = True


@dataclass
class Database:
    """The engine plus session factories for reads and writes, and this process's caches of
    derived answers (valid for one data revision: see `instcat.cache`)."""

    engine: AsyncEngine
    read_sessions: async_sessionmaker[AsyncSession]
    write_sessions: async_sessionmaker[AsyncSession]
    # Encoded answers (bytes), bounded by size.
    answers: AnswerCache = field(default_factory=AnswerCache)
    # Per-category grading indexes, bounded by the number of products they hold.
    indexes: AnswerCache = field(
        default_factory=lambda: AnswerCache(max_items=512, max_bytes=400_000)
    )
    # SQLite only: writers of this process take turns (see WriterTurns).
    writer_turns: WriterTurns | None = None
    # Hints that are checked before use (such as which category a product is in).
    hints: dict[Any, Any] = field(default_factory=dict)
    # Worker processes that grade a large list (`Settings.list_build_processes`).
    list_build_processes: int = 0
    # The data revision that cached answers are checked against.
    revision: RevisionReader = field(init=False)
    # Checkpoints left to run after a large commit (`checkpoint_later`).
    _checkpoints: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.revision = RevisionReader(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        engine = create_engine(settings)
        write_engine = engine.execution_options(**{IMMEDIATE: True})
        return cls(
            engine=engine,
            read_sessions=async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False),
            write_sessions=async_sessionmaker(
                write_engine, class_=AsyncSession, expire_on_commit=False
            ),
            writer_turns=WriterTurns(sqlite_file(settings.database_url))
            if settings.is_sqlite
            else None,
            list_build_processes=_list_build_processes(settings),
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; rolled back at the end."""
        async with self.read_sessions() as session:
            yield session

    @asynccontextmanager
    async def snapshot(self, sessions: int = 1) -> AsyncIterator[list[AsyncSession] | None]:
        """Read-only sessions whose reads all see one snapshot of the data, each on a
        connection of its own (to read beside a write transaction, or several reads at
        once); None when the database has no second connection to read from (in-memory
        SQLite: read on the writer's session then).

        On PostgreSQL the first session is a read-only repeatable-read transaction and the
        others import its snapshot. On SQLite each session's read transaction starts here,
        one after the other: while the caller holds the write lock (or no one writes) they
        are all the data the caller sees, less its own changes.
        """
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and sqlite_file(url) is None:
            yield None
            return
        async with AsyncExitStack() as stack:
            readers = [
                await stack.enter_async_context(self.read_sessions()) for _ in range(sessions)
            ]
            if url.get_backend_name() == "postgresql":
                options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
                first, *others = [await r.connection(execution_options=options) for r in readers]
                exported = (await first.exec_driver_sql("SELECT pg_export_snapshot()")).scalar()
                for other in others:
                    await other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{exported}'")
            else:
                for reader in readers:  # each read transaction (snapshot) starts here
                    await reader.execute(text("SELECT 1 FROM sqlite_master LIMIT 1"))
            yield readers

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back on error.

        Every write gives the database a new revision token, in the same transaction, so
        that no process keeps serving answers derived from the data before it. Only a
        transaction marked `bookkeeping_only`, which touched nothing any answer shows (an
        idempotent retry that replays a stored response), leaves it alone.
        """
        async with AsyncExitStack() as stack:
            if self.writer_turns is not None:
                await stack.enter_async_context(self.writer_turns.turn())
            session = await stack.enter_async_context(self.write_sessions())
            stack.push_async_exit(partial(self._after_commit, session))
            await stack.enter_async_context(session.begin())
            yield session
            if not session.info.get(_BOOKKEEPING_ONLY):
                await bump_revision(session)
            if session.info.get(_CHECKPOINT_LATER) and self.writer_turns is not None:
                await self._hold_checkpoints(session)

    async def _hold_checkpoints(self, session: AsyncSession) -> None:
        """Turn this connection's automatic checkpoint off for the commit to come (it is
        turned back on when the connection returns to the pool)."""
        fairy = await (await session.connection()).get_raw_connection()
        raw = cast(aiosqlite.Connection, fairy.driver_connection)  # held on SQLite only
        async with raw.execute("PRAGMA wal_autocheckpoint") as cursor:
            (pages,) = cast(tuple[int], await cursor.fetchone())  # the pragma answers one row
        fairy.info[_HELD_CHECKPOINTS] = pages
        async with raw.execute("PRAGMA wal_autocheckpoint=0"):
            pass
        session.info[_CHECKPOINT_LATER] = "held"

    async def _after_commit(
        self, session: AsyncSession, error_type: type[BaseException] | None, *_: Any
    ) -> bool:
        """After a commit whose checkpoint was held back, start it in the background."""
        if error_type is None and session.info.get(_CHECKPOINT_LATER) == "held":
            task = asyncio.get_running_loop().create_task(self._checkpoint())
            self._checkpoints.add(task)
            task.add_done_callback(self._checkpoints.discard)
        return False  # never swallows the error

    async def _checkpoint(self) -> None:
        """Copy the write-ahead log into the database without blocking readers or writers
        (what an automatic checkpoint does), on a connection of its own."""
        try:
            async with self.engine.connect() as connection:
                fairy = await connection.get_raw_connection()
                raw = cast(aiosqlite.Connection, fairy.driver_connection)  # SQLite only
                async with raw.execute("PRAGMA wal_checkpoint(PASSIVE)"):
                    pass
        except Exception:  # the next commit's automatic checkpoint does it then
            logger.warning("A background checkpoint failed.", exc_info=True)

    async def answer(
        self, key: Hashable, compute: Callable[[int | None], Awaitable[bytes]]
    ) -> bytes:
        """The encoded answer to `key` at the current data revision: the cached one, or
        `compute(revision)`'s, filed under the revision read before computing it."""
        revision = await self.revision()
        body = self.answers.get(key, revision)
        if body is None:
            body = await compute(revision)
            self.answers.put(key, revision, body, len(body))
        return body

    async def dispose(self) -> None:
        loop = asyncio.get_running_loop()
        pending = [task for task in self._checkpoints if task.get_loop() is loop]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await self.revision.close()
        await self.engine.dispose()


async def rows_changed(session: AsyncSession, statement: Executable) -> int:
    """Run an UPDATE or DELETE and say how many rows it matched."""
    result = await session.execute(statement)
    # Such a statement always yields a cursor result; execute() is typed for SELECTs.
    return cast(CursorResult[Any], result).rowcount
