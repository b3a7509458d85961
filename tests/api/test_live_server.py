"""`instcat serve` as users start it, with the bundled data: what goes over the wire."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api

# Slow tier (starts a real server): left out of scripts/test --fast.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live(seeded: Api, settings, tmp_path: Path) -> Iterator[str]:
    """`instcat serve` on the test database with the bundled data; yields its address."""
    port = _free_port()
    env = {
        **os.environ,
        "INSTCAT_DATABASE_URL": settings.database_url,
        "INSTCAT_WRITE_RATE_PER_MINUTE": "0",
    }
    instcat = Path(sys.executable).with_name("instcat")
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [str(instcat), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
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
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_the_server_does_not_name_its_software(live: str) -> None:
    for response in (
        httpx.get(f"{live}/healthz"),
        httpx.get(f"{live}/api/v1/categories"),
        httpx.get(f"{live}/api/v1/nowhere"),
        httpx.put(f"{live}/api/v1/categories"),
    ):
        assert "server" not in response.headers, response.headers
        assert response.headers["x-request-id"]
