"""An exclusive lock on a file, shared between processes, waited for off the event loop.

Each holder opens the file anew and holds the lock through that descriptor, so holders never
share one (a `flock` belongs to the open file, not to the thread or task using it); closing
the descriptor releases the lock. A blocked wait runs in a daemon thread. If the waiter gives
up (a timeout, a cancelled request, an event loop that has ended), the thread itself gives the
lock back the moment it gets it, so nothing is ever left holding it.
"""

import asyncio
import fcntl
import os
import threading


class FileLock:
    """`flock(LOCK_EX)` on one path, for asyncio code."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def acquire(self, timeout: float) -> int | None:
        """A descriptor holding the lock (close it to release), or None when the lock could
        not be had within `timeout` seconds or cannot be used here (say, a read-only folder)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass
        except OSError:
            os.close(fd)
            return None
        wait = _Wait(fd, asyncio.get_running_loop())
        threading.Thread(target=wait.run, name="instcat-file-lock", daemon=True).start()
        try:
            await asyncio.wait_for(asyncio.shield(wait.done), timeout)
        except BaseException as error:
            if wait.abandon():  # the thread got it just now: give it back
                os.close(fd)
            if isinstance(error, TimeoutError):
                return None
            raise
        if wait.error is not None:
            os.close(fd)
            return None
        return fd


class _Wait:
    """One blocking `flock` in a thread, and who closes the descriptor when it returns."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self.fd = fd
        self.loop = loop
        self.done: asyncio.Future[None] = loop.create_future()
        self.error: OSError | None = None
        self._mutex = threading.Lock()
        self._abandoned = False
        self._returned = False

    def run(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as error:
            self.error = error
        with self._mutex:
            if self._abandoned:
                os.close(self.fd)  # nobody waits for it any more
                return
            self._returned = True  # from here the waiter owns the descriptor
        try:
            self.loop.call_soon_threadsafe(self._finish)
        except RuntimeError:  # the event loop has closed: nobody will use the lock
            os.close(self.fd)

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def abandon(self) -> bool:
        """Stop waiting. True when the thread had already returned: the caller then closes the
        descriptor; otherwise the thread will, as soon as it returns."""
        with self._mutex:
            self._abandoned = not self._returned
            return self._returned
