"""`instcat serve` as users start it, with the bundled data: what goes over the wire.

The README's curl examples run here exactly as written (only the address changes), against
uvicorn's real HTTP parser: it refuses what the in-process test client lets through, such as
raw UTF-8 in the request line.
"""

import json
import os
import re
import shlex
import shutil
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

README = Path(__file__).resolve().parents[2] / "README.md"
README_ADDRESS = "http://127.0.0.1:8000"


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


def readme_curl_commands() -> list[str]:
    """Every curl command in README.md's shell blocks (continued lines joined)."""
    text = README.read_text(encoding="utf-8")
    commands: list[str] = []
    for block in re.findall(r"^ *```(?:sh|bash|shell)\n(.*?)^ *```", text, re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("curl "):
                commands.append(line)
    return commands


def test_the_readme_has_curl_examples() -> None:
    commands = readme_curl_commands()
    assert len(commands) >= 5
    assert any("-X POST" in command for command in commands)
    assert all(README_ADDRESS in command for command in commands), commands


def test_every_readme_curl_example_works_as_written(live: str, seeded: Api, tmp_path: Path) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is not installed: this test runs the README's curl examples with it")
    for command in readme_curl_commands():
        # The address of this server, and a token where the example reads one from $TOKEN.
        command = command.replace(README_ADDRESS, live).replace("$TOKEN", seeded.admin_token)
        args = shlex.split(command)
        assert args[0] == "curl"
        body = tmp_path / "body"
        written = subprocess.run(
            [curl, *args[1:], "--output", str(body), "--write-out", "%{http_code} %{content_type}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert written.returncode == 0, (command, written.stderr)
        status, _, content_type = written.stdout.partition(" ")
        answer = body.read_text(encoding="utf-8")
        assert status.startswith("2"), (command, status, answer)
        assert content_type.startswith("application/json"), (command, content_type)
        decoded = json.loads(answer)
        if isinstance(decoded, dict) and "items" in decoded:
            assert decoded["items"], (command, "the example finds nothing in the bundled data")
