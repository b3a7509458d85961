"""list tables keep only the indexes their queries use

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 17:40:00

Every index on the list tables is kept up for a whole national list at once (57,000
entries and 25,000 references at scale 1). Entries are only ever found by list and
position, which `ix_substitution_entry_list_id_position` serves (and the foreign key's
cascade with it), and references by list and product, their primary key.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (
    ("substitution_entry", "ix_substitution_entry_list_id", ["list_id"]),
    ("substitution_entry", "ix_substitution_entry_product_id", ["product_id"]),
    ("substitution_reference", "ix_substitution_reference_product_id", ["product_id"]),
)


def upgrade() -> None:
    for table, name, _columns in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)


def downgrade() -> None:
    for table, name, columns in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)
