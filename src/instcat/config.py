"""Settings: the only place that reads the environment."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

DEFAULT_SQLITE_FILE = "instcat.db"


def normalise_database_url(url: str) -> str:
    """Map plain database URLs onto the async drivers instcat uses."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def sqlite_file(database_url: str | URL) -> str | None:
    """The file of an SQLite database URL; None for an in-memory one or another database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def libpq_url(database_url: str | URL) -> str:
    """A PostgreSQL URL as libpq takes it (psycopg, pg_dump): no driver name, password kept."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Settings(BaseSettings):
    """Runtime settings, read from INSTCAT_* variables."""

    model_config = SettingsConfigDict(env_prefix="INSTCAT_", extra="ignore")

    database_url: str = f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
    seed_dir: Path = Path(__file__).resolve().parents[2] / "seed"
    max_body_bytes: int = 2 * 1024 * 1024
    # Writes per signed-in user and minute (0 turns the limit off), and the burst allowed.
    write_rate_per_minute: int = 600
    write_burst: int = 120
    # Worker processes that grade a large list (0: a thread of the server process instead).
    # Unset: 2; 1 on a machine with one core; 0 where Python offers no forkserver.
    list_build_processes: int | None = Field(default=None, ge=0, le=64)
    debug: bool = False

    @field_validator("database_url")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
