"""Engine and session setup, SQLite pragmas and write transactions."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from instcat.cache import AnswerCache, bump_revision
from instcat.config import Settings

IMMEDIATE = "instcat_immediate"


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
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; rolled back at the end."""
        async with self.read_sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back on error.

        Every write gives the database a new revision token, in the same transaction, so
        that no process keeps serving answers derived from the data before it.
        """
        async with self.write_sessions() as session, session.begin():
            yield session
            await bump_revision(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
