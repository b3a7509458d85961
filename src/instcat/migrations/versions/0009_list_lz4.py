"""list JSON compressed with lz4 on PostgreSQL

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-29 17:30:00

A national list stores about 140 MB of JSON at once, and half its entries are long enough
to be compressed. PostgreSQL's default compression (pglz) took 1.7 s of the server's time
for 120 MB of entries; lz4 takes 1.0-1.2 s and stores them in the same space. Values
already stored keep their compression. Servers built without lz4 keep pglz; SQLite does
not compress.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("substitution_entry", "substitution_reference")


def _lz4() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    offered = sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    return bool(bind.execute(offered).scalar())


def upgrade() -> None:
    if _lz4():
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN data SET COMPRESSION default")
