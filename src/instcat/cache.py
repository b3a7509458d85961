"""Derived answers cached per process, valid for exactly one data revision.

Every write transaction replaces the database's revision token (`bump_revision`, called by
`Database.write()` just before commit). A reader takes the token first, then looks up or
computes its answer and files it under that token. Because the token changes in the same
transaction as the data, an answer filed under the current token was computed from data at
least that new; any later commit, from any process, changes the token and so retires it.
A token is random rather than a counter so that a database restored from a backup (or
emptied) can never make an old answer look current.
"""

import asyncio
import contextlib
import secrets
import sqlite3
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from instcat.config import libpq_url, sqlite_file

_BUMP = text(
    "INSERT INTO data_revision (id, value) VALUES (1, :token) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)
_READ_SQL = "SELECT value FROM data_revision WHERE id = 1"
_READ = text(_READ_SQL)


async def bump_revision(session: AsyncSession) -> None:
    """Give the database a new revision token (inside the write transaction)."""
    await session.execute(_BUMP, {"token": secrets.randbits(62)})


async def read_revision(connection: AsyncConnection | AsyncSession) -> int | None:
    """The current revision token; None when there is none (then nothing is cached)."""
    return (await connection.execute(_READ)).scalar()


class RevisionReader:
    """Reads the current revision token as cheaply as the database allows.

    On an SQLite file that is one indexed read through a plain `sqlite3` connection of this
    process, done in place: tens of microseconds, where the async driver's hand-off to its
    worker thread and back costs far more than the read. In WAL mode the read never waits
    for writers. On PostgreSQL it is one round trip on a connection kept for this purpose
    (autocommit, no pool checkout or liveness ping); if that connection fails, the read
    goes through the pool and the connection is opened again next time.

    Concurrent requests on PostgreSQL share round trips: a request joins the next read that
    has not been sent yet, never one already under way, so the token it gets was read after
    it asked and reflects every commit made before then. At most one read is in flight, so
    a burst of N requests costs two round trips instead of N queued ones.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._path = sqlite_file(engine.url)
        self._sqlite: sqlite3.Connection | None = None
        backend = engine.url.get_backend_name()
        self._pg_url = libpq_url(engine.url) if backend == "postgresql" else None
        self._pg: Any = None  # psycopg.AsyncConnection, bound to the loop that opened it
        self._pg_loop: asyncio.AbstractEventLoop | None = None
        # The next shared read (not sent yet), and the task that sends reads one at a time.
        self._next: asyncio.Future[int | None] | None = None
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self) -> int | None:
        """The current revision token (None when there is none)."""
        if self._path is not None:
            return self._read_sqlite()
        if self._pg_url is not None:
            try:
                return await self._shared_read()
            except Exception:
                pass  # the sender has closed the connection; read through the pool
        async with self.engine.connect() as connection:
            return await read_revision(connection)

    def _read_sqlite(self) -> int | None:
        if self._sqlite is None:
            self._sqlite = sqlite3.connect(
                self._path or "", timeout=1.0, isolation_level=None, check_same_thread=False
            )
            self._sqlite.execute("PRAGMA query_only=ON")
        row = self._sqlite.execute(_READ_SQL).fetchone()
        return None if row is None else int(row[0])

    async def _shared_read(self) -> int | None:
        loop = asyncio.get_running_loop()
        if self._sender is not None and self._sender.get_loop() is not loop:
            self._next = self._sender = None  # left behind by a loop that has ended
        if self._next is None:
            self._next = loop.create_future()
        waiting = self._next
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_reads())
        return await asyncio.shield(waiting)

    async def _send_reads(self) -> None:
        while self._next is not None:
            # Taken before the query is sent: whoever asks from now on waits for the next one.
            waiting, self._next = self._next, None
            try:
                value = await self._read_postgres()
            except asyncio.CancelledError:
                # Stopped (closing, or the loop ending): no waiter may be left hanging. They
                # fall back to reading through the pool.
                for left in (waiting, self._next):
                    _fail(left, RuntimeError("revision read stopped"))
                self._next = None
                raise
            except Exception as error:
                await self._close_postgres()
                _fail(waiting, error)
            else:
                if not waiting.done():
                    waiting.set_result(value)

    async def _read_postgres(self) -> int | None:
        import psycopg

        loop = asyncio.get_running_loop()
        if self._pg is None or self._pg.closed or self._pg_loop is not loop:
            await self._close_postgres()
            self._pg = await psycopg.AsyncConnection.connect(self._pg_url or "", autocommit=True)
            self._pg_loop = loop
        # psycopg queues concurrent statements on one connection; each is one round trip.
        cursor = await self._pg.execute(_READ_SQL, prepare=True)
        row = await cursor.fetchone()
        return None if row is None else int(row[0])

    async def _close_postgres(self) -> None:
        connection, self._pg = self._pg, None
        if connection is not None and self._pg_loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):
                await connection.close()

    async def close(self) -> None:
        """Stop shared reads and close this reader's own connections."""
        sender, self._sender = self._sender, None
        if sender is not None and sender.get_loop() is asyncio.get_running_loop():
            sender.cancel()
            with contextlib.suppress(BaseException):
                await sender
        # A sender cancelled before it ran never took the next read: fail it here.
        _fail(self._next, RuntimeError("revision read stopped"))
        self._next = None
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        await self._close_postgres()


def _fail(waiting: "asyncio.Future[int | None] | None", error: BaseException) -> None:
    if waiting is not None and not waiting.done():
        waiting.set_exception(error)
        waiting.exception()  # each waiter handles it; none is left unretrieved


class AnswerCache:
    """A bounded LRU of answers, each valid for the revision it was computed at."""

    def __init__(self, max_items: int = 4096, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items: OrderedDict[Hashable, tuple[int, Any, int]] = OrderedDict()
        self._bytes = 0

    @property
    def size(self) -> int:
        """The sizes of the answers held, added up."""
        return self._bytes

    def get(self, key: Hashable, revision: int | None) -> Any | None:
        """The answer filed under `key` for this revision, or None."""
        found = self._items.get(key)
        if found is None or revision is None or found[0] != revision:
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, revision: int | None, value: Any, size: int = 1) -> None:
        """File an answer computed at `revision` (bytes count towards the size bound)."""
        if revision is None or size > self.max_bytes:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old[2]
        self._items[key] = (revision, value, size)
        self._bytes += size
        while len(self._items) > self.max_items or self._bytes > self.max_bytes:
            _, (_, _, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped
