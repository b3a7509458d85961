"""catalogue and users

Revision ID: 0001
Revises:
Create Date: 2026-11-29 06:05:40.525588
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import instcat.models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "aliases",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["category.id"], name=op.f("fk_category_parent_id_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("code", name=op.f("uq_category_code")),
    )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_category_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "vendor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("founded_year", sa.Integer(), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("website", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column(
            "service_regions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("response_hours", sa.Float(), nullable=True),
        sa.Column(
            "certifications",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "source",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor")),
        sa.UniqueConstraint("slug", name=op.f("uq_vendor_slug")),
    )
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_country"), ["country"], unique=False)

    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column(
            "specs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("made_in", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("launch_year", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("price_band", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_product_category_id_category")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_product_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("vendor_id", "model", name=op.f("uq_product_vendor_id_model")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_category_id_status"), ["category_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_product_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "spec_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_spec_definition_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spec_definition")),
        sa.UniqueConstraint("category_id", "key", name=op.f("uq_spec_definition_category_id_key")),
    )
    with op.batch_alter_table("spec_definition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spec_definition_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", instcat.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_user_account_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_account_token_hash")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_audit_event_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_entity_entity_id"), ["entity", "entity_id"], unique=False
        )

    op.create_table(
        "market_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("value_low", sa.Float(), nullable=True),
        sa.Column("value_high", sa.Float(), nullable=True),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column(
            "source_publication", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column("source_title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("source_date", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("source_quote", sa.Text(), nullable=True),
        sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_market_figure_category_id_category")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_market_figure_created_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_figure")),
        sa.UniqueConstraint("ref", name=op.f("uq_market_figure_ref")),
    )
    with op.batch_alter_table("market_figure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_figure_category_id_metric_year"),
            ["category_id", "metric", "year"],
            unique=False,
        )

    op.create_table(
        "product_spec_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("num_value", sa.Float(), nullable=True),
        sa.Column("text_value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_spec_value_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_spec_value")),
    )
    with op.batch_alter_table("product_spec_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_spec_value_key_num_value"), ["key", "num_value"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_product_spec_value_key_text_value"), ["key", "text_value"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_product_spec_value_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("product_spec_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_spec_value_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_spec_value_key_text_value"))
        batch_op.drop_index(batch_op.f("ix_product_spec_value_key_num_value"))

    op.drop_table("product_spec_value")
    with op.batch_alter_table("market_figure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_figure_category_id_metric_year"))

    op.drop_table("market_figure")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_entity_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))

    op.drop_table("audit_event")
    op.drop_table("user_account")
    with op.batch_alter_table("spec_definition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spec_definition_category_id"))

    op.drop_table("spec_definition")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_product_category_id_status"))

    op.drop_table("product")
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_country"))

    op.drop_table("vendor")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_parent_id"))

    op.drop_table("category")
