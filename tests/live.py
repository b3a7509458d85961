"""A real server process on the test's database, for the slow tests that need one."""

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(command: list[str], database_url: str, log: Path | None = None) -> Iterator[str]:
    """Run `command` (which must listen on the port `{port}` stands for) on `database_url`,
    with the write limit off; yields the server's base URL once /healthz answers."""
    port = free_port()
    env = {**os.environ, "INSTCAT_DATABASE_URL": database_url, "INSTCAT_WRITE_RATE_PER_MINUTE": "0"}
    output = log.open("wb") if log else None
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in command],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text() if log else "server exited"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        if output:
            output.close()
