"""The source corrections migration: databases seeded before it end up as a fresh seed of today's
files would make them, every change audited, and rows edited since the seed left alone."""

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from alembic.script import Script, ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from instcat.config import Settings, normalise_database_url
from instcat.db import Database
from instcat.migrate import alembic_config, downgrade, upgrade
from instcat.models import AuditEvent, Category, MarketFigure, Vendor
from instcat.models.base import table_of
from instcat.seeding import seed
from tests.conftest import SEED_DIR
from tests.db.test_migrations import empty_url  # noqa: F401  (the fixture, both databases)

# The bundled figures and the article's vendors as seeded before the corrections.
BEFORE = Path(__file__).resolve().parent / "seed_before_0012"
SOURCED_VENDORS = {"focus-ebeam", "purkinje", "ciqtek", "hanon", "shimadzu"}
# Columns a row's identity or bookkeeping lives in, not what the source says.
FIGURE_BOOKKEEPING = {"id", "category_id", "created_by", "created_at"}
VENDOR_BOOKKEEPING = {"id", "created_at", "updated_at", "version"}
_FIGURES = table_of(MarketFigure)
_CATEGORIES = table_of(Category)
_VENDORS = table_of(Vendor)
_AUDIT = table_of(AuditEvent)


def _corrections() -> Script:
    """The migration, found by its file name so that its place in the chain may change."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    found = [s for s in scripts.walk_revisions() if s.path.endswith("_source_corrections.py")]
    assert len(found) == 1
    return found[0]


def _directory(tmp_path: Path, figures: Path, vendors: Path) -> Path:
    """A seed directory with the bundled categories and the given figures and vendors."""
    directory = tmp_path / f"seed-{figures.parent.name}"
    directory.mkdir()
    shutil.copy(SEED_DIR / "categories.json", directory / "categories.json")
    shutil.copy(figures, directory / "market_figures.json")
    kept = [
        v for v in json.loads(vendors.read_text(encoding="utf-8")) if v["slug"] in SOURCED_VENDORS
    ]
    (directory / "vendors.json").write_text(json.dumps(kept, ensure_ascii=False), "utf-8")
    return directory


def _old_seed(tmp_path: Path) -> Path:
    return _directory(tmp_path, BEFORE / "market_figures.json", BEFORE / "vendors.json")


def _new_seed(tmp_path: Path) -> Path:
    return _directory(tmp_path, SEED_DIR / "market_figures.json", SEED_DIR / "vendors.json")


async def _seed(url: str, directory: Path) -> None:
    db = Database.from_settings(Settings(database_url=url, seed_dir=directory))
    try:
        await seed(db, directory)
    finally:
        await db.dispose()


async def _state(url: str) -> dict[str, Any]:
    """Figures by ref and vendors by slug (what they say), the audit trail and the token."""
    engine = create_async_engine(normalise_database_url(url))
    async with engine.connect() as connection:
        query = select(_FIGURES, _CATEGORIES.c.code.label("category")).outerjoin(
            _CATEGORIES, _CATEGORIES.c.id == _FIGURES.c.category_id
        )
        figures = {
            row.ref: {k: v for k, v in row._asdict().items() if k not in FIGURE_BOOKKEEPING}
            for row in await connection.execute(query)
        }
        ids = {row.ref: row.id for row in await connection.execute(select(_FIGURES))}
        vendors, versions, vendor_ids = {}, {}, {}
        for row in await connection.execute(select(_VENDORS)):
            mapping = row._asdict()
            vendors[row.slug] = {k: v for k, v in mapping.items() if k not in VENDOR_BOOKKEEPING}
            versions[row.slug], vendor_ids[row.slug] = row.version, row.id
        trail = select(_AUDIT).order_by(_AUDIT.c.id)
        audits = [row._asdict() for row in await connection.execute(trail)]
        token = (await connection.execute(text("SELECT value FROM data_revision"))).scalar()
    await engine.dispose()
    return {
        "figures": figures,
        "figure_ids": ids,
        "vendors": vendors,
        "versions": versions,
        "vendor_ids": vendor_ids,
        "audits": audits,
        "token": token,
    }


async def _execute(url: str, *statements: str) -> None:
    engine = create_async_engine(normalise_database_url(url))
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await engine.dispose()


def _changed(state: dict[str, Any], since: int = 0) -> dict[tuple[str, int], dict[str, Any]]:
    """The migration's audit events after the first `since`, by (entity, entity id)."""
    events = [e for e in state["audits"][since:] if (e["detail"] or {}).get("migration")]
    assert all(e["actor_id"] is None and e["action"] == "update" for e in events)
    assert all(e["detail"]["migration"] == _corrections().revision for e in events)
    return {(e["entity"], e["entity_id"]): e["detail"] for e in events}


def test_seeded_rows_are_corrected_audited_restored_and_equal_a_fresh_seed(
    empty_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    script = _corrections()
    upgrade(empty_url, script.down_revision)
    asyncio.run(_seed(empty_url, _old_seed(tmp_path)))
    before = asyncio.run(_state(empty_url))
    assert len(before["figures"]) == 19 and set(before["vendors"]) == SOURCED_VENDORS

    upgrade(empty_url, script.revision)
    after = asyncio.run(_state(empty_url))
    figures = after["figures"]
    # Every Source A record now credits both 阿仪网 and 科技日报, and nothing else is lost.
    assert all(f != before["figures"][ref] for ref, f in figures.items())
    for record in (*figures.values(), *(v["source"] for v in after["vendors"].values())):
        publication = record.get("source_publication") or record["publication"]
        assert "阿仪网" in publication and "科技日报" in publication
    assert all("科技日报" in v["description"] for v in after["vendors"].values())
    assert (before["figures"]["A6"]["year"], figures["A6"]["year"]) == (2020, 2021)
    assert "the sentence states no year" in figures["A6"]["note"]
    assert figures["A4"]["scope"].startswith("原值超过50万元以上的大型仪器 ")
    for ref in ("A10-usd", "A10-cny"):
        assert "实验分析仪器" in figures[ref]["scope"] and "实验室" not in figures[ref]["scope"]
    for ref in ("A11", "A13-value", "A13-units", "A14"):
        assert "about 7% (0.3 / (4 + 0.3) billion yuan)" in figures[ref]["note"], ref
    assert figures["A11"]["value"] == 20 and figures["A11"]["basis"] is None
    # One audit event per changed row, naming what the row said before.
    changed = _changed(after)
    wanted = {("market_figure", after["figure_ids"][ref]) for ref in figures}
    wanted |= {("vendor", after["vendor_ids"][slug]) for slug in SOURCED_VENDORS}
    assert set(changed) == wanted
    a6 = changed[("market_figure", after["figure_ids"]["A6"])]
    assert a6["ref"] == "A6" and a6["fields"] == ["note", "source_publication", "year"]
    assert a6["before"]["year"] == 2020
    assert a6["before"]["note"] == before["figures"]["A6"]["note"]
    hanon = changed[("vendor", after["vendor_ids"]["hanon"])]
    assert hanon["fields"] == ["description", "source"]
    assert hanon["before"]["source"] == before["vendors"]["hanon"]["source"]
    assert all(after["versions"][s] == before["versions"][s] + 1 for s in SOURCED_VENDORS)
    assert after["token"] != before["token"]

    # Downgrade puts back exactly what the seed wrote, audited the same way.
    downgrade(empty_url, script.down_revision)
    undone = asyncio.run(_state(empty_url))
    assert (undone["figures"], undone["vendors"]) == (before["figures"], before["vendors"])
    assert set(_changed(undone, since=len(after["audits"]))) == wanted
    assert undone["token"] not in (before["token"], after["token"])

    # Upgraded again, and then compared with today's files loaded into the emptied tables.
    upgrade(empty_url, script.revision)
    again = asyncio.run(_state(empty_url))
    assert (again["figures"], again["vendors"]) == (after["figures"], after["vendors"])
    asyncio.run(_execute(empty_url, "DELETE FROM market_figure", "DELETE FROM vendor"))
    asyncio.run(_seed(empty_url, _new_seed(tmp_path)))
    fresh = asyncio.run(_state(empty_url))
    assert fresh["figures"] == after["figures"]
    assert fresh["vendors"] == after["vendors"]


def test_rows_edited_after_the_seed_are_left_alone(empty_url: str, tmp_path: Path) -> None:  # noqa: F811
    script = _corrections()
    upgrade(empty_url, script.down_revision)
    asyncio.run(_seed(empty_url, _old_seed(tmp_path)))
    asyncio.run(
        _execute(
            empty_url,
            "UPDATE market_figure SET note = 'Checked against the print edition.' "
            "WHERE ref = 'A11'",
            "UPDATE market_figure SET value = 13.5 WHERE ref = 'A4'",
            "UPDATE vendor SET description = 'Our own words.' WHERE slug = 'hanon'",
        )
    )
    before = asyncio.run(_state(empty_url))

    upgrade(empty_url, script.revision)
    after = asyncio.run(_state(empty_url))
    for ref in ("A11", "A4"):
        assert after["figures"][ref] == before["figures"][ref], ref
    assert after["figures"]["A6"]["year"] == 2021  # the untouched rows are still corrected
    hanon = after["vendors"]["hanon"]
    assert hanon["description"] == "Our own words."
    assert "科技日报" in hanon["source"]["publication"]  # its source was not edited
    changed = _changed(after)
    untouched = {("market_figure", after["figure_ids"][ref]) for ref in ("A11", "A4")}
    assert untouched.isdisjoint(changed) and len(changed) == 17 + 5
    assert changed[("vendor", after["vendor_ids"]["hanon"])]["fields"] == ["source"]

    downgrade(empty_url, script.down_revision)
    undone = asyncio.run(_state(empty_url))
    assert undone["figures"] == before["figures"]
    assert undone["vendors"] == before["vendors"]


def test_a_database_without_the_seeded_rows_is_not_written(empty_url: str) -> None:  # noqa: F811
    script = _corrections()
    upgrade(empty_url, script.down_revision)
    before = asyncio.run(_state(empty_url))
    upgrade(empty_url, script.revision)
    after = asyncio.run(_state(empty_url))
    assert after["audits"] == [] and after["token"] == before["token"]
