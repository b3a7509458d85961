"""The result tables (markdown) and a description of the machine they were measured on."""

import os
import platform
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    db: str
    workload: str
    metric: str
    value: str
    target: str = ""
    ratio: str = ""
    result: str = ""  # "pass", "miss", or "" when there is no target


@dataclass
class CurvePoint:
    db: str
    scale: float
    products: int
    list_seconds: str
    list_peak_mib: str
    list_entries: str
    alternatives_rps: str
    alternatives_ratio: str
    alternatives_p99_ms: str


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("pass" if ok else "**miss**")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def results_table(rows: list[Row]) -> str:
    headers = ["db", "workload", "metric", "value", "target", "ratio", "result"]
    return _table(headers, [list(asdict(r).values()) for r in rows])


def curve_table(points: list[CurvePoint]) -> str:
    headers = [
        "db",
        "scale",
        "products",
        "list generation",
        "peak RSS",
        "entries",
        "alternatives req/s (2 workers)",
        "ratio",
        "p99",
    ]
    cells = [
        [p.db, f"{p.scale:g}", f"{p.products:,}", *list(asdict(p).values())[3:]] for p in points
    ]
    return _table(headers, cells)


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0]
        if (done.stdout or done.stderr)
        else "?"
    )


def machine(postgres_version: str | None) -> dict[str, Any]:
    memory = "?"
    cpu = platform.processor() or "?"
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
            memory = f"{kib / 1024**2:.1f} GiB"
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    packages = ("litestar", "uvicorn", "uvloop", "httptools", "sqlalchemy", "aiosqlite", "psycopg")
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _version(["git", "-C", str(REPO), "describe", "--always", "--dirty"]),
        "cpus": os.cpu_count(),
        "load": "/".join(f"{x:.2f}" for x in os.getloadavg()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version or "-",
        "wrk": _version(["wrk", "--version"]),
        "packages": versions,
    }


def machine_text(info: dict[str, Any]) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    return (
        f"- date: {info['date']}; code: {info['commit']}\n"
        f"- machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']} memory, {info['os']}; "
        f"load average at the end {info['load']}\n"
        f"- Python {info['python']}; {packages}\n"
        f"- SQLite {info['sqlite']}; PostgreSQL {info['postgresql']}; {info['wrk']}"
    )
