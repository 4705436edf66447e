"""Publishers' workbooks built from the bundle's real CSV copies, in the publishers' layouts.

The bundle keeps CSV exports of GPR's ``data_gpr_export.xls`` and EPU's
``All_Country_Data.xlsx``; these helpers turn them back into workbooks laid out as the
publishers serve them (see the connectors' docstrings), so the live path is exercised on the
bundle's own numbers: every number cell a float, every date a date cell, blanks left empty.
Named ``*_built_from_bundle`` wherever a test uses them, since no real workbook is shipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

import xlsxwriter
import xlwt

from flows.sources import epu, gpr

Cell = str | float | dt.datetime | None


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _number_or_text(text: str) -> Cell:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def gpr_xls_built_from_bundle(
    data_dir: Path, edit: Callable[[list[list[Cell]]], None] | None = None, sheet: str = "Sheet1"
) -> bytes:
    """``data_gpr_export.xls`` as the publisher serves it: sheet ``Sheet1``, ``month`` a date
    cell, numbers as numbers, the codebook columns as text. ``edit`` may change the cells
    (row 0 is the header) before the workbook is written. The unedited workbook is built once
    per test process (writing its 174,000 cells takes over a second)."""
    if edit is None and sheet == "Sheet1":
        return _gpr_xls(data_dir)
    return _build_gpr_xls(data_dir, edit, sheet)


@cache
def _gpr_xls(data_dir: Path) -> bytes:
    return _build_gpr_xls(data_dir, None, "Sheet1")


def _build_gpr_xls(
    data_dir: Path, edit: Callable[[list[list[Cell]]], None] | None, sheet: str
) -> bytes:
    rows = _rows(data_dir / gpr.SOURCE.dataset("gpr_export").bundled)
    header, body = rows[0], rows[1:]
    cells: list[list[Cell]] = [list(header)]
    text_columns = {header.index("var_name"), header.index("var_label")}
    for row in body:
        out: list[Cell] = [dt.datetime.strptime(row[0], "%d/%m/%Y")]
        for i, value in enumerate(row[1:], start=1):
            out.append((value or None) if i in text_columns else _number_or_text(value))
        cells.append(out)
    if edit:
        edit(cells)
    book = xlwt.Workbook()
    ws = book.add_sheet(sheet)
    as_date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write(r, c, value, as_date)
            elif value is not None:
                ws.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def epu_xlsx_built_from_bundle(
    data_dir: Path, edit: Callable[[list[list[Cell]]], None] | None = None, sheet: str = "EPU"
) -> bytes:
    """``All_Country_Data.xlsx`` as the publisher serves it: sheet ``EPU``, the numeric rows,
    then the notes (the bundle's ``All_Country_Data_EPU_notes.csv``) as text in column A."""
    folder = data_dir / Path(epu.SOURCE.dataset("all_country").bundled).parent
    rows = _rows(folder / "All_Country_Data_EPU.csv")
    cells: list[list[Cell]] = [list(rows[0])]
    cells += [[_number_or_text(v) for v in row] for row in rows[1:]]
    notes = _rows(folder / "All_Country_Data_EPU_notes.csv")[1:]  # its header is "note"
    cells += [[row[0] if row and row[0] else None] for row in notes]
    if edit:
        edit(cells)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet(sheet)
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    book.close()
    return buffer.getvalue()
