"""substitution lists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:14:56.624274
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import instcat.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "substitution_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "criteria",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("domestic_rule", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("generated_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", instcat.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_substitution_list_created_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["user_account.id"],
            name=op.f("fk_substitution_list_published_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substitution_list")),
        sa.UniqueConstraint("label", name=op.f("uq_substitution_list_label")),
    )
    op.create_table(
        "substitution_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["substitution_list.id"],
            name=op.f("fk_substitution_entry_list_id_substitution_list"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_substitution_entry_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substitution_entry")),
    )
    with op.batch_alter_table("substitution_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_substitution_entry_list_id"), ["list_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_substitution_entry_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("substitution_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_substitution_entry_product_id"))
        batch_op.drop_index(batch_op.f("ix_substitution_entry_list_id"))

    op.drop_table("substitution_entry")
    op.drop_table("substitution_list")
