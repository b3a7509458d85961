"""Exports of a substitution list: CSV (UTF-8 with BOM, for Excel), XLSX and JSON."""

import csv
import io
import json

from openpyxl import Workbook
from openpyxl.styles import Font

from instcat.substitution.schemas import Entry, SubstitutionList

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


def _row(entry: Entry) -> list[object]:
    product = entry.product
    replaces = "; ".join(
        f"{r.reference.vendor_name_en} {r.reference.model} (#{r.reference.id}): {r.grade}"
        for r in entry.replaces
    )
    evidence = entry.evidence
    return [
        entry.category,
        product.id,
        f"{product.model} {product.name}".strip(),
        product.vendor_name_zh,
        product.vendor_name_en,
        entry.grade,
        replaces,
        evidence.accepted_trials,
        " ".join(str(t.id) for t in evidence.trials),
        evidence.feedback.count,
        evidence.feedback.overall if evidence.feedback.overall is not None else "",
        evidence.service.response_hours if evidence.service.response_hours is not None else "",
        "yes" if product.illustrative else "no",
    ]


def to_csv(document: SubstitutionList) -> bytes:
    """CSV with a byte-order mark so that Excel reads the Chinese text as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(_row(e) for e in document.entries)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(document: SubstitutionList) -> bytes:
    """A real workbook: the entries sheet with a header row, and the criteria sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "entries"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in document.entries:
        sheet.append(_row(entry))
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet("list")
    about.append(["label", document.label])
    about.append(["status", document.status])
    about.append(["domestic_rule", document.domestic_rule])
    about.append(["generated_at", document.generated_at.isoformat()])
    about.append(
        ["published_at", document.published_at.isoformat() if document.published_at else ""]
    )
    for key, value in document.criteria.items():
        about.append([f"criteria.{key}", json.dumps(value, ensure_ascii=False)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_json(document: SubstitutionList) -> bytes:
    return document.model_dump_json(by_alias=True).encode("utf-8")
