"""SQLite writer turns across processes: a file lock that is handed over, never stranded."""

import asyncio
import fcntl
import os
import time
from pathlib import Path

import pytest

from instcat.db import WriterTurns
from instcat.file_lock import FileLock


def _turns(tmp_path: Path) -> tuple[WriterTurns, WriterTurns]:
    # Two WriterTurns on one database hold separate descriptions of the lock file, as two
    # server processes do.
    database = str(tmp_path / "turns.db")
    return WriterTurns(database), WriterTurns(database)


def test_a_turn_is_exclusive_between_processes_and_handed_over_in_order(tmp_path: Path) -> None:
    first, second = _turns(tmp_path)
    events: list[str] = []

    async def scenario() -> None:
        release, holding = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with first.turn():
                events.append("first in")
                holding.set()
                await release.wait()
                events.append("first out")

        async def wait_then_write() -> None:
            await holding.wait()
            async with second.turn():
                events.append("second in")

        holder = asyncio.create_task(hold())
        waiter = asyncio.create_task(wait_then_write())
        await asyncio.sleep(0.2)
        assert events == ["first in"]  # the second writer waits while the first holds it
        release.set()
        await asyncio.wait_for(asyncio.gather(holder, waiter), 5)

    asyncio.run(scenario())
    assert events == ["first in", "first out", "second in"]


def test_a_writer_cancelled_while_waiting_does_not_strand_the_lock(tmp_path: Path) -> None:
    first, second = _turns(tmp_path)

    async def scenario() -> None:
        release, holding = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with first.turn():
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()

        async def write() -> None:
            async with second.turn():
                pass

        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.1)  # now blocked in its thread, waiting for the file lock
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        await holder
        await asyncio.sleep(0.1)  # the abandoned wait gets the lock and gives it back

        async def write_first() -> None:
            async with first.turn():
                pass

        # The other process can write again: nothing is left holding the lock.
        await asyncio.wait_for(write_first(), 5)
        await asyncio.wait_for(write(), 5)

    asyncio.run(scenario())


def test_an_in_memory_database_takes_turns_in_process_only() -> None:
    turns = WriterTurns(None)

    async def scenario() -> None:
        async with turns.turn():
            pass

    asyncio.run(scenario())


def _held_elsewhere(path: Path) -> int:
    """Take the lock as another process would (a descriptor of our own)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _free(path: Path) -> bool:
    probe = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(probe)


def _eventually_free(path: Path) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _free(path):
            return True
        time.sleep(0.02)
    return False


def test_a_wait_that_timed_out_gives_the_lock_back_when_it_comes(tmp_path: Path) -> None:
    path = tmp_path / "db-writer"
    other = _held_elsewhere(path)
    assert asyncio.run(FileLock(str(path)).acquire(timeout=0.1)) is None
    os.close(other)  # the other process lets go: the abandoned wait gets it, then returns it
    assert _eventually_free(path)


def test_a_wait_left_by_an_event_loop_that_ended_gives_the_lock_back(tmp_path: Path) -> None:
    path = tmp_path / "db-writer"
    other = _held_elsewhere(path)

    async def leave_waiting() -> None:
        waiting = asyncio.create_task(FileLock(str(path)).acquire(timeout=60))
        await asyncio.sleep(0.1)  # blocked in its thread; the loop then ends and cancels it
        assert not waiting.done()

    asyncio.run(leave_waiting())
    os.close(other)
    assert _eventually_free(path)


def test_the_lock_is_handed_over_and_released_by_closing(tmp_path: Path) -> None:
    path = tmp_path / "db-writer"
    other = _held_elsewhere(path)

    async def wait_for_it() -> int | None:
        waiting = asyncio.create_task(FileLock(str(path)).acquire(timeout=5))
        await asyncio.sleep(0.1)
        os.close(other)
        return await waiting

    held = asyncio.run(wait_for_it())
    assert held is not None and not _free(path)
    os.close(held)
    assert _free(path)
