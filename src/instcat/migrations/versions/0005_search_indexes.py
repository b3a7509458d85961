"""search indexes: spec filters answered from one index, a category's products in id order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product_spec_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_spec_value_key_product_id_num_value_text_value"),
            ["key", "product_id", "num_value", "text_value"],
            unique=False,
        )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_category_id_id"), ["category_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_category_id_id"))
    with op.batch_alter_table("product_spec_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_spec_value_key_product_id_num_value_text_value"))
