"""instcat benchmark: the real server under wrk load, next to a bare Litestar hello-world.

    python bench/run.py --scale 1 --duration 10 --connections 32 --db both
    python bench/run.py --smoke        # tiny scale, 1 s runs, 1 worker, SQLite: a quick check

Every throughput is divided by the hello-world figure measured in the same run with the same
server settings. See bench/README.md. Exits non-zero only when something fails (a server that
does not start, error responses, lost writes), never because a target is missed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import prepare
import workloads
from report import CurvePoint, Row, curve_table, machine, machine_text, results_table, verdict
from servers import BENCH, HarnessError, serve
from submit import run_submissions
from wrk import LoadResult, ensure_wrk, run_wrk

SMOKE_SCALE = 0.002
# Distinct requests per read workload: more than a run sends, so that most answers are
# computed rather than served from the per-process answer cache (categories are only ~100).
PATHS_PER_WORKLOAD = 50_000
READS = {
    "search": ("product search: category + 2 spec filters, 20 results", 0.20, 50.0),
    "alternatives": ("GET /alternatives?reference= (random imported product)", 0.10, 100.0),
    "category": ("GET /categories/{code}", 0.30, None),
}
WORKLOADS = (*READS, "submission", "lists", "statistics")


@dataclass
class Run:
    args: argparse.Namespace
    wrk: str
    folder: Path
    rows: list[Row] = field(default_factory=list)
    curve: list[CurvePoint] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.folder / "run.log"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warm_categories(base: str, paths: list[str], workers: int, rounds: int = 2) -> float:
    """Load every category's index in every worker; seconds.

    Workers share one listening socket, and a worker loading an index accepts no connection
    until it is done. So each path is sent on 8 fresh connections per worker at once: while
    one worker is busy loading, the others accept the rest and load it too. Paths taken one
    after the other at random (as before) left a category unloaded in a worker now and then,
    and that worker's searches in it fell back to SQL for the whole run.
    """
    started = time.monotonic()
    at_once = 8 * workers

    def get(path: str) -> int:
        # A new connection per request and nothing shared between threads (one httpx client
        # shared by the threads, keep-alive off, failed with EBADF here; a client each spent
        # more time setting up than the requests took).
        try:
            with urllib.request.urlopen(base + path, timeout=300) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(at_once) as pool:
        for _ in range(rounds):
            for path in paths:
                for status in pool.map(get, [path] * at_once):
                    if status != 200:
                        raise HarnessError(f"warm-up request answered {status}")
    return time.monotonic() - started


def load(run: Run, base: str, paths: Path) -> LoadResult:
    """A short warm-up (not counted), then the measured wrk run."""
    a = run.args
    options = {"connections": a.connections, "threads": a.threads, "log": run.log}
    run_wrk(run.wrk, base, paths, duration=max(1.0, a.duration / 5), **options)
    result = run_wrk(run.wrk, base, paths, duration=a.duration, **options)
    if result.bad_status:
        run.errors.append(f"{base}: {result.bad_status} error responses for {paths.name}")
    return result


def _inproc(run: Run, *args: str) -> dict[str, Any]:
    """Run one in-process measurement; {"failed": why, …} when it could not finish."""
    cap = run.args.memory_cap_gib
    command = [sys.executable, str(BENCH / "inproc.py"), f"{cap:g}", *args]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=run.args.inproc_timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"did not finish in {run.args.inproc_timeout:.0f} s"}
    with run.log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        result = {}
    if done.returncode == 0 and "seconds" in result:
        return result
    seconds = time.monotonic() - started
    why = result.get("failed") or (done.stderr.strip().splitlines() or ["?"])[-1][:300]
    if why.startswith(("MemoryError", "SystemError")) or "MemoryError" in why:
        peak = result.get("peak_rss_mib", cap * 1024)
        return {"failed": f"out of memory after {seconds:.0f} s (cap {cap:g} GiB)", "peak": peak}
    run.errors.append(f"{' '.join(args[:1])} failed after {seconds:.0f} s: {why}")
    return {"failed": f"error: {why[:120]}"}


def trial_statistics(run: Run) -> None:
    say("trial statistics, 10,000 pairs …")
    r = _inproc(run, "stats", "10000")
    workload = "trial statistics, 10,000 pairs (in-process)"
    if "failed" in r:
        run.rows.append(Row("-", workload, "time", r["failed"], "≤1 s", "", verdict(False)))
        return
    rows = [
        Row("-", workload, "time (median of 5)", f"{r['seconds']:.3f} s", "≤1 s"),
        Row("-", workload, "peak RSS", f"{r['peak_rss_mib']:.0f} MiB", "≤300 MiB"),
    ]
    rows[0].result = verdict(r["seconds"] <= 1.0)
    rows[1].result = verdict(r["peak_rss_mib"] <= 300)
    rows[1].ratio = f"(after imports {r['baseline_rss_mib']:.0f} MiB)"
    run.rows += rows


def list_generation(run: Run, url: str, scale: float) -> dict[str, Any]:
    """The median time of `--list-runs` generations (a single one swings by ±10 % here),
    the highest peak RSS, and every time measured."""
    say(f"  list generation at scale {scale:g} ({run.args.list_runs} runs) …")
    results = []
    for n in range(run.args.list_runs):
        result = _inproc(run, "listgen", url, f"bench-{scale:g}-{time.time():.0f}-{n}")
        if "failed" in result:
            return result
        results.append(result)
    times = sorted(r["seconds"] for r in results)
    return {
        **results[0],
        "seconds": statistics.median(times),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
        "runs": [r["seconds"] for r in results],
    }


def _read_rows(db: str, name: str, workers: int, result: LoadResult, hello: LoadResult) -> list:
    title, min_ratio, max_p99 = READS[name]
    ratio = result.rps / hello.rps if hello.rps else 0.0
    workload = f"{title} · {workers} worker{'s' if workers > 1 else ''}"
    throughput = Row(db, workload, "throughput", f"{result.rps:,.0f} req/s", f"≥{min_ratio:.2f}×")
    throughput.ratio = f"{ratio:.3f}×"
    throughput.result = verdict(ratio >= min_ratio)
    latency = Row(db, workload, "p99 latency", f"{result.p99_ms:.1f} ms")
    if max_p99 is not None and workers >= 2:
        latency.target = f"≤{max_p99:.0f} ms"
        latency.result = verdict(result.p99_ms <= max_p99)
    if result.socket_errors:
        latency.ratio = f"{result.socket_errors} socket errors/timeouts"
    return [throughput, latency]


def _submission_rows(db: str, workers: int, result: Any) -> list[Row]:
    workload = f"trial submission, 100 pairs, 16 concurrent vendors · {workers} workers"
    rate = Row(db, workload, "created trials/s", f"{result.rate:,.1f}/s", "≥100/s")
    rate.result = verdict(result.rate >= 100)
    if result.throttled:
        rate.ratio = f"{result.throttled} throttled (429, retried)"
    errors = Row(db, workload, "errors", str(len(result.errors)), "0")
    errors.result = verdict(not result.errors)
    lost = Row(db, workload, "lost or duplicated rows", str(result.lost), "0")
    lost.result = verdict(result.lost == 0)
    lost.ratio = f"{len(result.created)} created, {result.stored} found"
    latency = Row(db, workload, "p99 latency", f"{result.p99_ms:.0f} ms")
    return [rate, errors, lost, latency]


def _list_rows(db: str, scale: float, r: dict[str, Any], base: dict[str, Any] | None) -> list:
    workload = f"generate a list for the whole catalogue (scale {scale:g}, in-process)"
    time_target = "≤5 s" if scale == 1 else ""
    if "failed" in r:
        rows = [Row(db, workload, "time", r["failed"], time_target)]
        rows[0].result = verdict(False) if time_target else ""
        if "peak" in r:
            peak = Row(db, workload, "peak RSS", f"≥{r['peak']:.0f} MiB", "≤1024 MiB")
            peak.result = verdict(False)
            rows.append(peak)
        return rows
    runs = r.get("runs", [r["seconds"]])
    metric = f"time (median of {len(runs)})" if len(runs) > 1 else "time"
    rows = [
        Row(db, workload, metric, f"{r['seconds']:.2f} s", time_target),
        Row(db, workload, "peak RSS", f"{r['peak_rss_mib']:.0f} MiB", "≤1024 MiB"),
    ]
    rows[0].result = verdict(r["seconds"] <= 5) if time_target else ""
    rows[1].result = verdict(r["peak_rss_mib"] <= 1024)
    each = ", ".join(f"{t:.2f}" for t in runs)
    rows[0].ratio = f"{r['entries']:,} entries" + (f"; runs {each} s" if len(runs) > 1 else "")
    if base is not None and "seconds" in base:
        growth = r["seconds"] / base["seconds"]
        rows.append(Row(db, workload, "time ÷ time at scale 1", f"{growth:.2f}", "≤2.2"))
        rows[-1].result = verdict(growth <= 2.2)
    return rows


def _copy(run: Run, kind: str, scale: float) -> tuple[str, list[dict[str, Any]]]:
    if kind == "sqlite":
        return prepare.sqlite_copy(scale, run.args.seed, run.log)
    return prepare.postgres_copy(run.args.pg_url, scale, run.args.seed, run.log)


def bench_database(run: Run, kind: str) -> None:
    a = run.args
    say(f"[{kind}] preparing scale {a.scale:g} …")
    url, vendors = _copy(run, kind, a.scale)
    env = {**os.environ, "INSTCAT_DATABASE_URL": url}
    folder = run.folder / kind
    paths = {
        "search": workloads.search_paths(url, PATHS_PER_WORKLOAD),
        "alternatives": workloads.alternatives_paths(url, PATHS_PER_WORKLOAD),
        "category": workloads.category_paths(url, PATHS_PER_WORKLOAD),
        "hello": ["/"],
    }
    files = {name: workloads.write_paths(folder, name, p) for name, p in paths.items()}
    warmup = workloads.category_warmup_paths(url)
    most = max(a.workers)
    hello: dict[int, LoadResult] = {}
    alternatives: dict[int, LoadResult] = {}
    for workers in a.workers:
        say(f"[{kind}] hello-world, {workers} worker(s) …")
        with serve("hello:create_app", workers, env, run.folder / "hello.log", BENCH) as base:
            hello[workers] = load(run, base, files["hello"])
        ceiling = f"hello-world (the ceiling) · {workers} worker(s)"
        rps = f"{hello[workers].rps:,.0f} req/s"
        run.rows.append(Row(kind, ceiling, "throughput", rps, ratio="1×"))
        with serve("instcat.app:create_app", workers, env, folder / "server.log") as base:
            seconds = warm_categories(base, warmup, workers)
            say(f"[{kind}] category indexes loaded in {seconds:.0f} s")
            run.notes.append(
                f"{kind}, {workers} worker(s): loading every category's index "
                f"({len(warmup)} categories, before the reads are measured) took {seconds:.0f} s"
            )
            for name in (r for r in READS if r in a.only):
                say(f"[{kind}] {name}, {workers} worker(s) …")
                result = load(run, base, files[name])
                run.rows += _read_rows(kind, name, workers, result, hello[workers])
                if name == "alternatives":
                    alternatives[workers] = result
            if workers == most and "submission" in a.only:
                say(f"[{kind}] trial submissions, {len(vendors)} vendors …")
                # The warm-up (first requests import the statistics code) is checked too.
                for seconds in (max(1.0, a.duration / 5), a.duration):
                    submitted = run_submissions(base, url, vendors, seconds, pairs=100)
                    run.errors += [f"submission: {e}" for e in submitted.errors[:5]]
                    if submitted.lost:
                        run.errors.append(f"submission: {submitted.lost} rows lost or duplicated")
                run.rows += _submission_rows(kind, workers, submitted)
    if "lists" not in a.only:
        return
    lists = {a.scale: list_generation(run, url, a.scale)}
    loads: dict[float, LoadResult | None] = {a.scale: alternatives.get(most)}
    curve_scales = a.scales if a.curve_db in ("both", kind) else []
    for scale in sorted(set(curve_scales) - {a.scale}):
        say(f"[{kind}] scaling curve: scale {scale:g} …")
        scaled_url, _ = _copy(run, kind, scale)
        lists[scale] = list_generation(run, scaled_url, scale)
        if "alternatives" not in a.only:
            continue
        scaled = workloads.alternatives_paths(scaled_url, PATHS_PER_WORKLOAD)
        scaled_file = workloads.write_paths(folder, f"alternatives-{scale:g}", scaled)
        scaled_env = {**env, "INSTCAT_DATABASE_URL": scaled_url}
        with serve("instcat.app:create_app", most, scaled_env, folder / "server.log") as base:
            warm_categories(base, workloads.category_warmup_paths(scaled_url), most)
            loads[scale] = load(run, base, scaled_file)
    for scale in sorted(lists):
        reference = lists.get(1.0) if scale == 2.0 else None
        run.rows += _list_rows(kind, scale, lists[scale], reference)
        loaded = loads.get(scale)
        if len(lists) > 1 and loaded is not None:
            run.curve.append(_curve_point(kind, scale, lists[scale], loaded, hello[most]))


def _curve_point(
    db: str, scale: float, listed: dict[str, Any], result: LoadResult, hello: LoadResult
) -> CurvePoint:
    from instcat.devdata import Sizes

    ok = "failed" not in listed
    return CurvePoint(
        db=db,
        scale=scale,
        products=Sizes.for_scale(scale).products,
        list_seconds=f"{listed['seconds']:.2f} s" if ok else listed["failed"],
        list_peak_mib=f"{listed['peak_rss_mib']:.0f} MiB"
        if ok
        else f"≥{listed.get('peak', 0):.0f} MiB",
        list_entries=f"{listed['entries']:,}" if ok else "",
        alternatives_rps=f"{result.rps:,.0f}",
        alternatives_ratio=f"{result.rps / hello.rps:.3f}×" if hello.rps else "",
        alternatives_p99_ms=f"{result.p99_ms:.0f} ms",
    )


def _postgres_version(url: str | None) -> str | None:
    if not url:
        return None
    engine = workloads.engine_for(url)
    with engine.connect() as connection:
        version = connection.exec_driver_sql("SHOW server_version").scalar()
    engine.dispose()
    return str(version)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, e.g. 1,2")
    parser.add_argument("--scales", default="0.25,0.5,1,2", help="scaling curve ('' for none)")
    parser.add_argument(
        "--curve-db",
        choices=["sqlite", "postgresql", "both"],
        default="both",
        help="databases the scaling curve runs on (each scale is generated once, then cached)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("INSTCAT_BENCH_POSTGRES_URL"),
        help="PostgreSQL server (any database; default $INSTCAT_BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--list-runs",
        type=int,
        default=3,
        help="list generations per scale; the table shows the median",
    )
    parser.add_argument("--inproc-timeout", type=float, default=900.0)
    parser.add_argument(
        "--memory-cap-gib",
        type=float,
        default=4.0,
        help="address-space cap of the in-process measurements (the target is 1 GiB)",
    )
    parser.add_argument(
        "--only",
        default=",".join(WORKLOADS),
        help=f"workloads to measure, of {','.join(WORKLOADS)} (all by default)",
    )
    parser.add_argument("--output", type=Path, help="also write the report (markdown) here")
    parser.add_argument("--smoke", action="store_true", help="tiny scale, 1 s, 1 worker, SQLite")
    args = parser.parse_args(argv)
    if args.smoke:
        args.scale, args.duration, args.workers, args.db, args.scales, args.list_runs = (
            SMOKE_SCALE,
            1.0,
            "1",
            "sqlite",
            "",
            1,
        )
    args.workers = sorted({int(w) for w in args.workers.split(",") if w})
    args.scales = [float(s) for s in args.scales.split(",") if s]
    args.only = {w for w in args.only.split(",") if w}
    if args.only - set(WORKLOADS):
        parser.error(f"--only: unknown workloads {sorted(args.only - set(WORKLOADS))}")
    if args.db != "sqlite" and not args.pg_url:
        parser.error("PostgreSQL needs --pg-url or INSTCAT_BENCH_POSTGRES_URL")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        wrk = ensure_wrk()
    except HarnessError as error:
        say(f"error: {error}")
        return 2
    folder = prepare.CACHE / "runs" / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    run = Run(args, wrk, folder)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    started = time.monotonic()
    if "statistics" in args.only:
        trial_statistics(run)
    for kind in kinds:
        try:
            bench_database(run, kind)
        except HarnessError as error:
            run.errors.append(f"{kind}: {error}")
        except Exception as error:  # report what was measured, then fail the run
            run.errors.append(f"{kind}: {type(error).__name__}: {error}")
            traceback.print_exc()
    info = machine(_postgres_version(args.pg_url) if "postgresql" in kinds else None)
    report = [
        f"## instcat benchmark (scale {args.scale:g}, {args.duration:g} s runs, "
        f"{args.connections} connections, seed {args.seed})",
        "",
        machine_text(info),
        "",
        results_table(run.rows),
    ]
    if run.curve:
        report += ["", "### Scaling curve", "", curve_table(run.curve)]
    if run.notes:
        report += ["", "### Notes", "", *(f"- {n}" for n in run.notes)]
    if run.errors:
        report += ["", "### Errors", "", *(f"- {e}" for e in run.errors)]
    text = "\n".join(report) + "\n"
    print(text)
    (folder / "report.md").write_text(text)
    if args.output:
        args.output.write_text(text)
    say(f"done in {time.monotonic() - started:.0f} s; logs in {folder}")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
