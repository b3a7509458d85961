"""Starting and stopping uvicorn servers on free loopback ports."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# The production settings the issue fixes: uvloop, httptools, no access log.
SERVER_FLAGS = [
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--no-server-header",  # as `instcat serve` does
    "--log-level",
    "warning",
]
# As `instcat serve` sets it: each worker's event loop (libuv) accepts one connection per
# wake-up, so kept-alive clients connecting at once spread over the workers.
SERVER_ENV = {"UV_TCP_SINGLE_ACCEPT": "1"}


class HarnessError(Exception):
    """Something in the run failed (not a missed target): the run exits non-zero."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise HarnessError(f"server exited with {process.returncode}; log tail:\n{tail}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise HarnessError(f"server at {base} not healthy after {timeout:.0f} s (log: {log})")


@contextmanager
def serve(
    factory: str,
    workers: int,
    env: dict[str, str],
    log: Path,
    app_dir: Path | None = None,
) -> Iterator[str]:
    """Run `uvicorn --factory FACTORY` with N workers; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        *SERVER_FLAGS,
    ]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        # Its own process group, so stopping it stops every worker it forked.
        process = subprocess.Popen(
            command,
            env={**env, **SERVER_ENV},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://{HOST}:{port}"
    try:
        _wait_healthy(base, process, log, timeout=120)
        yield base
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
