"""Logging setup: the access log as JSON lines, written in batches.

One line per request is the busiest log there is. Handing each line to a queue thread that
formats and writes it cost more than serving a cached answer, so the access log has its own
handler: lines are kept in a list and written together, at most `delay` seconds after the
first of them or once `capacity` are waiting. Closing or flushing the handler (which logging
does at interpreter exit) writes whatever is waiting, so no line is lost on a clean stop.
"""

import asyncio
import contextlib
import logging
from typing import Any, TextIO

from litestar.logging import LoggingConfig

ACCESS_LOGGER = "instcat.access"


class BatchedLineHandler(logging.StreamHandler[TextIO]):
    """A stream handler that writes formatted lines in batches."""

    def __init__(
        self, stream: TextIO | None = None, capacity: int = 256, delay: float = 0.25
    ) -> None:
        super().__init__(stream)
        self.capacity = capacity
        self.delay = delay
        self._lines: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)
            return
        if len(self._lines) >= self.capacity:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop: nothing would write the batch later
            self.flush()
            return
        if self._timer is None or self._timer_loop is not loop:
            self._timer = loop.call_later(self.delay, self.flush)
            self._timer_loop = loop

    def flush(self) -> None:
        """Write every waiting line now."""
        self.acquire()
        try:
            if self._timer is not None:
                _cancel(self._timer, self._timer_loop)
            self._timer = self._timer_loop = None
            if self._lines:
                batch = "\n".join(self._lines) + "\n"
                self._lines.clear()
                try:
                    self.stream.write(batch)
                except Exception:  # a closed or broken stream must not break requests
                    return
            super().flush()
        finally:
            self.release()

    def close(self) -> None:
        self.flush()
        super().close()


def _cancel(timer: asyncio.TimerHandle, loop: asyncio.AbstractEventLoop | None) -> None:
    """Cancel a timer from any thread (only its own loop's thread may touch it)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is None or running is loop:
        timer.cancel()
        return
    with contextlib.suppress(RuntimeError):  # a closed loop has dropped its timers already
        loop.call_soon_threadsafe(timer.cancel)


def logging_config() -> LoggingConfig:
    """Litestar's logging, plus the access log on its own batched handler (no propagation)."""
    handlers: dict[str, dict[str, Any]] = {
        "access": {
            "class": "instcat.logs.BatchedLineHandler",
            "formatter": "line",
            "stream": "ext://sys.stderr",
        }
    }
    return LoggingConfig(
        formatters={"line": {"format": "%(message)s"}},
        handlers=handlers,
        loggers={ACCESS_LOGGER: {"level": "INFO", "handlers": ["access"], "propagate": False}},
        log_exceptions="debug",
    )
