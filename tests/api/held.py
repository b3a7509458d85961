"""A change held open in a transaction of its own, committed once a request waits for it.

What a concurrent request would write: the race tests send their request while this holds,
then check that the request acted on what was committed (test_unique_races.py,
test_lock_races.py). The live two-worker races are in test_live_races.py.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from instcat.config import normalise_database_url


def sync_engine(url: str) -> Engine:
    """A synchronous engine on the test's database (the app's URL is async)."""
    sync = normalise_database_url(url).replace("sqlite+aiosqlite:", "sqlite:", 1)
    # The SQLite connection is committed from another thread than the one that opened it.
    args = {"check_same_thread": False} if sync.startswith("sqlite") else {}
    return create_engine(sync, connect_args=args)


def _someone_waits(connection: Connection) -> bool:
    """Whether another session waits for a lock (PostgreSQL); on SQLite the request waits
    for the write lock, which shows nowhere: give it a moment."""
    if connection.dialect.name != "postgresql":
        time.sleep(0.5)
        return True
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = connection.execute(query).scalar_one()
        connection.rollback()  # the activity view is read once per transaction
        if waiting:
            return True
        time.sleep(0.05)
    return False


@contextmanager
def holding(url: str, work: Callable[[Session], None]) -> Iterator[dict[str, bool]]:
    """Run `work(session)` in an open transaction and commit it from a thread once a
    request waits; yields where the caller sends its request (`seen["waited"]` says
    afterwards whether the request was seen waiting)."""
    engine = sync_engine(url)
    seen = {"waited": False}
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            session = Session(bind=holder)
            work(session)
            session.flush()

            def commit_when_waited() -> None:
                seen["waited"] = _someone_waits(watcher)
                session.commit()

            committer = threading.Thread(target=commit_when_waited)
            committer.start()
            try:
                yield seen
            finally:
                committer.join(timeout=30)
    finally:
        engine.dispose()
