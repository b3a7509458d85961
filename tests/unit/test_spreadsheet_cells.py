"""The one helper every export writer puts its cells through."""

import io

import openpyxl
import pytest
from openpyxl import Workbook

from instcat.substitution.export import spreadsheet_cell

STARTS = ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\t=1+2", "\r=1+2"]


@pytest.mark.parametrize("text", STARTS)
def test_csv_text_starting_a_formula_gets_an_apostrophe(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Hanon LC-660", "汉诺", "", "a=b", "1-2", 7, 4.5, None])
def test_other_csv_values_are_left_alone(value):
    assert spreadsheet_cell(value) == value


@pytest.mark.parametrize("text", [*STARTS, "#N/A", "plain", "a=b"])
def test_workbook_text_is_a_string_cell_holding_the_text(text):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("s")
    sheet.append([spreadsheet_cell(text, sheet), spreadsheet_cell(3, sheet), "after"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    [[cell, number, after]] = openpyxl.load_workbook(buffer)["s"].iter_rows()
    assert (cell.value, cell.data_type) == (text.replace("\r", "\n"), "s")
    assert (number.value, number.data_type) == (3, "n")
    # openpyxl binds the next raw value onto the helper's cell object once written: harmless.
    assert (after.value, after.data_type) == ("after", "s")
