"""In-process measurements, each run in a fresh subprocess so peak RSS is its own.

    python bench/inproc.py [CAP_GIB] listgen DATABASE_URL LABEL   # a list for the whole catalogue
    python bench/inproc.py [CAP_GIB] stats PAIRS                   # trial statistics, PAIRS pairs

Prints one JSON line: seconds, peak RSS (MiB) and RSS after imports, plus what was made.
"""

import asyncio
import json
import os
import resource
import statistics
import sys
import threading
import time
from typing import Any

# Address-space cap (GiB) so a runaway measurement fails alone instead of exhausting the
# machine; the harness passes --memory-cap-gib.
DEFAULT_CAP_GIB = 4.0
FAILED = 3  # exit status when the measurement raised (details in the JSON line)


def _rss_mib(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tree_rss_mib(pid: int) -> float:
    """Resident size of a process and every process under it (worker processes)."""
    total = 0.0
    try:
        total += _rss_mib(pid)
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                total += sum(_tree_rss_mib(int(child)) for child in children.read().split())
    except (FileNotFoundError, ProcessLookupError):
        pass  # it ended meanwhile
    return total


class _TreePeak:
    """The largest resident size of this process and its workers together, sampled every
    10 ms in a thread (pages they share count in each, so this errs high)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            self.peak = max(self.peak, _tree_rss_mib(os.getpid()))

    def __enter__(self) -> "_TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _peak_mib())


async def _listgen(url: str, label: str) -> dict[str, Any]:
    from instcat.auth import SYSTEM
    from instcat.config import Settings
    from instcat.db import Database
    from instcat.substitution.lists import ListService
    from instcat.substitution.schemas import ListCriteria

    db = Database.from_settings(Settings(database_url=url))
    baseline = _rss_mib()
    try:
        with _TreePeak() as tree:
            started = time.perf_counter()
            document = await ListService(db).generate(SYSTEM, ListCriteria(label=label))
            seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    return {
        "seconds": seconds,
        # With the worker processes that grade it, if any.
        "peak_rss_mib": tree.peak,
        "own_peak_rss_mib": _peak_mib(),
        "baseline_rss_mib": baseline,
        "entries": document.entry_count,
    }


def _stats(pairs: int) -> dict[str, Any]:
    from instcat.devdata.paired import paired_values
    from instcat.trials.stats import paired_statistics

    paired = paired_values(1, (1, 0, pairs, True))
    baseline = _rss_mib()
    times = []
    result = None
    for _ in range(5):
        started = time.perf_counter()
        result = paired_statistics(paired)
        times.append(time.perf_counter() - started)
    return {
        "seconds": statistics.median(times),
        "max_seconds": max(times),
        "peak_rss_mib": _peak_mib(),
        "baseline_rss_mib": baseline,
        "computed": result is not None,
    }


def main(argv: list[str]) -> int:
    cap = float(argv.pop(0)) if argv and argv[0].replace(".", "", 1).isdigit() else DEFAULT_CAP_GIB
    limit = int(cap * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    started = time.perf_counter()
    try:
        if argv[0] == "listgen":
            result = asyncio.run(_listgen(argv[1], argv[2]))
        elif argv[0] == "stats":
            result = _stats(int(argv[1]))
        else:
            raise SystemExit(f"unknown measurement {argv[0]!r}")
    except BaseException as error:
        # Allocation failures surface as MemoryError or, inside C extensions, as SystemError.
        print(
            json.dumps(
                {
                    "failed": f"{type(error).__name__}: {str(error)[:300]}",
                    "seconds": time.perf_counter() - started,
                    "peak_rss_mib": _peak_mib(),
                    "cap_mib": cap * 1024,
                }
            )
        )
        return FAILED
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
