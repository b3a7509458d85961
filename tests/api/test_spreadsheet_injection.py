"""A list's CSV and XLSX exports never carry a vendor's text as a spreadsheet formula."""

import csv
import io

import openpyxl
import pytest

# What starts a formula in a spreadsheet (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MODEL = '=HYPERLINK("http://evil.example/","LC-660")'
NAME = "@SUM(1+1) liquid chromatograph"
VENDOR_EN = "=2+3 Hanon"
VENDOR_ZH = "+汉诺仪器"
REFERENCE_EN = "-Agilent Technologies"
CATEGORY_EN = "=1+1 HPLC"
LABEL = "=cmd|' /C calc'!A0"


@pytest.fixture
def hostile(seeded):
    """The bundled data after a vendor and an admin typed formulas into names, and a
    published HPLC list labelled with one."""
    products = seeded.get("/products", params={"limit": 200}).json()["items"]
    ids = {(p["vendor"], p["model"]): p["id"] for p in products}
    hanon = seeded.user("vendor", vendor="hanon")
    product_id = ids[("hanon", "LC-660")]
    patched = seeded.patch(f"/products/{product_id}", hanon, json={"model": MODEL, "name": NAME})
    assert patched.status_code == 200, patched.text
    names = {"name_en": VENDOR_EN, "name_zh": VENDOR_ZH}
    assert seeded.patch("/vendors/hanon", hanon, json=names).status_code == 200
    admin = seeded.admin_token
    for path, name in (("/vendors/agilent", REFERENCE_EN), ("/categories/hplc", CATEGORY_EN)):
        assert seeded.patch(path, admin, json={"name_en": name}).status_code == 200
    reviewer = seeded.user("reviewer")
    body = {"label": LABEL, "categories": ["hplc"], "min_grade": "C"}
    made = seeded.post("/substitution-lists", reviewer, json=body)
    assert made.status_code == 201, made.text
    list_id = made.json()["id"]
    assert seeded.post(f"/substitution-lists/{list_id}/publish", reviewer).status_code == 200

    def export(fmt):
        response = seeded.get(f"/substitution-lists/{list_id}/export", params={"format": fmt})
        assert response.status_code == 200, response.text
        return response.content

    return export, product_id


def _by_product(header, rows, product_id):
    [row] = [r for r in rows if r[header.index("product_id")] == product_id]
    return dict(zip(header, row, strict=True))


def test_csv_cells_starting_a_formula_are_prefixed_and_numbers_stay_numbers(hostile):
    export, product_id = hostile
    text = export("csv").decode("utf-8-sig")

    header, *rows = list(csv.reader(io.StringIO(text)))
    row = _by_product(header, rows, str(product_id))
    assert row["product"] == f"'{MODEL} {NAME}"
    assert row["vendor_en"] == f"'{VENDOR_EN}"
    assert row["vendor_zh"] == f"'{VENDOR_ZH}"
    assert row["replaces"].startswith(f"'{REFERENCE_EN} ")
    for cells in rows:
        for cell in cells:
            assert not cell.startswith(FORMULA_START), cell
    assert CATEGORY_EN not in text  # the export shows the category's code, not its names

    # Text is quoted (a ";" inside cannot start a cell) and numbers are not: read back so,
    # the numbers come out as floats.
    header, *rows = list(csv.reader(io.StringIO(text), quoting=csv.QUOTE_NONNUMERIC))
    row = _by_product(header, rows, float(product_id))
    assert row["vendor_en"] == f"'{VENDOR_EN}"
    assert isinstance(row["feedback_count"], float) and isinstance(row["accepted_trials"], float)


def test_xlsx_cells_are_text_never_formulas_and_numbers_stay_numbers(hostile):
    export, product_id = hostile
    workbook = openpyxl.load_workbook(io.BytesIO(export("xlsx")))

    for sheet in workbook.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    entries = workbook["entries"]
    header = [c.value for c in next(entries.iter_rows(max_row=1))]
    rows = [[c for c in r] for r in entries.iter_rows(min_row=2)]
    cells = _by_product(header, [[c.value for c in r] for r in rows], product_id)
    assert cells["product"] == f"{MODEL} {NAME}"
    assert cells["vendor_en"] == VENDOR_EN
    assert cells["vendor_zh"] == VENDOR_ZH
    assert cells["replaces"].startswith(f"{REFERENCE_EN} ")
    [typed] = [r for r in rows if r[header.index("product_id")].value == product_id]
    assert typed[header.index("product_id")].data_type == "n"
    assert typed[header.index("feedback_count")].data_type == "n"
    about = {row[0].value: row[1] for row in workbook["list"].iter_rows()}
    assert (about["label"].value, about["label"].data_type) == (LABEL, "s")
    every_text = {c.value for r in rows for c in r if isinstance(c.value, str)}
    assert CATEGORY_EN not in every_text
