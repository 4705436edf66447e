"""Publishers' Excel workbooks (.xls and .xlsx), read with Polars' calamine engine.

Why: GPR (``data_gpr_export.xls``) and EPU (``All_Country_Data.xlsx``) are published only as
workbooks, so a live refresh has to read Excel; the bundle keeps the CSV copies it was made
from. A sheet is read with its cells' own types (numbers as 64-bit floats, dates as dates, so
no digit is lost to a text rendering), written out as CSV text with one line per sheet row,
and read by the same strict reader and converters as the CSV files: a workbook and its CSV
export give the same rows.

A publisher's workbook is made by a program, so a cell that does not convert means the layout
changed, not that one row is bad: the workbook is refused with one line naming the file, the
sheet, the row (as Excel numbers it) and the column (name and letter), rather than loaded with
rows missing. A text cell in a column of numbers is refused the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import polars as pl

from flows.sources.base import Converter, Parsed, SourceError, read_csv

# .xls (OLE2 compound file) and .xlsx (a zip) start with these bytes.
_MAGIC = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PK\x03\x04")


def is_workbook(content: bytes) -> bool:
    """Whether ``content`` is an Excel workbook rather than text (a connector reads both)."""
    return content.startswith(_MAGIC)


def column_letter(index: int) -> str:
    """Excel's name of the 0-based column ``index``: A, B, ..., Z, AA, AB, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def read_sheet(
    content: bytes,
    file: str,
    sheet: str,
    columns: Mapping[str, Converter],
    *,
    numeric: Collection[str] = (),
    key: Sequence[str] = (),
    stop: Callable[[list[str]], bool] | None = None,
) -> Parsed:
    """The sheet ``sheet`` (header in row 1) as :func:`~flows.sources.base.read_csv` reads a
    CSV export of it; ``numeric`` columns must hold numbers or blanks; ``stop`` ends the
    table at a footer row (cells as text). Any problem is one :class:`SourceError` line."""
    where = f"{file}, sheet {sheet!r}"
    frame = _load(content, file, sheet)
    header = frame.columns
    missing = [c for c in columns if c not in header]
    if missing:
        raise SourceError(
            where, f"missing column (header has: {', '.join(header)})", row=1, field=missing[0]
        )
    for name in numeric:
        _require_numbers(frame, where, name)
    text = frame.write_csv(include_header=True, date_format="%Y-%m-%d").encode()
    parsed = read_csv(text, where, columns, key=key, stop=stop)
    if not parsed.rejects.is_empty():
        row, field, reason, _ = parsed.rejects.row(0)
        column = f" (column {column_letter(header.index(field))})" if field in header else ""
        raise SourceError(where, f"{reason}{column}", row=row, field=field)
    return Parsed(parsed.rows, rows_read=parsed.rows_read)


def _load(content: bytes, file: str, sheet: str) -> pl.DataFrame:
    """Every row of the sheet (blank ones too, so a line of the CSV is a row of the sheet),
    each column typed from all of its cells."""
    import fastexcel

    try:
        sheets = fastexcel.read_excel(content).sheet_names
    except fastexcel.FastExcelError as exc:
        reason = str(exc).splitlines()[0]
        raise SourceError(file, f"not a readable Excel workbook ({reason})") from None
    if sheet not in sheets:
        raise SourceError(file, f"no sheet {sheet!r} (the workbook has: {', '.join(sheets)})")
    try:
        return pl.read_excel(
            content,
            engine="calamine",
            sheet_name=sheet,
            infer_schema_length=None,
            drop_empty_rows=False,
            drop_empty_cols=False,
        )
    except (fastexcel.FastExcelError, pl.exceptions.PolarsError) as exc:
        reason = str(exc).splitlines()[0]
        raise SourceError(f"{file}, sheet {sheet!r}", f"cannot be read ({reason})") from None


def _require_numbers(frame: pl.DataFrame, where: str, name: str) -> None:
    """Refuse a column of numbers that holds text: calamine then reads the whole column as
    text, and a number rendered as text may have lost digits."""
    column = frame[name]
    if column.dtype.is_numeric() or column.dtype == pl.Null:
        return
    as_number = column.cast(pl.String).cast(pl.Float64, strict=False)
    bad = (column.is_not_null() & as_number.is_null()).arg_true()
    if bad.is_empty():  # numbers typed as text: their text is exact
        return
    index = int(bad[0])
    value = column[index]
    raise SourceError(
        where,
        f"not a number: {value!r} (column {column_letter(frame.columns.index(name))})",
        row=index + 2,  # row 1 is the header
        field=name,
    )
