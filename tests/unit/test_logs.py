"""The batched access-log handler writes every line, in order, without waiting forever."""

import asyncio
import io
import logging

from instcat.logs import BatchedLineHandler


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


async def _written(stream: io.StringIO, lines: int) -> None:
    """Wait until the timer has written `lines` lines (a flush, not a guessed delay)."""
    async with asyncio.timeout(5):
        while stream.getvalue().count("\n") < lines:
            await asyncio.sleep(0.01)


def test_lines_wait_on_a_loop_and_are_written_after_the_delay() -> None:
    stream = io.StringIO()
    handler = BatchedLineHandler(stream, capacity=100, delay=0.05)
    logger = _logger(handler, "test.logs.delay")

    async def scenario() -> tuple[str, str]:
        for n in range(3):
            logger.info("line %d", n)
        before = stream.getvalue()
        await _written(stream, 3)
        return before, stream.getvalue()

    before, after = asyncio.run(scenario())
    assert before == ""
    assert after == "line 0\nline 1\nline 2\n"


def test_a_full_batch_is_written_at_once() -> None:
    stream = io.StringIO()
    handler = BatchedLineHandler(stream, capacity=4, delay=60)
    logger = _logger(handler, "test.logs.capacity")

    async def scenario() -> str:
        for n in range(5):
            logger.info("line %d", n)
        return stream.getvalue()

    assert asyncio.run(scenario()) == "".join(f"line {n}\n" for n in range(4))
    handler.close()
    assert stream.getvalue().endswith("line 4\n")


def test_off_the_loop_each_line_is_written_immediately() -> None:
    stream = io.StringIO()
    logger = _logger(BatchedLineHandler(stream, capacity=100, delay=60), "test.logs.sync")
    logger.info("hello")
    assert stream.getvalue() == "hello\n"


def test_a_line_left_by_a_finished_loop_is_written_by_the_next_one() -> None:
    stream = io.StringIO()
    handler = BatchedLineHandler(stream, capacity=100, delay=0.05)
    logger = _logger(handler, "test.logs.loops")

    async def log(text: str, lines: int) -> None:
        logger.info(text)
        if lines:
            await _written(stream, lines)
        else:
            await asyncio.sleep(0)

    asyncio.run(log("first", 0))  # the loop ends before its timer fires
    assert stream.getvalue() == ""
    asyncio.run(log("second", 2))
    assert stream.getvalue() == "first\nsecond\n"
