"""Driving load with wrk: a Lua script picks request paths from a file at random."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from servers import HarnessError

# Each thread reads the paths once and picks one at random per request; `done` prints the
# figures as one JSON line (microseconds), so nothing depends on wrk's human-readable units.
LUA = r"""
local paths = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  math.randomseed(7919 * id)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    bad_status: int  # non-2xx/3xx responses
    socket_errors: int  # connect/read/write errors and timeouts

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's packages when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, **quiet)
        found = shutil.which("wrk")
        if found:
            return found
    raise HarnessError("wrk is not installed: run `apt-get install -y wrk` (Debian/Ubuntu)")


def run_wrk(
    wrk: str,
    base: str,
    paths_file: Path,
    *,
    duration: float,
    connections: int,
    threads: int,
    log: Path,
) -> LoadResult:
    """One wrk run against `base` with paths drawn from `paths_file`."""
    script = paths_file.with_suffix(".lua")
    script.write_text(LUA)
    command = [
        wrk,
        f"-t{max(1, min(threads, connections))}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        base,
        "--",
        str(paths_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise HarnessError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    data = json.loads(line.removeprefix("WRKJSON "))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1e3,
        p90_ms=data["p90_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        max_ms=data["max_us"] / 1e3,
        bad_status=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )
