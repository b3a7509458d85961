"""Writing a generated list a category at a time: graded in a thread or worker processes,
stored with bulk inserts (COPY on PostgreSQL). `list_reads` reads it back."""

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import aclosing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import psycopg
from psycopg.adapt import Dumper
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from instcat.models import Product
from instcat.substitution.evidence_rows import load_shared
from instcat.substitution.pipeline import (
    IN_FLIGHT,
    PROCESSES_FROM,
    Built,
    Flight,
    ahead_in_processes,
    ahead_in_turns,
    build_category,
    discard,
    in_turns,
    process_pool,
    taken,
)
from instcat.substitution.schemas import ListCriteria
from instcat.substitution.snapshot import CategoryRead, load_catalogue, read_category

SHARED_FROM = 8  # categories


ENTRY_COLUMNS = ("list_id", "position", "category", "product_id", "grade", "data")
REFERENCE_COLUMNS = ("list_id", "product_id", "data")
VENDOR_COLUMNS = ("list_id", "slug", "data")


# SQLite binds at most 32,766 parameters per statement (since 3.32).
SQLITE_PARAMETERS = 32_000


class _EncodedJson(Dumper):
    """Hands JSON already encoded as UTF-8 bytes to COPY as text, as it is."""

    oid = 114  # json

    def dump(self, obj: Any) -> bytes:
        return cast(bytes, obj)  # registered for bytes only


async def _insert(
    connection: AsyncConnection, name: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows whose last value is JSON encoded as UTF-8 bytes: COPY on PostgreSQL; on
    SQLite a few statements of thousands of rows each, so that its work runs in long
    stretches without the interpreter lock (one statement per row gives it back and waits
    for it every row), the JSON kept as text by SQLite itself."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        # The transaction's own psycopg connection; the server parses the JSON text.
        raw = cast(
            psycopg.AsyncConnection[Any], (await connection.get_raw_connection()).driver_connection
        )
        async with raw.cursor() as cursor:
            cursor.adapters.register_dumper(bytes, _EncodedJson)  # this cursor's bytes only
            statement = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
            async with cursor.copy(statement) as copy:
                for row in rows:
                    await copy.write_row(row)
        return
    group = f"({', '.join('?' for _ in columns[:-1])}, CAST(? AS TEXT))"
    per_statement = SQLITE_PARAMETERS // len(columns)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        statement = (
            f"INSERT INTO {name} ({', '.join(columns)}) VALUES {', '.join([group] * len(chunk))}"
        )
        await connection.exec_driver_sql(statement, tuple(v for row in chunk for v in row))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    # Building a list allocates millions of small acyclic objects; the cyclic collector
    # would rescan them again and again (a third of the time) for nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Stored:
    """What storing a list's entries leaves for its row."""

    count: int = 0
    definitions: dict[str, Any] = field(default_factory=dict)  # code → spec definitions
    categories: dict[str, Any] = field(default_factory=dict)  # code → names and gap keys


async def store_entries(
    session: AsyncSession,
    list_id: int,
    category_ids: list[int],
    criteria: ListCriteria,
    trial_cutoff: date | None,
    readers: Sequence[AsyncSession] | None = None,
    processes: int = 0,
) -> Stored:
    """Grade and store every entry of the list, with the references and vendors they share.

    With `readers` (sessions on connections of their own that see one snapshot:
    `Database.snapshot`), the evidence is read there while the entries go in on
    `session`'s connection: the next categories are read and graded while the database
    stores the ones before. A second reader reads feedback while the first reads trials.
    With `processes`, a list of `PROCESSES_FROM` products or more is graded by that many
    worker processes (`pipeline.process_pool`).
    """
    with _no_cycle_collection():
        return await _store_entries(
            session,
            readers or [session],
            list_id,
            category_ids,
            criteria,
            trial_cutoff,
            processes if readers else 0,
        )


async def _products_in(session: AsyncSession, category_ids: list[int]) -> int:
    query = select(func.count()).where(col(Product.category_id).in_(category_ids))
    return (await session.execute(query)).scalar_one()


async def _store_entries(
    session: AsyncSession,
    readers: Sequence[AsyncSession],
    list_id: int,
    category_ids: list[int],
    criteria: ListCriteria,
    trial_cutoff: date | None,
    processes: int,
) -> Stored:
    reader = readers[0]
    catalogue = await load_catalogue(reader, category_ids)
    known = [cid for cid in category_ids if cid in catalogue.categories]
    # Entries are ordered by category code first, so categories are taken in that order.
    order = sorted(known, key=lambda cid: catalogue.categories[cid][0])
    starting = None
    if processes and await _products_in(reader, known) >= PROCESSES_FROM:
        # Worker processes start (in a thread: that waits for them) while evidence is read.
        starting = asyncio.create_task(
            asyncio.to_thread(process_pool, processes, catalogue, criteria)
        )
    try:
        # Many categories: one pass over trials and feedback beats a join per category.
        shared = await load_shared(readers, trial_cutoff) if len(known) > SHARED_FROM else None

        async def read(category_id: int) -> CategoryRead:
            return await read_category(reader, category_id, trial_cutoff, shared)

        def build(category: CategoryRead) -> Built:
            return build_category(category, catalogue, criteria)

        connection = await session.connection()
        if reader is session:
            # One connection: reading the next category waits for the inserts before it.
            async with aclosing(in_turns(order, read, build)) as categories:
                return await _store_built(connection, list_id, categories)
        # Reading and building run ahead on their own while the database stores.
        queue: Flight = asyncio.Queue(IN_FLIGHT)
        producer = asyncio.create_task(
            ahead_in_turns(order, read, build, queue)
            if starting is None
            else ahead_in_processes(order, read, starting, queue)
        )
        try:
            return await _store_built(connection, list_id, taken(queue))
        finally:
            producer.cancel()
            with suppress(asyncio.CancelledError):
                await producer
            discard(queue)
    finally:
        if starting is not None:
            try:
                pool = await starting
            except Exception:  # none started; the list's error is on its way up already
                pass
            else:
                await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)


async def _store_built(
    connection: AsyncConnection, list_id: int, categories: AsyncIterator[Built]
) -> Stored:
    """Insert the built categories' rows in list order, in batches of thousands of rows (each
    statement waits for the interpreter lock again); what the list's row keeps of them."""
    stored = Stored()
    entry_rows: list[tuple[Any, ...]] = []
    reference_rows: list[tuple[Any, ...]] = []
    vendor_rows: list[tuple[Any, ...]] = []
    vendors: set[str] = set()  # a vendor's part is the same in every category
    batch = SQLITE_PARAMETERS // len(ENTRY_COLUMNS)
    tables = (
        ("substitution_entry", ENTRY_COLUMNS, entry_rows),
        ("substitution_reference", REFERENCE_COLUMNS, reference_rows),
        ("substitution_vendor", VENDOR_COLUMNS, vendor_rows),
    )
    async for built in categories:
        if not built.entries:
            continue
        stored.definitions[built.code] = built.definitions
        stored.categories[built.code] = built.part
        position = stored.count
        entry_rows.extend((list_id, position + n, *row) for n, row in enumerate(built.entries))
        reference_rows.extend((list_id, *row) for row in built.references)
        for slug, data in built.vendors:
            if slug not in vendors:
                vendors.add(slug)
                vendor_rows.append((list_id, slug, data))
        stored.count += len(built.entries)
        for name, columns, rows in tables:
            if len(rows) >= batch:
                await _insert(connection, name, columns, rows)
                rows.clear()
    for name, columns, rows in tables:
        await _insert(connection, name, columns, rows)
    return stored
