"""trial evidence columns

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:11:03.926352
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401  (autogenerate writes bare Text())

import instcat.models.base  # noqa: F401  (autogenerate names our column types)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("has_paired", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("equivalent", sa.Boolean(), nullable=True))
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.alter_column("has_paired", server_default=None)

    # Fill the new columns from the stored paired results and their statistics.
    trial = sa.table(
        "trial",
        sa.column("id", sa.Integer),
        sa.column("paired", sa.JSON),
        sa.column("statistics", sa.JSON),
        sa.column("has_paired", sa.Boolean),
        sa.column("equivalent", sa.Boolean),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(trial.c.id, trial.c.paired, trial.c.statistics)).all()
    for trial_id, paired, statistics in rows:
        if paired is None:
            continue
        verdict = None
        if statistics:
            verdict = bool(statistics.get("tost", {}).get("equivalent"))
        connection.execute(
            trial.update().where(trial.c.id == trial_id).values(has_paired=True, equivalent=verdict)
        )


def downgrade() -> None:
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.drop_column("equivalent")
        batch_op.drop_column("has_paired")
