"""trials and feedback

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 06:11:47.285883
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import instcat.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("performance", sa.Integer(), nullable=False),
        sa.Column("stability", sa.Integer(), nullable=False),
        sa.Column("usability", sa.Integer(), nullable=False),
        sa.Column("service", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("months_used", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("moderated_at", instcat.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("moderation_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_feedback_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["user_account.id"],
            name=op.f("fk_feedback_moderator_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_feedback_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_feedback_product_id_status"), ["product_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feedback_status"), ["status"], unique=False)

    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column(
            "response_body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_idempotency_record_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint(
            "user_id", "route", "key", name=op.f("uq_idempotency_record_user_id_route_key")
        ),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_record_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "trial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("reference_product_id", sa.Integer(), nullable=True),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("site_institution", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("site_lab", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("site_city", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("uptime_pct", sa.Float(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=True),
        sa.Column("service_response_hours", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "paired",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "statistics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("all_checks_passed", sa.Boolean(), nullable=False),
        sa.Column("check_count", sa.Integer(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", instcat.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", instcat.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_trial_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["trial.id"], name=op.f("fk_trial_previous_id_trial")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_trial_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["reference_product_id"],
            ["product.id"],
            name=op.f("fk_trial_reference_product_id_product"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_trial_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial")),
    )
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_previous_id"), ["previous_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trial_product_id"), ["product_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_trial_status_product_id"), ["status", "product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trial_vendor_id_status"), ["vendor_id", "status"], unique=False
        )

    op.create_table(
        "trial_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("candidate", sa.Float(), nullable=False),
        sa.Column("reference", sa.Float(), nullable=True),
        sa.Column("criterion_op", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("criterion_value", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trial.id"],
            name=op.f("fk_trial_check_trial_id_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_check")),
    )
    with op.batch_alter_table("trial_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_check_trial_id"), ["trial_id"], unique=False)

    op.create_table(
        "trial_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("at", instcat.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_trial_review_reviewer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trial.id"],
            name=op.f("fk_trial_review_trial_id_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_review")),
    )
    with op.batch_alter_table("trial_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_review_trial_id"), ["trial_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trial_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_review_trial_id"))

    op.drop_table("trial_review")
    with op.batch_alter_table("trial_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_check_trial_id"))

    op.drop_table("trial_check")
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_vendor_id_status"))
        batch_op.drop_index(batch_op.f("ix_trial_status_product_id"))
        batch_op.drop_index(batch_op.f("ix_trial_product_id"))
        batch_op.drop_index(batch_op.f("ix_trial_previous_id"))

    op.drop_table("trial")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_created_at"))

    op.drop_table("idempotency_record")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_status"))
        batch_op.drop_index(batch_op.f("ix_feedback_product_id_status"))
        batch_op.drop_index(batch_op.f("ix_feedback_author_id"))

    op.drop_table("feedback")
