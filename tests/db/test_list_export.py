"""Exports are written a chunk of entries at a time and equal the whole list read at once."""

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from instcat.auth import SYSTEM
from instcat.cli_lists import lists_group
from instcat.common import DEFAULT_PAGE
from instcat.config import Settings
from instcat.db import Database
from instcat.errors import Conflict
from instcat.substitution import export, list_reads
from instcat.substitution.lists import ListService
from instcat.substitution.schemas import ListCriteria

# Every test here exports lists of the generated catalogue (tests/conftest.py: made once,
# copied per test).
pytestmark = pytest.mark.usefixtures("generated")


async def _joined(parts: Any) -> bytes:
    return b"".join([part async for part in parts])


async def _exports(settings: Settings) -> tuple[dict[str, Any], int, dict[str, bytes]]:
    db = Database.from_settings(settings)
    try:
        service = ListService(db)
        made = await service.generate(SYSTEM, ListCriteria(label="exported"))
        whole = await service.get(SYSTEM, made.id, None)
        summary = await service.summary(SYSTEM, made.id)
        chunks = {
            fmt: service.entry_chunks(SYSTEM, made.id, specs=fmt == "json")
            for fmt in ("csv", "xlsx", "json")
        }
        bodies = {
            "csv": await _joined(export.to_csv(chunks["csv"])),
            "xlsx": await _joined(export.to_xlsx(summary, chunks["xlsx"])),
            "json": await _joined(export.to_json(summary, chunks["json"])),
        }
        return whole.model_dump(mode="json", by_alias=True), made.entry_count, bodies
    finally:
        await db.dispose()


def test_exports_written_in_chunks_equal_the_whole_list(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(list_reads, "CHUNK", 7)  # many chunks, the last one short
    whole, count, bodies = asyncio.run(_exports(settings))
    assert count > 3 * 7 and count % 7
    assert json.loads(bodies["json"]) == whole

    text = bodies["csv"].decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == export.HEADER and len(rows) == count
    assert [row[1] for row in rows] == [str(e["product"]["id"]) for e in whole["entries"]]
    for row, entry in zip(rows, whole["entries"], strict=True):
        replaced = [r["reference"]["id"] for r in entry["replaces"]]
        assert row[6].count("(#") == len(replaced)
        assert row[8] == " ".join(str(t["id"]) for t in entry["evidence"]["trials"])

    workbook = openpyxl.load_workbook(io.BytesIO(bodies["xlsx"]))
    sheet = workbook["entries"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == export.HEADER
    assert [list(map(_cell, v)) for v in values[1:]] == [list(map(_cell, row)) for row in rows]


def _cell(value: Any) -> Any:
    """A cell as text or number: the workbook keeps numbers (48.0 reads back as 48) and
    leaves empty cells empty."""
    text = "" if value is None else str(value)
    try:
        return float(text)
    except ValueError:
        return text


def test_an_export_never_mixes_a_draft_deleted_midway(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's read transaction keeps the snapshot it started with, so the export finishes
    as the list was; on PostgreSQL each read sees the deletion, and the export fails rather
    than end early."""
    monkeypatch.setattr(list_reads, "CHUNK", 5)

    async def run() -> tuple[int, int | None]:
        db = Database.from_settings(settings)
        try:
            service = ListService(db)
            made = await service.generate(SYSTEM, ListCriteria(label="deleted"))
            chunks = service.entry_chunks(SYSTEM, made.id)
            read = len(await anext(chunks))
            await service.delete(SYSTEM, made.id)
            try:
                async for chunk in chunks:
                    read += len(chunk)
            except Conflict:
                return made.entry_count, None
            return made.entry_count, read
        finally:
            await db.dispose()

    count, read = asyncio.run(run())
    if settings.database_url.startswith("sqlite"):
        assert read == count
    else:
        assert read is None


def test_the_command_line_export_writes_every_entry(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(list_reads, "CHUNK", 7)

    async def made() -> tuple[int, int]:
        db = Database.from_settings(settings)
        try:
            listed = await ListService(db).generate(SYSTEM, ListCriteria(label="to a file"))
            return listed.id, listed.entry_count
        finally:
            await db.dispose()

    list_id, count = asyncio.run(made())
    assert count > DEFAULT_PAGE  # more than a page of the API
    output = tmp_path / "list.csv"
    runner = CliRunner()
    result = runner.invoke(
        lists_group, ["export", str(list_id), "--output", str(output)], obj=settings
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    assert len(rows) == count + 1
    assert f"({count} entries)" in result.output

    missing = tmp_path / "missing.csv"
    result = runner.invoke(
        lists_group, ["export", "999999", "--output", str(missing)], obj=settings
    )
    assert result.exit_code == 1 and "999999" in result.output
    assert list(tmp_path.iterdir()) == [output]  # nothing half-written left behind
