"""Migrations are the schema: they build it from empty, undo cleanly, and match the models."""

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from instcat.config import normalise_database_url
from instcat.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import BACKENDS, postgres_url


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A brand-new empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = postgres_url()
    name = f"instcat_migrate_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _tables_and_diff(url: str) -> tuple[set[str], list]:
    engine = create_async_engine(normalise_database_url(url))
    async with engine.connect() as connection:

        def inspect_sync(sync_connection):
            tables = set(inspect(sync_connection).get_table_names())
            context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
            return tables, compare_metadata(context, SQLModel.metadata)

        result = await connection.run_sync(inspect_sync)
    await engine.dispose()
    return result


def test_migrations_build_the_schema_from_empty(empty_url: str) -> None:
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    tables, _diff = asyncio.run(_tables_and_diff(empty_url))
    assert set(SQLModel.metadata.tables) <= tables


def test_autogenerate_finds_nothing_left_to_migrate(empty_url: str) -> None:
    upgrade(empty_url)
    _tables, diff = asyncio.run(_tables_and_diff(empty_url))
    assert diff == []


def test_migrations_downgrade_to_empty_and_upgrade_again(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    tables, _diff = asyncio.run(_tables_and_diff(empty_url))
    assert tables <= {"alembic_version"}
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()


async def _list_compression(url: str) -> tuple[bool, set[str]]:
    """Whether the server offers lz4, and the compression of the lists' JSON columns."""
    engine = create_async_engine(normalise_database_url(url))
    async with engine.connect() as connection:
        offered = (
            await connection.execute(
                text(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                    " WHERE name = 'default_toast_compression'"
                )
            )
        ).scalar_one()
        methods = await connection.execute(
            text(
                "SELECT attcompression FROM pg_attribute WHERE attname = 'data' AND attrelid IN"
                " ('substitution_entry'::regclass, 'substitution_reference'::regclass)"
            )
        )
        found = {str(m) for m in methods.scalars()}
    await engine.dispose()
    return bool(offered), found


@pytest.mark.parametrize("empty_url", ["postgresql"], indirect=True)  # SQLite compresses nothing
def test_list_json_is_compressed_with_lz4_where_the_server_offers_it(empty_url: str) -> None:
    upgrade(empty_url)
    offered, methods = asyncio.run(_list_compression(empty_url))
    assert methods == ({"l"} if offered else {""})
    downgrade(empty_url, "0006")
    assert asyncio.run(_list_compression(empty_url))[1] == {""}
