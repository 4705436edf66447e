"""Caldara & Iacoviello geopolitical risk (GPR) index, monthly, 1900-01 to 2025-12.

Publisher: Dario Caldara and Matteo Iacoviello, "Measuring Geopolitical Risk", AER 2022,
https://www.matteoiacoviello.com/gpr.htm; the data file is the workbook
https://www.matteoiacoviello.com/gpr_files/data_gpr_export.xls, which ``--live`` reads. Free
to use with citation.

Two forms of the same table, told apart by their first bytes:

* the publisher's .xls workbook: sheet ``Sheet1``, the header in row 1, ``month`` a date cell
  (the first of the month), one number column per index, and two codebook columns
  (``var_name``, ``var_label``) that describe the variables, not the month. Read with
  :mod:`flows.sources.excel`; a cell that does not convert refuses the workbook.
* the bundled CSV export of that workbook, kept in the repository ``andreaskoul/geo_index_dcb``
  (``data_gpr_export.csv``): ``month`` as dd/mm/yyyy, a UTF-8 byte-order mark, the same
  columns. The bundle keeps it, so ``make run`` needs no Excel file.

Kept series: the global index and its threats/acts split (``GPR``, ``GPRT``, ``GPRA``) and
the country shares for China, the US, Taiwan, Russia and Ukraine (``GPRC_*``, percent of
articles). They start in 1985-01; earlier months are blank in the file and null here.
"""

from __future__ import annotations

import polars as pl

from flows.sources import excel
from flows.sources.base import Dataset, Parsed, Source, long_form, month, number, read_csv

SERIES = (
    "GPR",
    "GPRT",
    "GPRA",
    "GPRC_CHN",
    "GPRC_USA",
    "GPRC_TWN",
    "GPRC_RUS",
    "GPRC_UKR",
)
SHEET = "Sheet1"


def parse(content: bytes, file: str) -> Parsed:
    """Long form: one row per (series, month); blank cells are null values."""
    values = {s: number() for s in SERIES}
    if excel.is_workbook(content):
        columns = {"month": month("%Y-%m-%d")} | values
        parsed = excel.read_sheet(content, file, SHEET, columns, numeric=SERIES, key=["month"])
    else:
        columns = {"month": month("%d/%m/%Y")} | values
        parsed = read_csv(content, file, columns, key=["month"])
    wide = parsed.rows.with_columns(pl.col("month").cast(pl.Date))
    return parsed.with_rows(long_form(wide, "month", SERIES))


SOURCE = Source(
    name="gpr",
    description="Caldara-Iacoviello geopolitical risk: global GPR and China/US/Taiwan/"
    "Russia/Ukraine country shares, monthly",
    table="raw_gpr",
    schema={"series": pl.String(), "month": pl.Date(), "value": pl.Float64()},
    key=("series", "month"),
    base_url="https://www.matteoiacoviello.com",
    licence="Free to use with citation of Caldara and Iacoviello (2022); the CSV mirror of the "
    "bundle states none",
    datasets=(
        Dataset(
            "gpr_export",
            "caldara-iacoviello_gpr/data_gpr_export.csv",
            "/gpr_files/data_gpr_export.xls",
            parse,
        ),
    ),
)
