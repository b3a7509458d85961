"""source corrections: Source A's figures and vendor credits as source-facts.md now states them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 17:00:00

Databases seeded before this revision hold Source A as first transcribed: credited to 阿仪网
alone (the reporting is 科技日报's too), A6 dated 2020 (its sentence has no year), A4's and
A10's scopes not in the article's words, and no note on A11's 20 % disagreeing with the
≈ 7 % by value that A13/A14 imply. This corrects the rows that still hold exactly what the
seed wrote, identified by `ref` (figures) or `slug` (vendors), never by id:

- a market figure changes only if its value and every column corrected here are still as
  seeded (its parts belong together: a note speaks of its value); otherwise it is left
  alone and named in a warning;
- a vendor's `source` and `description` are checked one at a time, because a vendor may
  rewrite its own description while the source citation stays the seed's.

Every changed row gets an audit event (action "update", detail naming this migration and
the columns' previous values). The actor is null: no user makes this change, and null is
what the audit trail already shows as "system" for seed and other system writes. Vendors
changed get a new version (their ETag changes) and updated_at. If anything changed, the
data revision token is replaced so that every process drops answers derived before.

The values are copies kept here, not read from seed/ or the application, so that what this
revision does never changes with later edits. Downgrade puts the old values back, under the
same rules and audited the same way.
"""

import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")

OLD_PUBLICATION = "阿仪网 (reprinted in 《浙江机械》 总第569期)"
NEW_PUBLICATION = "阿仪网 (reprinted in 《浙江机械》 总第569期); reporting by 科技日报"

# Every Source A figure as seeded, by ref, with its value (part of what identifies it).
VALUES: dict[str, float] = {
    "A1": 0.99,
    "A2": 1.19,
    "A3": 1.32,
    "A4": 13.4,
    "A5": 35000000000,
    "A6": 99,
    "A7": 3500000000,
    "A8": 6000000000,
    "A9": 1.5,
    "A10-usd": 21730000000,
    "A10-cny": 139600000000,
    "A11": 20,
    "A12-north-america": 6,
    "A12-europe": 3,
    "A12-japan": 3,
    "A13-value": 4000000000,
    "A13-units": 16000,
    "A14": 300000000,
    "A15": 80,
}

_REPORTED = (
    "Reported in 2021; the year is the article's publication year, the article does not "
    "state the reference year."
)
_BOTH_KEPT = (
    "which disagrees with A11's 20% (basis not stated); both are kept as the article states them. "
)
_A6 = (
    "Approximate (几乎99%): share of the scientific electron microscope market divided among "
    "five global companies. The basis (units or value) is not stated."
)
_A10_OLD = (
    "光学仪器、电子测量仪器、试验机和实验室分析仪器 optical instruments, electronic measuring "
    "instruments, testing machines and laboratory analytical instruments (imports into China)"
)
_A10_NEW = (
    "光学仪器、电子测量仪器、试验机和实验分析仪器 optical instruments, electronic measuring "
    "instruments, testing machines and experimental analysis instruments (imports into China)"
)
_A11 = (
    "Domestic products hold only 20% (so about 80% is imported). The article states no basis "
    "(units or value). "
)
_A13_VALUE = (
    "Sales value of foreign vendors' HPLC in China, 4 billion yuan. The unit count is A13-units. "
)
_A13_UNITS = (
    "More than (余) 16,000 units (sets) sold in China by foreign vendors; stored as 16000. "
)
_A14 = (
    "Approximate (左右): the remaining market of about 300 million yuan left to the dozens of "
    "domestic vendors. "
)
_SEVEN = "about 7% (0.3 / (4 + 0.3) billion yuan), "

# Beyond the publication, which every figure above changes: ref -> column -> (old, new).
CHANGES: dict[str, dict[str, tuple[Any, Any]]] = {
    "A4": {
        "scope": (
            "大型科研仪器（单台套原值50万元以上） large research instruments worth over "
            "500,000 yuan each, all types",
            "原值超过50万元以上的大型仪器 large instruments with an original value of over "
            "500,000 yuan, all types",
        )
    },
    "A6": {
        "year": (2020, 2021),
        "note": (
            _A6,
            f"{_A6} Reported in 2021: the sentence states no year, so the year is the article's "
            "publication year, as for the other reported figures; the year 2020 belongs to A7 "
            "and A8, not to this figure.",
        ),
    },
    "A10-usd": {"scope": (_A10_OLD, _A10_NEW)},
    "A10-cny": {"scope": (_A10_OLD, _A10_NEW)},
    "A11": {
        "note": (
            f"{_A11}{_REPORTED}",
            f"{_A11}The article's own A13-value and A14 give a domestic share by value of "
            f"{_SEVEN}which disagrees with this 20% (perhaps a share by units); both are kept "
            f"as the article states them. {_REPORTED}",
        )
    },
    "A13-value": {
        "note": (
            f"{_A13_VALUE}{_REPORTED}",
            f"{_A13_VALUE}With A14 it gives a domestic share by value of {_SEVEN}{_BOTH_KEPT}"
            f"{_REPORTED}",
        )
    },
    "A13-units": {
        "note": (
            f"{_A13_UNITS}{_REPORTED}",
            f"{_A13_UNITS}The article's value figures (A13-value, A14) give a domestic share by "
            f"value of {_SEVEN}{_BOTH_KEPT}{_REPORTED}",
        )
    },
    "A14": {
        "note": (
            f"{_A14}{_REPORTED}",
            f"{_A14}With A13-value it gives a domestic share by value of {_SEVEN}{_BOTH_KEPT}"
            f"{_REPORTED}",
        )
    },
}

# The vendors whose facts the article gives: their descriptions as seeded, and the citation
# inside them that now credits 科技日报 as well.
OLD_CITATION = "(source: 阿仪网, reprinted in 《浙江机械》 总第569期, 2021)"
NEW_CITATION = "(source: 阿仪网, reprinted in 《浙江机械》 总第569期, 2021; reporting by 科技日报)"
_NOT_SOURCED = (
    " Service network, response hours and certifications listed here are illustrative, not sourced."
)
_PUBLIC = " Founding year and headquarters are public company information."
DESCRIPTIONS: dict[str, str] = {
    "focus-ebeam": "Designs and builds high-end field-emission electron microscope systems; "
    f"founded 2015; spends 30–40 million yuan a year on R&D {OLD_CITATION}.{_NOT_SOURCED}",
    "purkinje": "Makes UV-Vis spectrophotometers and atomic absorption spectrometers; founded "
    "1991. After its entry into the market a leading Japanese vendor's prices in China fell by "
    f"30–40% {OLD_CITATION}.{_NOT_SOURCED}",
    "ciqtek": "Hefei-based maker of quantum precision measurement instruments. Per the source "
    "article: the quantum diamond single-spin spectrometer, quantum diamond AFM and a diamond "
    "quantum-computing teaching machine (first of their kind); EPR spectrometers and SEMs aimed "
    "at import substitution; China's first commercial pulsed EPR spectrometer (2018); it "
    "repaired a foreign-brand EPR spectrometer at Tsinghua University's analysis centre in 4 "
    f"working days, where factory repair takes over a month {OLD_CITATION}.{_PUBLIC}"
    f"{_NOT_SOURCED}",
    "hanon": "Makes rugged HPLC systems that compete with international mid-range models, using "
    "international standard parts for core components; lent 50 sample units to user sites for "
    f"free trials {OLD_CITATION}.{_NOT_SOURCED}",
    "shimadzu": "Maker of chromatographs, mass spectrometers, UV-Vis and atomic absorption "
    "spectrometers; headquartered in Kyoto. Built a factory in Suzhou, China in 1997 "
    f"{OLD_CITATION}, so some of its instruments are made in China although the vendor is not "
    f"domestic.{_PUBLIC}{_NOT_SOURCED}",
}
OLD_SOURCE = {
    "publication": OLD_PUBLICATION,
    "title": "科学仪器依赖进口 国产仪器需要创新",
    "date": "2021",
    "quote": None,
    "url": None,
}

_figures = sa.table(
    "market_figure",
    sa.column("id", sa.Integer),
    sa.column("ref", sa.String),
    sa.column("value", sa.Float),
    sa.column("scope", sa.String),
    sa.column("year", sa.Integer),
    sa.column("note", sa.Text),
    sa.column("source_publication", sa.String),
)
_vendors = sa.table(
    "vendor",
    sa.column("id", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("description", sa.Text),
    sa.column("source", JSON),
    sa.column("version", sa.Integer),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_audit = sa.table(
    "audit_event",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("detail", JSON),
)
_BUMP = sa.text(
    "INSERT INTO data_revision (id, value) VALUES (1, :token) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)


def _figure_states(ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A figure's corrected columns as seeded before this revision, and as corrected."""
    old = {"source_publication": OLD_PUBLICATION}
    new = {"source_publication": NEW_PUBLICATION}
    for column, (before, after) in CHANGES.get(ref, {}).items():
        old[column], new[column] = before, after
    return old, new


def _vendor_states(slug: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A vendor's cited columns as seeded before this revision, and as corrected."""
    old = {"source": OLD_SOURCE, "description": DESCRIPTIONS[slug]}
    new = {
        "source": {**OLD_SOURCE, "publication": NEW_PUBLICATION},
        "description": DESCRIPTIONS[slug].replace(OLD_CITATION, NEW_CITATION),
    }
    return old, new


def _audit_row(entity: str, entity_id: int, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC),
        "actor_id": None,
        "action": "update",
        "entity": entity,
        "entity_id": entity_id,
        "detail": {"migration": revision, **detail},
    }


def _holds(stored: dict[str, Any], state: dict[str, Any]) -> bool:
    """Whether a stored figure is the seeded one, with its corrected columns in this state."""
    same = all(stored[column] == value for column, value in state.items())
    return same and stored["value"] == VALUES[stored["ref"]]


def _correct_figures(bind: sa.Connection, undo: bool) -> list[dict[str, Any]]:
    """Move every figure still in the one state to the other; returns its audit rows."""
    audits = []
    found = bind.execute(sa.select(_figures).where(_figures.c.ref.in_(list(VALUES)))).all()
    for row in found:
        stored = row._asdict()
        ref = stored["ref"]
        old, new = _figure_states(ref)
        start, end = (new, old) if undo else (old, new)
        if not _holds(stored, start):
            if not _holds(stored, end):
                log.warning("market figure %s was changed after it was seeded; left alone", ref)
            continue
        bind.execute(_figures.update().where(_figures.c.id == stored["id"]).values(**end))
        before = {c: stored[c] for c in sorted(end)}
        audits.append(
            _audit_row(
                "market_figure", stored["id"], {"ref": ref, "fields": sorted(end), "before": before}
            )
        )
    return audits


def _correct_vendors(bind: sa.Connection, undo: bool) -> list[dict[str, Any]]:
    """Move each cited column still in the one state to the other; returns the audit rows."""
    audits = []
    found = bind.execute(sa.select(_vendors).where(_vendors.c.slug.in_(list(DESCRIPTIONS)))).all()
    for row in found:
        stored = row._asdict()
        old, new = _vendor_states(stored["slug"])
        start, end = (new, old) if undo else (old, new)
        values = {c: end[c] for c in end if stored[c] == start[c]}
        edited = sorted(c for c in end if stored[c] not in (start[c], end[c]))
        if edited:
            log.warning("vendor %s: %s changed after seeding; left alone", stored["slug"], edited)
        if not values:
            continue
        before = {c: stored[c] for c in sorted(values)}
        values.update(version=stored["version"] + 1, updated_at=datetime.now(UTC))
        bind.execute(_vendors.update().where(_vendors.c.id == stored["id"]).values(**values))
        detail = {"slug": stored["slug"], "fields": sorted(before), "before": before}
        audits.append(_audit_row("vendor", stored["id"], detail))
    return audits


def _run(undo: bool) -> None:
    bind = op.get_bind()
    audits = _correct_figures(bind, undo) + _correct_vendors(bind, undo)
    if audits:
        bind.execute(_audit.insert(), audits)
        # Same statement as the application's bump_revision: caches derived before must go.
        bind.execute(_BUMP, {"token": secrets.randbits(62)})


def upgrade() -> None:
    _run(undo=False)


def downgrade() -> None:
    _run(undo=True)
