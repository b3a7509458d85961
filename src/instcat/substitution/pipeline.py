"""Grading and encoding a list's categories, in list order, while the ones before are stored.

A category is read as plain rows (`snapshot.CategoryRead`), then shaped, graded and
encoded by `build_category`, which is pure. Small lists build in one worker thread. Large
lists build in worker processes, which run beside the reading and storing instead of
taking turns with them for the interpreter lock; the rows they are sent (MessagePack) and
the encoded JSON they send back are cheap to pass between processes.
"""

import asyncio
import gc
import multiprocessing
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from msgspec.json import encode
from msgspec.msgpack import Decoder, Encoder

from instcat.substitution.compact import category_entries, definitions_json
from instcat.substitution.schemas import ListCriteria
from instcat.substitution.snapshot import Catalogue, CategoryRead, shape_category

PROCESSES_FROM = 20_000  # products in the list's categories: fewer build in a thread
# Categories handed to the builders and not yet stored, at most (while worker processes
# start, the categories read meanwhile wait for them besides).
IN_FLIGHT = 4


@dataclass
class Built:
    """One category's stored rows, encoded (positions are counted from the category's first)."""

    code: str
    definitions: list[list[Any]]
    entries: list[tuple[str, int, str, bytes]]  # category, product id, grade, JSON
    references: list[tuple[int, bytes]]  # product id, JSON
    vendors: list[tuple[str, bytes]]  # slug, JSON
    part: dict[str, Any]  # the category's names and gap keys (`compact.CategoryList.part`)


def build_category(read: CategoryRead, catalogue: Catalogue, criteria: ListCriteria) -> Built:
    """Grade one category and encode what is stored of it."""
    rows = shape_category(read, catalogue, criteria.domestic_rule)
    built = category_entries(rows, catalogue, criteria)
    return Built(
        rows.code,
        definitions_json(rows.definitions) if built.entries else [],
        [
            (entry["category"], entry["product"]["id"], entry["grade"], encode(entry))
            for entry in built.entries
        ],
        [(pid, encode(data)) for pid, data in built.references.items()],
        [(slug, encode(data)) for slug, data in built.vendors.items()],
        built.part,
    )


Read = Callable[[int], Awaitable[CategoryRead]]
Build = Callable[[CategoryRead], Built]
Flight = asyncio.Queue["asyncio.Future[Built] | Built | Exception | None"]


async def in_turns(order: list[int], read: Read, build: Build) -> AsyncGenerator[Built]:
    """Categories built in a worker thread, each one handed on while the next is built.
    Each category is read before the next one is built, never while a build runs: the
    two would only wait for the interpreter lock in turn."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1, thread_name_prefix="instcat-list") as builder:
        previous: Built | None = None
        for category_id in order:
            building = loop.run_in_executor(builder, build, await read(category_id))
            try:
                if previous is not None:
                    yield previous
            finally:
                previous = await building
        if previous is not None:
            yield previous


async def ahead_in_turns(order: list[int], read: Read, build: Build, queue: Flight) -> None:
    """Fill the queue with categories built `in_turns` (None at the end, or the error)."""
    try:
        async with aclosing(in_turns(order, read, build)) as categories:
            async for built in categories:
                await queue.put(built)
    except Exception as error:
        await queue.put(error)
    else:
        await queue.put(None)


async def ahead_in_processes(
    order: list[int], read: Read, starting: "asyncio.Future[ProcessPoolExecutor]", queue: Flight
) -> None:
    """Read each category and hand it to the worker processes (`starting`) at once; the
    queue gets each build's future in list order (None at the end, or the error).
    Categories read before the workers are ready wait for them in a list."""
    encoder = Encoder()
    waiting: list[bytes] = []
    try:
        for category_id in order:
            waiting.append(encoder.encode(await read(category_id)))
            if starting.done():
                for category in waiting:
                    await _hand_over(starting.result(), category, queue)
                waiting.clear()
        pool = await starting
        for category in waiting:
            await _hand_over(pool, category, queue)
    except Exception as error:
        await queue.put(error)
    else:
        await queue.put(None)


async def _hand_over(pool: Executor, category: bytes, queue: Flight) -> None:
    building = asyncio.wrap_future(pool.submit(_build_primed, category))
    try:
        await queue.put(building)
    except BaseException:
        building.cancel()  # never taken: its outcome is nobody's
        raise


def discard(queue: Flight) -> None:
    """Drop what a stopped list left in its queue: builds not started are cancelled, and
    the errors of finished ones are taken, so none is logged as never retrieved."""
    while not queue.empty():
        item = queue.get_nowait()
        if isinstance(item, asyncio.Future) and not item.cancel() and not item.cancelled():
            item.exception()


async def taken(queue: Flight) -> AsyncIterator[Built]:
    """The built categories of a queue filled by `ahead_*`, in list order."""
    while (item := await queue.get()) is not None:
        if isinstance(item, Exception):
            raise item
        yield item if isinstance(item, Built) else await item


# Worker processes: each one is given the catalogue and the criteria once, when it starts,
# then categories as MessagePack (far quicker to make and read than pickles of the rows).
_primed: tuple[Catalogue, ListCriteria] | None = None
_decoder = Decoder(CategoryRead)


def _prime(catalogue: Catalogue, criteria: ListCriteria) -> None:
    global _primed
    gc.disable()  # see storage._no_cycle_collection
    _primed = (catalogue, criteria)


def _build_primed(category: bytes) -> Built:
    assert _primed is not None, "a worker process builds only after _prime"
    return build_category(_decoder.decode(category), *_primed)


def _ready() -> None:
    """Nothing: submitted to start the worker processes early."""


def process_pool(
    processes: int, catalogue: Catalogue, criteria: ListCriteria
) -> ProcessPoolExecutor:
    """Worker processes for one list, starting now (while the caller reads on).

    They fork from a server process that has imported this module (and the program's
    main module) once, so only the first list of a process waits for those imports.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    pool = ProcessPoolExecutor(
        processes, mp_context=context, initializer=_prime, initargs=(catalogue, criteria)
    )
    for _ in range(processes):
        pool.submit(_ready)
    return pool
