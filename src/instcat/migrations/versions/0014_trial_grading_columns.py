"""trial grading columns: pair count, bias flags and linearity beside the statistics

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 21:00:00

The grading rule reads, for every accepted trial, how many pairs it has, whether its
Passing–Bablok regression shows proportional or constant bias, whether its linearity test
rejects, and the institution it ran at. The first four are copied out of the stored
statistics into columns, as `has_paired` and `equivalent` were in 0004, so that grading and
list building never load the statistics JSON; the evidence index is rebuilt to cover them
with the institution.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
BATCH = 500
OLD_INDEX = (
    "status",
    "product_id",
    "id",
    "check_count",
    "all_checks_passed",
    "has_paired",
    "equivalent",
    "ended_on",
    "reference_product_id",
)
ADDED = ("pair_count", "proportional_bias", "constant_bias", "linear")

_trial = sa.table(
    "trial",
    sa.column("id", sa.Integer),
    sa.column("statistics", JSON),
    sa.column("pair_count", sa.Integer),
    sa.column("proportional_bias", sa.Boolean),
    sa.column("constant_bias", sa.Boolean),
    sa.column("linear", sa.Boolean),
)


def _figures(statistics: Any) -> dict[str, Any]:
    """The new columns' values from stored statistics (written here, not imported: a
    migration keeps the meaning it had when it was written)."""
    if not isinstance(statistics, dict):
        return {}
    regression = statistics.get("passing_bablok")
    linearity = regression.get("linearity") if isinstance(regression, dict) else None
    return {
        "pair_count": statistics.get("n"),
        "proportional_bias": statistics.get("proportional_bias"),
        "constant_bias": statistics.get("constant_bias"),
        "linear": linearity.get("linear") if isinstance(linearity, dict) else None,
    }


def upgrade() -> None:
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pair_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("proportional_bias", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("constant_bias", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("linear", sa.Boolean(), nullable=True))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_trial.c.id, _trial.c.statistics)
            .where(_trial.c.statistics.is_not(None), _trial.c.id > last)
            .order_by(_trial.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            figures = _figures(row.statistics)
            if figures:
                connection.execute(_trial.update().where(_trial.c.id == row.id).values(**figures))
        last = rows[-1].id
    op.drop_index("ix_trial_evidence", table_name="trial")
    op.create_index(
        "ix_trial_evidence", "trial", [*OLD_INDEX, *ADDED, "site_institution"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_trial_evidence", table_name="trial")
    op.create_index("ix_trial_evidence", "trial", list(OLD_INDEX), unique=False)
    with op.batch_alter_table("trial", schema=None) as batch_op:
        for column in reversed(ADDED):
            batch_op.drop_column(column)
