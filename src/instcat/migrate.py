"""Run Alembic migrations from code (the CLI and the tests use this)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from instcat.config import normalise_database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_database_url(database_url))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Take the database schema down to `revision`."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def _current(database_url: str) -> str | None:
    engine = create_async_engine(normalise_database_url(database_url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda conn: MigrationContext.configure(conn).get_current_revision()
            )
    finally:
        await engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at (None when empty)."""
    return asyncio.run(_current(database_url))
