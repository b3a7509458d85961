"""trial statistics to CLSI EP09 level: recompute the stored statistics

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 17:00:00

Trials store the statistics of their paired results, computed when they were written.
Those written before this revision lack `loa_ci`, `proportional_bias`, `constant_bias`,
`notes` and `passing_bablok.linearity`, which grading reads from the stored rows. They
are recomputed here from the stored paired values, rather than filled in on every read:
grading and list building read the rows directly, and a 10,000-pair trial should not
be recomputed on each request.

This is the one migration that calls application code, `instcat.stats`. That package
is pure numerics with no database or web imports, and the contract only ever adds
fields to the statistics, so a later version computes a superset of what this revision
needs. Paired values the statistics now refuse (they would overflow or underflow; the
API answers 400 for them) get no statistics, as the service stored before for values it
could not analyse. The downgrade removes the added fields again.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
BATCH = 500
ADDED = ("loa_ci", "proportional_bias", "constant_bias", "notes")

_trial = sa.table(
    "trial",
    sa.column("id", sa.Integer),
    sa.column("paired", JSON),
    sa.column("statistics", JSON),
    sa.column("equivalent", sa.Boolean),
)


def _batches(connection: sa.Connection) -> Any:
    """Trials with paired results, BATCH rows at a time in id order (bounded memory)."""
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_trial.c.id, _trial.c.paired, _trial.c.statistics)
            .where(_trial.c.paired.is_not(None), _trial.c.id > last)
            .order_by(_trial.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _recomputed(paired: dict[str, Any]) -> dict[str, Any] | None:
    from instcat.stats import StatisticsError, compare_methods

    try:
        return compare_methods(paired["candidate"], paired["reference"], paired["margin"]).as_dict()
    except (StatisticsError, KeyError, TypeError):
        return None


def upgrade() -> None:
    connection = op.get_bind()
    for rows in _batches(connection):
        for row in rows:
            if not isinstance(row.paired, dict):
                continue
            statistics = _recomputed(row.paired)
            equivalent = None if statistics is None else statistics["tost"]["equivalent"]
            connection.execute(
                _trial.update()
                .where(_trial.c.id == row.id)
                .values(statistics=statistics, equivalent=equivalent)
            )


def downgrade() -> None:
    connection = op.get_bind()
    for rows in _batches(connection):
        for row in rows:
            if not isinstance(row.statistics, dict):
                continue
            statistics = {k: v for k, v in row.statistics.items() if k not in ADDED}
            regression = statistics.get("passing_bablok")
            if isinstance(regression, dict):
                statistics["passing_bablok"] = {
                    k: v for k, v in regression.items() if k != "linearity"
                }
            connection.execute(
                _trial.update().where(_trial.c.id == row.id).values(statistics=statistics)
            )
