"""Migrations are the schema: they build it from empty, undo cleanly, and match the models."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from instcat.auth import SYSTEM
from instcat.config import Settings, normalise_database_url
from instcat.db import Database
from instcat.devdata import generate
from instcat.migrate import current_revision, downgrade, head_revision, upgrade
from instcat.stats import compare_methods
from instcat.substitution.lists import ListService
from instcat.substitution.schemas import ListCriteria
from tests.conftest import BACKENDS, SEED_DIR, postgres_url


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


# Lists generated at 0011 and after store their vendors and categories once per list.
async def _generate_list(url: str) -> tuple[int, list[Any], dict[str, Any], set[str]]:
    """A whole generated list's entries as read, and one stored entry as stored."""
    db = Database.from_settings(Settings(database_url=url, seed_dir=SEED_DIR))
    try:
        await generate(db, 0.002, 5, seed_dir=SEED_DIR)
        service = ListService(db)
        made = await service.generate(SYSTEM, ListCriteria(label="shared parts"))
        whole = await service.get(SYSTEM, made.id, None)
        async with db.engine.connect() as connection:
            stored = await _stored_entry(connection, made.id)
            vendors = await connection.execute(
                text("SELECT slug FROM substitution_vendor WHERE list_id = :id"), {"id": made.id}
            )
            slugs = set(vendors.scalars())
        return made.id, [e.model_dump(mode="json") for e in whole.entries], stored, slugs
    finally:
        await db.dispose()


async def _stored_entry(connection: Any, list_id: int) -> dict[str, Any]:
    query = text(
        "SELECT data FROM substitution_entry WHERE list_id = :id ORDER BY position LIMIT 1"
    )
    data = (await connection.execute(query, {"id": list_id})).scalar_one()
    return data if isinstance(data, dict) else json.loads(data)


async def _read_list(
    url: str, list_id: int, at_head: bool = True
) -> tuple[list[Any], dict[str, Any]]:
    db = Database.from_settings(Settings(database_url=url, seed_dir=SEED_DIR))
    try:
        async with db.engine.connect() as connection:
            stored = await _stored_entry(connection, list_id)
        if not at_head:  # the list's row has no column for its shared parts
            return [], stored
        whole = await ListService(db).get(SYSTEM, list_id, None)
        return [e.model_dump(mode="json") for e in whole.entries], stored
    finally:
        await db.dispose()


def test_lists_share_vendors_and_categories_and_downgrade_to_whole_entries(
    empty_url: str,
) -> None:
    upgrade(empty_url)
    list_id, entries, stored, slugs = asyncio.run(_generate_list(empty_url))
    assert entries
    # Stored once per list, not in the entries.
    assert not {"vendor_name_zh", "category_name_en"} & set(stored["product"])
    assert "service" not in stored["evidence"] and "gap_keys" not in stored["replaces"]
    assert slugs == {e["product"]["vendor"] for e in entries}

    downgrade(empty_url, "0010")
    _, whole = asyncio.run(_read_list(empty_url, list_id, at_head=False))
    first = entries[0]
    assert whole["product"]["vendor_name_zh"] == first["product"]["vendor_name_zh"]
    assert whole["product"]["category_name_en"] == first["product"]["category_name_en"]
    assert whole["evidence"] == {k: v for k, v in first["evidence"].items() if k != "feedback"} | {
        "feedback": whole["evidence"]["feedback"]
    }
    assert whole["replaces"]["gap_keys"]

    # Back at head the list, now stored whole, reads exactly as it did.
    upgrade(empty_url)
    again, _ = asyncio.run(_read_list(empty_url, list_id))
    assert again == entries


# Trials stored before 0013 lack the EP09 fields of their statistics; 0013 recomputes them.
async def _paired_trials(url: str, generate_first: bool) -> list[tuple[int, Any, Any, Any]]:
    db = Database.from_settings(Settings(database_url=url, seed_dir=SEED_DIR))
    try:
        if generate_first:
            await generate(db, 0.002, 7, seed_dir=SEED_DIR)
        async with db.engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT id, paired, statistics, equivalent FROM trial"
                    " WHERE has_paired ORDER BY id"
                )
            )
            loaded = [
                (row[0], *(json.loads(v) if isinstance(v, str) else v for v in row[1:]))
                for row in rows
            ]
        return loaded
    finally:
        await db.dispose()


def test_old_trial_statistics_are_recomputed_with_the_ep09_fields(empty_url: str) -> None:
    upgrade(empty_url)
    before = asyncio.run(_paired_trials(empty_url, generate_first=True))
    assert before and all("loa_ci" in row[2] for row in before)

    downgrade(empty_url, "0012")
    old = asyncio.run(_paired_trials(empty_url, generate_first=False))
    for _id, _paired, statistics, _equivalent in old:
        assert not {"loa_ci", "proportional_bias", "constant_bias", "notes"} & set(statistics)
        assert statistics["passing_bablok"] is None or (
            "linearity" not in statistics["passing_bablok"]
        )

    upgrade(empty_url)
    after = asyncio.run(_paired_trials(empty_url, generate_first=False))
    assert after == before
    for _id, paired, statistics, equivalent in after[:10]:
        expected = compare_methods(paired["candidate"], paired["reference"], paired["margin"])
        assert statistics == expected.as_dict()
        assert bool(equivalent) is expected.tost.equivalent  # SQLite answers 1 for true
