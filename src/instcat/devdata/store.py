"""Bulk writes for the generator: explicit ids, chunked multi-row inserts, sequences."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from instcat.db import IMMEDIATE, Database
from instcat.errors import GenerateError
from instcat.models import (
    Feedback,
    Product,
    ProductSpecValue,
    Trial,
    TrialCheck,
    TrialReview,
    Vendor,
)
from instcat.models.base import table_of

CHUNK = 5_000
# Tables whose ids the generator assigns itself (so children can point at parents directly).
TABLES: dict[str, Table] = {
    table_of(model).name: table_of(model)
    for model in (Vendor, Product, ProductSpecValue, Trial, TrialCheck, TrialReview, Feedback)
}


def _check_columns(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    # Every column is written explicitly: a column added to the schema later must be filled
    # deliberately here, not left to a default that may contradict the rest of the row.
    if rows and set(rows[0]) != set(table.columns.keys()):
        missing = sorted(set(table.columns.keys()) - set(rows[0]))
        extra = sorted(set(rows[0]) - set(table.columns.keys()))
        raise GenerateError(f"{table.name} rows do not match the table: {missing=} {extra=}")


class Store:
    """Writes batches of rows, each batch in one transaction."""

    def __init__(self, db: Database) -> None:
        self.engine: AsyncEngine = db.engine.execution_options(**{IMMEDIATE: True})
        self.dialect = db.engine.dialect.name

    async def next_ids(self) -> dict[str, int]:
        """For each generated table, the first id above those already there."""
        result = {}
        async with self.engine.connect() as connection:
            for name, table in TABLES.items():
                top = (await connection.execute(select(func.max(table.c.id)))).scalar()
                result[name] = (top or 0) + 1
        return result

    async def write(self, batches: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> None:
        """Insert every (table, rows) pair, in order, in one transaction."""
        for name, rows in batches:
            _check_columns(TABLES[name], rows)
        async with self.engine.begin() as connection:
            for name, rows in batches:
                table = TABLES[name]
                for start in range(0, len(rows), CHUNK):
                    await connection.execute(insert(table), list(rows[start : start + CHUNK]))

    async def finish(self) -> None:
        """Move PostgreSQL's id sequences past the explicit ids; refresh planner statistics."""
        async with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                for name in TABLES:
                    await connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
                        )
                    )
        # A bulk load is followed by ANALYZE, as PostgreSQL's autovacuum would do on its own.
        async with self.engine.connect() as connection:
            if self.dialect == "postgresql":
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("ANALYZE"))
            else:
                await connection.execute(text("ANALYZE"))
                await connection.commit()
