"""list vendors and categories: stored once per list instead of in every entry

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:40:00

A national list's entries (57,000 at scale 1, about 2 KB each) repeated their vendor's
names and service figures, their category's names and gap keys, and the field names of
every trial. Each vendor is now stored once per list (`substitution_vendor`), each
category's part with the list (`substitution_list.categories`), trials as rows of values,
and the ids and gap masks of the references an entry replaces as packed integers (base64).
Lists generated before keep everything in their entries and read as before; a downgrade
puts it back into the entries of lists generated since.
"""

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("substitution_list", schema=None) as batch_op:
        batch_op.add_column(sa.Column("categories", JSON, nullable=True))
    op.create_table(
        "substitution_vendor",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["substitution_list.id"],
            name=op.f("fk_substitution_vendor_list_id_substitution_list"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "slug", name=op.f("pk_substitution_vendor")),
    )


# The stored format as of this revision, kept here rather than imported: the application's
# own (`grading.TRIAL_FIELDS`, `compact.mask_type`) may move on, and this must not.
TRIAL_FIELDS = (
    "id",
    "status",
    "all_checks_passed",
    "equivalent",
    "ended_on",
    "reference_product_id",
    "counts",
)
BATCH = 1_000


def _mask_type(keys: int) -> str:
    for width in (1, 2, 4):
        if keys <= 8 * width:
            return f"<u{width}"
    return "<u8"


def _unpacked(packed: str, dtype: str) -> list[int]:
    values: list[int] = np.frombuffer(base64.b64decode(packed), np.dtype(dtype)).tolist()
    return values


def _whole(
    data: dict[str, Any], category: dict[str, Any], vendor: dict[str, Any]
) -> dict[str, Any]:
    """An entry as lists generated before this revision store it."""
    trials = [dict(zip(TRIAL_FIELDS, row, strict=True)) for row in data["evidence"]["trials"]]
    return {
        **data,
        "product": {
            **data["product"],
            "vendor_name_zh": vendor["name_zh"],
            "vendor_name_en": vendor["name_en"],
            "category_name_zh": category["name_zh"],
            "category_name_en": category["name_en"],
        },
        "replaces": {
            "references": _unpacked(data["replaces"]["references"], "<i4"),
            "grades": data["replaces"]["grades"],
            "gaps": _unpacked(data["replaces"]["gaps"], _mask_type(len(category["gap_keys"]))),
            "gap_keys": category["gap_keys"],
            # Lists generated under the evidence-bound rule (0014 on) keep each pair's
            # evidence code, as plain numbers here too.
            **(
                {"evidence": _unpacked(data["replaces"]["evidence"], "<u2")}
                if "evidence" in data["replaces"]
                else {}
            ),
        },
        "evidence": {
            "trials": trials,
            "accepted_trials": len(trials),
            "feedback": data["evidence"]["feedback"],
            "service": vendor["service"],
        },
    }


def downgrade() -> None:
    # Lists generated since keep what their entries share with the list: put it back into
    # every entry, so that they read as before (published lists never go away).
    bind = op.get_bind()
    lists = sa.table(
        "substitution_list", sa.column("id", sa.Integer), sa.column("categories", JSON)
    )
    entries = sa.table(
        "substitution_entry",
        sa.column("id", sa.Integer),
        sa.column("list_id", sa.Integer),
        sa.column("data", sa.JSON),
    )
    vendors = sa.table(
        "substitution_vendor",
        sa.column("list_id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("data", sa.JSON),
    )
    shared = sa.select(lists.c.id, lists.c.categories).where(lists.c.categories.is_not(None))
    for list_id, categories in bind.execute(shared).all():
        found = sa.select(vendors.c.slug, vendors.c.data).where(vendors.c.list_id == list_id)
        by_slug = dict(bind.execute(found).all())
        last = 0
        while True:
            page = bind.execute(
                sa.select(entries.c.id, entries.c.data)
                .where(entries.c.list_id == list_id, entries.c.id > last)
                .order_by(entries.c.id)
                .limit(BATCH)
            ).all()
            if not page:
                break
            bind.execute(
                entries.update()
                .where(entries.c.id == sa.bindparam("entry_id"))
                .values(data=sa.bindparam("whole", type_=sa.JSON)),
                [
                    {
                        "entry_id": entry_id,
                        "whole": _whole(
                            data, categories[data["category"]], by_slug[data["product"]["vendor"]]
                        ),
                    }
                    for entry_id, data in page
                ],
            )
            last = page[-1][0]
    op.drop_table("substitution_vendor")
    with op.batch_alter_table("substitution_list", schema=None) as batch_op:
        batch_op.drop_column("categories")
