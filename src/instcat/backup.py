"""Online backup and restore: SQLite's backup API, or pg_dump/pg_restore for PostgreSQL."""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from instcat.config import libpq_url, sqlite_file
from instcat.errors import BackupError


def _sqlite_path(database_url: str) -> Path | None:
    if make_url(database_url).get_backend_name() != "sqlite":
        return None
    path = sqlite_file(database_url)
    if path is None:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (it comes with PostgreSQL's client tools)")
    return found


def backup(database_url: str, target: Path) -> None:
    """Copy the live database to `target` without stopping the service."""
    source = _sqlite_path(database_url)
    if source is not None:
        if not source.exists():
            raise BackupError(f"no database file at {source}")
        # The backup API copies a consistent snapshot even while others write.
        with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
            live.backup(copy)
        copy.close()
        live.close()
        return
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
    result = subprocess.run([*command, libpq_url(database_url)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with a backup made by `backup`."""
    if not source.exists():
        raise BackupError(f"no backup file at {source}")
    target = _sqlite_path(database_url)
    if target is not None:
        with sqlite3.connect(source) as saved:
            check = saved.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the backup file is damaged: {check}")
            with sqlite3.connect(target) as live:
                saved.backup(live)
            live.close()
        saved.close()
        return
    command = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--dbname",
        libpq_url(database_url),
        str(source),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
