"""Template databases: made once per session, copied for every test (see tests/conftest.py).

SQLite templates are files and a copy is a file copy; PostgreSQL templates are databases on
the server and a copy is `CREATE DATABASE … TEMPLATE`. The contents come from the real
migrations, seed loader and development data generator.
"""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from instcat.config import Settings, libpq_url
from instcat.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = REPO / "seed"
# Scale and seed of the `generated` template (`instcat dev generate`).
GENERATED_SCALE, GENERATED_SEED = 0.002, 5


def _seed_into(url: str, seed_dir: Path) -> None:
    """Load a seed directory through the real loader."""
    from instcat.db import run_with_database
    from instcat.seeding import seed

    run_with_database(Settings(database_url=url), lambda db: seed(db, seed_dir))


def _generate_into(url: str) -> None:
    """Run the development data generator, as `generated` promises."""
    from instcat.db import run_with_database
    from instcat.devdata import generate

    settings = Settings(database_url=url, seed_dir=SEED_DIR)
    run_with_database(
        settings, lambda db: generate(db, GENERATED_SCALE, GENERATED_SEED, seed_dir=SEED_DIR)
    )


def _sem_epr_seed_dir(target: Path) -> Path:
    """The bundled categories and vendors with only the SEM and EPR products."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("categories.json", "vendors.json"):
        shutil.copy(SEED_DIR / name, target / name)
    bundled = json.loads((SEED_DIR / "products.json").read_text(encoding="utf-8"))
    kept = [p for p in bundled if p["category"] in ("sem", "epr")]
    (target / "products.json").write_text(json.dumps(kept), encoding="utf-8")
    return target


class Templates:
    """One database kind's per-test database and the templates it is copied from."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url  # every test's database lives here
        self.workdir = workdir
        self._made: set[str] = set()
        self._fill: dict[str, Callable[[str], None]] = {
            "empty": lambda url: None,
            "seeded": lambda url: _seed_into(url, SEED_DIR),
            "sem_epr_catalogue": lambda url: _seed_into(
                url, _sem_epr_seed_dir(workdir / "sem_epr_seed")
            ),
            "generated": _generate_into,
        }

    def fresh(self, name: str) -> str:
        """Replace the test database with a copy of template `name` and return its URL."""
        self._ensure(name)
        self._copy(name)
        return self.url

    def _ensure(self, name: str) -> None:
        """Make template `name` unless this session already has (contents start empty)."""
        if name in self._made:
            return
        if name != "empty":
            self._ensure("empty")
        self._make(name)
        self._made.add(name)

    def _make(self, name: str) -> None:
        raise NotImplementedError

    def _copy(self, name: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Remove the templates."""


class SqliteTemplates(Templates):
    """Templates are files; a test's database is a plain copy of one."""

    def _file(self, name: str) -> Path:
        return self.workdir / f"template-{name}.db"

    def _make(self, name: str) -> None:
        import sqlite3

        url = f"sqlite:///{self._file(name)}"
        if name == "empty":
            upgrade(url)
        else:
            shutil.copyfile(self._file("empty"), self._file(name))
            self._fill[name](url)
        # Fold the write-ahead log into the file so that the file alone is the database.
        with sqlite3.connect(self._file(name)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ("-wal", "-shm"):
            Path(f"{self._file(name)}{suffix}").unlink(missing_ok=True)

    def _copy(self, name: str) -> None:
        self.copy_to(name, Path(make_url(self.url).database or ""))

    def copy_to(self, name: str, path: Path) -> Path:
        """Put a copy of template `name` at `path` (for tests that use a file of their own)."""
        self._ensure(name)
        # Unlinked, not overwritten: a connection a test left open keeps the old file.
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self._file(name), path)
        return path


class PostgresTemplates(Templates):
    """Templates are databases on the server; a test's database is made from one."""

    def __init__(self, url: str, workdir: Path) -> None:
        super().__init__(url, workdir)
        import psycopg

        self.database = make_url(url).database or "instcat_test"
        server = make_url(url).set(database="postgres")
        self._admin = psycopg.connect(libpq_url(server), autocommit=True)

    def _template(self, name: str) -> str:
        return f"{self.database}_tmpl_{name}"

    def _run(self, statement: str) -> None:
        self._admin.execute(statement)  # type: ignore[arg-type]

    def _make(self, name: str) -> None:
        template = self._template(name)
        self._run(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        source = "template0" if name == "empty" else self._template("empty")
        self._run(f'CREATE DATABASE "{template}" TEMPLATE "{source}"')
        url = make_url(self.url).set(database=template).render_as_string(hide_password=False)
        if name == "empty":
            upgrade(url)
        else:
            self._fill[name](url)
        # A template must have no sessions while it is copied.
        self._run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{template}' AND pid <> pg_backend_pid()"
        )

    def _copy(self, name: str) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._run(f'CREATE DATABASE "{self.database}" TEMPLATE "{self._template(name)}"')

    def close(self) -> None:
        for name in self._made:
            self._run(f'DROP DATABASE IF EXISTS "{self._template(name)}" WITH (FORCE)')
        self._admin.close()
