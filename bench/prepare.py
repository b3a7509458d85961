"""Generated databases, cached by scale and seed, and fresh working copies of them.

A cached database is never benchmarked directly: each run works on a copy (a file copy for
SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL), because the run writes to it.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from servers import BENCH, HarnessError
from sqlalchemy import create_engine, text
from workloads import engine_for

CACHE = BENCH / ".cache"
SRC = BENCH.parent / "src" / "instcat"
BENCH_VENDORS = 16


def fingerprint() -> str:
    """Changes when the generator changes, so stale caches are not reused. Later migrations
    (indexes, say) are applied to each working copy instead of regenerating."""
    digest = hashlib.sha1()
    for path in sorted((SRC / "devdata").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def _tag(scale: float, seed: int) -> str:
    return f"s{scale:g}-seed{seed}-{fingerprint()}".replace(".", "_")


def _run(command: list[str], url: str, log: Path, show: bool = False) -> str:
    env = {**os.environ, "INSTCAT_DATABASE_URL": url}
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=None if show else out,
            text=True,
            check=False,
        )
        out.write(done.stdout)
    if done.returncode != 0:
        raise HarnessError(f"{' '.join(command[2:])} failed ({done.returncode}); see {log}")
    return done.stdout


def _bench_vendors(url: str) -> list[dict[str, Any]]:
    """Domestic vendors with a product that has an imported reference in its category."""
    engine = engine_for(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT v.id, v.slug, min(p.id) FROM vendor v JOIN product p ON p.vendor_id = v.id "
                "WHERE v.country = 'CN' AND p.category_id IN ("
                "  SELECT p2.category_id FROM product p2 JOIN vendor v2 ON v2.id = p2.vendor_id"
                "  WHERE v2.country <> 'CN') "
                "GROUP BY v.id, v.slug ORDER BY v.id LIMIT :n"
            ),
            {"n": BENCH_VENDORS},
        ).all()
        vendors = []
        for vendor_id, slug, product_id in rows:
            reference = connection.execute(
                text(
                    "SELECT min(p.id) FROM product p JOIN vendor v ON v.id = p.vendor_id "
                    "WHERE v.country <> 'CN' AND p.category_id = "
                    "(SELECT category_id FROM product WHERE id = :p)"
                ),
                {"p": product_id},
            ).scalar_one()
            vendors.append(
                {
                    "vendor_id": vendor_id,
                    "slug": slug,
                    "product_id": product_id,
                    "reference_id": reference,
                }
            )
    engine.dispose()
    return vendors


def _generate(url: str, scale: float, seed: int, log: Path) -> list[dict[str, Any]]:
    python = sys.executable
    _run([python, "-m", "instcat.cli", "db", "upgrade"], url, log)
    print(f"  generating scale {scale:g} (seed {seed}) into {_display(url)} …", file=sys.stderr)
    generate = [python, "-m", "instcat.cli_dev", "generate", "--scale", str(scale)]
    _run([*generate, "--seed", str(seed)], url, log, show=True)
    vendors = _bench_vendors(url)

    def add_user(vendor: dict[str, Any]) -> dict[str, Any]:
        command = [python, "-m", "instcat.cli", "users", "add", "--name"]
        command += [f"bench {vendor['slug']}", "--role", "vendor", "--vendor", vendor["slug"]]
        created = json.loads(_run([*command, "--json"], url, log).strip().splitlines()[-1])
        return {**vendor, "token": created["token"]}

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(add_user, vendors))


def _display(url: str) -> str:
    password = urlsplit(url).password
    return url.replace(f":{password}@", ":***@") if password else url


def sqlite_copy(scale: float, seed: int, log: Path) -> tuple[str, list[dict[str, Any]]]:
    """A working copy of the cached SQLite database for this scale and seed (made if missing)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"sqlite-{_tag(scale, seed)}.db"
    meta = cached.with_suffix(".json")
    if not (cached.exists() and meta.exists()):
        building = cached.with_suffix(".building.db")
        for stale in CACHE.glob(building.name + "*"):
            stale.unlink()
        vendors = _generate(f"sqlite:///{building}", scale, seed, log)
        building.rename(cached)
        meta.write_text(json.dumps(vendors))
    _run([sys.executable, "-m", "instcat.cli", "db", "upgrade"], f"sqlite:///{cached}", log)
    work = CACHE / f"work-sqlite-s{scale:g}.db"
    for stale in CACHE.glob(work.name + "*"):
        stale.unlink()
    shutil.copyfile(cached, work)
    return f"sqlite:///{work}", json.loads(meta.read_text())


def _admin(server_url: str) -> Any:
    parts = urlsplit(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    return create_engine(urlunsplit(parts._replace(path="/postgres")), isolation_level="AUTOCOMMIT")


def _with_database(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def postgres_copy(server_url: str, scale: float, seed: int, log: Path) -> tuple[str, list[Any]]:
    """A working copy (by template) of the cached PostgreSQL database for this scale and seed."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"instcat_bench_{_tag(scale, seed)}".replace("-", "_")
    meta = CACHE / f"pg-{name}.json"
    admin = _admin(server_url)
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not (exists and meta.exists()):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            vendors = _generate(_with_database(server_url, name), scale, seed, log)
            meta.write_text(json.dumps(vendors))
        upgrade = [sys.executable, "-m", "instcat.cli", "db", "upgrade"]
        _run(upgrade, _with_database(server_url, name), log)
        work = f"instcat_bench_work_s{scale:g}".replace(".", "_")
        connection.execute(text(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{work}" TEMPLATE "{name}"'))
    admin.dispose()
    return _with_database(server_url, work), json.loads(meta.read_text())
