"""Exports of a substitution list: CSV (UTF-8 with BOM, for Excel), XLSX and JSON, written
as the entries are read (a national list has 3 million replaced references)."""

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pydantic import TypeAdapter

from instcat.substitution.schemas import Entry, SubstitutionList, SubstitutionListSummary

# A list's entries a chunk at a time, as the JSON of `Entry` (`ListService.entry_chunks`).
Chunks = AsyncIterator[list[dict[str, Any]]]

HEADER = [
    "category",
    "product_id",
    "product",
    "vendor_zh",
    "vendor_en",
    "grade",
    "replaces",
    "accepted_trials",
    "trial_ids",
    "feedback_count",
    "overall_rating",
    "service_response_hours",
    "illustrative",
]


# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object, sheet: WriteOnlyWorksheet | None = None) -> object:
    """`value` as a cell that no spreadsheet runs as a formula: in a CSV (no `sheet`) text
    starting with = + - @ tab or CR gets a leading apostrophe; in a workbook such text is a
    string cell holding the text as it is. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    if sheet is None:
        return "'" + value if value.startswith(FORMULA_START) else value
    if value.startswith(FORMULA_START) or value in ERROR_CODES:
        # openpyxl would store "=..." as a formula and "#N/A" as an error, not as text.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _row(entry: dict[str, Any]) -> list[object]:
    """An entry (the JSON of `Entry`; its spec comparisons are not shown) as a row."""
    product = entry["product"]
    evidence = entry["evidence"]
    feedback, service = evidence["feedback"], evidence["service"]
    replaces = "; ".join(
        f"{r['reference']['vendor_name_en']} {r['reference']['model']}"
        f" (#{r['reference']['id']}): {r['grade']}"
        for r in entry["replaces"]
    )
    return [
        entry["category"],
        product["id"],
        f"{product['model']} {product['name']}".strip(),
        product["vendor_name_zh"],
        product["vendor_name_en"],
        entry["grade"],
        replaces,
        evidence["accepted_trials"],
        " ".join(str(t["id"]) for t in evidence["trials"]),
        feedback["count"],
        feedback["overall"] if feedback["overall"] is not None else "",
        service["response_hours"] if service["response_hours"] is not None else "",
        "yes" if product["illustrative"] else "no",
    ]


def _csv_lines(rows: Iterable[Sequence[object]]) -> str:
    # Text is always quoted, so that a spreadsheet splitting on ";" (as in some locales)
    # cannot start a new cell, and so a formula, in the middle of one.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerows([spreadsheet_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


async def to_csv(chunks: Chunks) -> AsyncIterator[bytes]:
    """CSV with a byte-order mark so that Excel reads the Chinese text as UTF-8, written a
    chunk of entries at a time."""
    yield _csv_lines([HEADER]).encode("utf-8-sig")
    async for chunk in chunks:
        yield _csv_lines(_row(entry) for entry in chunk).encode("utf-8")


def _workbook(summary: SubstitutionListSummary, rows: list[list[object]]) -> bytes:
    """A real workbook: the entries sheet with a header row, and the criteria sheet (written
    row by row: openpyxl's write-only mode keeps no cells)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("entries")
    sheet.freeze_panes = "A2"
    header = []
    for title in HEADER:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([spreadsheet_cell(value, sheet) for value in row])
    about = workbook.create_sheet("list")
    published = summary.published_at.isoformat() if summary.published_at else ""
    facts: list[list[object]] = [
        ["label", summary.label],
        ["status", summary.status],
        ["domestic_rule", summary.domestic_rule],
        ["generated_at", summary.generated_at.isoformat()],
        ["published_at", published],
    ]
    for key, value in summary.criteria.items():
        facts.append([f"criteria.{key}", json.dumps(value, ensure_ascii=False)])
    for row in facts:
        about.append([spreadsheet_cell(value, about) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def to_xlsx(summary: SubstitutionListSummary, chunks: Chunks) -> AsyncIterator[bytes]:
    """The workbook, made in a worker thread once every row is read (a zip file is written
    whole)."""
    rows = [_row(entry) async for chunk in chunks for entry in chunk]
    yield await asyncio.to_thread(_workbook, summary, rows)


_ENTRIES = TypeAdapter(list[Entry])
_EMPTY = b'"entries":[]}'


def _entries_json(chunk: list[dict[str, Any]]) -> bytes:
    """The entries, validated, as the items of a JSON list (no brackets)."""
    return _ENTRIES.dump_json(_ENTRIES.validate_python(chunk), by_alias=True)[1:-1]


async def to_json(summary: SubstitutionListSummary, chunks: Chunks) -> AsyncIterator[bytes]:
    """The list as `GET /substitution-lists/{id}` shows it with every entry, written a chunk
    of entries at a time (each validated and encoded in a worker thread)."""
    whole = SubstitutionList(**summary.model_dump(), entries=[]).model_dump_json(by_alias=True)
    head = whole.encode("utf-8")
    if not head.endswith(_EMPTY):  # the entries come last in `SubstitutionList`
        raise RuntimeError("SubstitutionList no longer ends with its entries")
    yield head[: -len(_EMPTY)] + b'"entries":['
    after = b""
    async for chunk in chunks:
        if chunk:
            yield after + await asyncio.to_thread(_entries_json, chunk)
            after = b","
    yield b"]}"


def written(format: str, summary: SubstitutionListSummary, chunks: Chunks) -> AsyncIterator[bytes]:
    """The export in `format` (csv, xlsx or json) of the list `summary` whose entries are
    `chunks` (from `ListService.entry_chunks`, with spec comparisons for json only)."""
    if format == "csv":
        return to_csv(chunks)
    if format == "xlsx":
        return to_xlsx(summary, chunks)
    return to_json(summary, chunks)
