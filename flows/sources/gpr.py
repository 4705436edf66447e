"""Caldara & Iacoviello geopolitical risk (GPR) index, monthly, 1900-01 to 2025-12.

Publisher: Dario Caldara and Matteo Iacoviello, "Measuring Geopolitical Risk", AER 2022,
https://www.matteoiacoviello.com/gpr.htm; the data file is
https://www.matteoiacoviello.com/gpr_files/data_gpr_export.xls. Free to use with citation.

Known shortcut: the publisher ships only that .xls workbook and the project has no Excel
reader, so the workbook is not parsed. The bundle is the CSV export kept in the repository
``andreaskoul/geo_index_dcb`` (``data_gpr_export.csv``), and the live path reads that CSV
from the mirror's raw GitHub URL. The mirror is a snapshot and may lag the publisher; point
the base URL at any server holding a fresh CSV export of the workbook to refresh it.

Format: ``month`` as dd/mm/yyyy (day always 01), a UTF-8 byte-order mark, and two trailing
codebook columns (``var_name``, ``var_label``) that describe the variables, not the month.

Kept series: the global index and its threats/acts split (``GPR``, ``GPRT``, ``GPRA``) and
the country shares for China, the US, Taiwan, Russia and Ukraine (``GPRC_*``, percent of
articles). They start in 1985-01; earlier months are blank in the file and null here.
"""

from __future__ import annotations

import polars as pl

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


def parse(content: bytes, file: str) -> Parsed:
    """Long form: one row per (series, month); blank cells are null values."""
    columns = {"month": month("%d/%m/%Y")} | {s: number() for s in SERIES}
    parsed = read_csv(content, file, columns, key=["month"])
    wide = parsed.rows.with_columns(pl.col("month").cast(pl.Date))
    return Parsed(long_form(wide, "month", SERIES), parsed.rejects)


SOURCE = Source(
    name="gpr",
    description="Caldara-Iacoviello geopolitical risk: global GPR and China/US/Taiwan/"
    "Russia/Ukraine country shares, monthly",
    table="raw_gpr",
    schema={"series": pl.String(), "month": pl.Date(), "value": pl.Float64()},
    key=("series", "month"),
    base_url="https://raw.githubusercontent.com/andreaskoul/geo_index_dcb/HEAD",
    licence="Free to use with citation of Caldara and Iacoviello (2022); mirror states none",
    datasets=(
        Dataset(
            "gpr_export",
            "caldara-iacoviello_gpr/data_gpr_export.csv",
            "/data_gpr_export.csv",
            parse,
        ),
    ),
)
