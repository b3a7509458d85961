"""list references: each reference product stored once per list, spec definitions per list,
entries read in list order

Revision ID: 0006
Revises: 0008
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The index columns as of this revision, copied from the models on purpose: a migration
# must keep creating what it created even after the models change.
TRIAL_EVIDENCE = [
    "status",
    "product_id",
    "id",
    "check_count",
    "all_checks_passed",
    "has_paired",
    "equivalent",
    "ended_on",
    "reference_product_id",
]
FEEDBACK_SUMMARY = [
    "status",
    "product_id",
    "performance",
    "stability",
    "usability",
    "service",
    "value",
]
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    # Lists generated before this keep their whole entries; they read as before.
    with op.batch_alter_table("substitution_list", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spec_definitions", JSON, nullable=True))
    # List generation reads every accepted trial and every published feedback's ratings:
    # covering indexes answer that without reading the rows (trials carry their paired data).
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.create_index("ix_trial_evidence", TRIAL_EVIDENCE, unique=False)
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_summary", FEEDBACK_SUMMARY, unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Entries are read whole and written ~100 MB at a time: JSON text, not parsed JSONB.
        op.alter_column(
            "substitution_entry",
            "data",
            type_=sa.JSON(),
            existing_type=JSON,
            postgresql_using="data::json",
        )
    with op.batch_alter_table("substitution_entry", schema=None) as batch_op:
        # An entry is a snapshot; checking (and row-locking) its product per row made storing
        # a national list seconds slower.
        batch_op.drop_constraint("fk_substitution_entry_product_id_product", type_="foreignkey")
        batch_op.create_index(
            "ix_substitution_entry_list_id_position", ["list_id", "position"], unique=False
        )
    op.create_table(
        "substitution_reference",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["substitution_list.id"],
            name=op.f("fk_substitution_reference_list_id_substitution_list"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "product_id", name=op.f("pk_substitution_reference")),
    )
    with op.batch_alter_table("substitution_reference", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_substitution_reference_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("substitution_reference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_substitution_reference_product_id"))
    op.drop_table("substitution_reference")
    with op.batch_alter_table("substitution_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_substitution_entry_list_id_position")
        batch_op.create_foreign_key(
            "fk_substitution_entry_product_id_product", "product", ["product_id"], ["id"]
        )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_summary")
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.drop_index("ix_trial_evidence")
    with op.batch_alter_table("substitution_list", schema=None) as batch_op:
        batch_op.drop_column("spec_definitions")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "substitution_entry",
            "data",
            type_=JSON,
            existing_type=sa.JSON(),
            postgresql_using="data::jsonb",
        )
