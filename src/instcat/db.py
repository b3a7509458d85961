"""Engine and session setup, SQLite pragmas and write transactions."""

import asyncio
import logging
import multiprocessing
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy import CursorResult, Executable, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from instcat.cache import AnswerCache, RevisionReader, bump_revision
from instcat.config import Settings, sqlite_file
from instcat.sqlite_writes import (
    HELD_CHECKPOINTS,
    IMMEDIATE,
    WriterTurns,
    install_sqlite_hooks,
)

logger = logging.getLogger("instcat.db")
T = TypeVar("T")


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for the configured database."""
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, connect_args={"timeout": 30})
        install_sqlite_hooks(engine)
        return engine
    return create_async_engine(
        settings.database_url, pool_size=10, max_overflow=20, pool_pre_ping=True
    )


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


# `with_for_update` argument for locking a row that is read to be changed: SELECT … FOR NO
# KEY UPDATE on PostgreSQL, which waits for and holds off every other change of the row as
# its own UPDATE would, but not other tables' foreign key checks against it. SQLite renders
# no lock: its write transactions hold the whole database already.
ROW_LOCK: dict[str, Any] = {"key_share": True}

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
        fairy.info[HELD_CHECKPOINTS] = pages
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


async def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    database = Database.from_settings(settings)
    try:
        return await work(database)
    finally:
        await database.dispose()


def run_with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on a database opened from `settings` in a new event loop, then close it
    (for commands, which have no application to own the engine)."""
    return asyncio.run(_with_database(settings, work))
