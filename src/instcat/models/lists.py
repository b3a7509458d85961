"""Generated substitution lists and their entries (evidence snapshots)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from instcat.models.base import JSONType, UTCDateTime, utcnow


class SubstitutionList(SQLModel, table=True):
    __tablename__ = "substitution_list"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=200, unique=True)
    status: str = Field(default="draft", max_length=20)
    criteria: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    domestic_rule: str = Field(max_length=20)
    entry_count: int = Field(default=0)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    generated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by: int | None = Field(default=None, foreign_key="user_account.id")
    # Category code → spec definitions as they were ([key, kind, direction, critical, unit]),
    # so that the spec-by-spec comparisons of a frozen list can be shown as generated.
    spec_definitions: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONType, nullable=True)
    )
    # Category code → {name_zh, name_en, gap_keys} as they were. Set when the list's
    # entries leave their vendors and categories to the list (`compact.ListParts`); lists
    # generated before keep them in every entry.
    categories: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONType, nullable=True)
    )


class SubstitutionEntry(SQLModel, table=True):
    __tablename__ = "substitution_entry"
    # Pages of a list's entries are read in list order.
    __table_args__ = (Index("ix_substitution_entry_list_id_position", "list_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    # Found by the (list_id, position) index; every index here is kept up by a whole list at
    # once, so there is none that no query uses.
    list_id: int = Field(foreign_key="substitution_list.id", ondelete="CASCADE")
    position: int
    category: str = Field(max_length=40)
    # No foreign key: an entry is a snapshot and the check (a row lock on the product per
    # entry) made storing a national list seconds slower on PostgreSQL.
    product_id: int
    grade: str = Field(max_length=1)
    # The entry as generated: product, references replaced, evidence at that time. Plain JSON
    # (not JSONB): only ever read whole, and a national list writes ~100 MB of it at once.
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class SubstitutionReference(SQLModel, table=True):
    """A reference product as it was when the list was generated, stored once per list."""

    __tablename__ = "substitution_reference"

    list_id: int = Field(foreign_key="substitution_list.id", ondelete="CASCADE", primary_key=True)
    product_id: int = Field(primary_key=True)  # a snapshot: no foreign key
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class SubstitutionVendor(SQLModel, table=True):
    """A vendor of a list's entries as it was when the list was generated (names and service
    figures), stored once per list."""

    __tablename__ = "substitution_vendor"

    list_id: int = Field(foreign_key="substitution_list.id", ondelete="CASCADE", primary_key=True)
    slug: str = Field(max_length=80, primary_key=True)  # a snapshot: no foreign key
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
