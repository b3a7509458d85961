"""`instcat serve` as users start it, with the bundled data: what goes over the wire.

The README's curl examples run here exactly as written (only the address changes), against
uvicorn's real HTTP parser: it refuses what the in-process test client lets through, such as
raw UTF-8 in the request line.
"""

import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api
from tests.live import serving

# Slow tier (starts a real server): left out of scripts/test --fast.
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
README_ADDRESS = "http://127.0.0.1:8000"


@pytest.fixture
def live(seeded: Api, settings, tmp_path: Path) -> Iterator[str]:
    """`instcat serve` on the test database with the bundled data; yields its address."""
    instcat = str(Path(sys.executable).with_name("instcat"))
    command = [instcat, "serve", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1"]
    with serving(command, settings.database_url, tmp_path / "server.log") as base:
        yield base


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
