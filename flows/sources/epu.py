"""Baker, Bloom & Davis economic policy uncertainty (EPU) indices, monthly, 1985-01 to 2025-10.

Publisher: https://www.policyuncertainty.com, workbook
https://www.policyuncertainty.com/media/All_Country_Data.xlsx (sheet ``EPU``), which ``--live``
reads. Free to use with citation (the citations are in the bundle's
``All_Country_Data_EPU_notes.csv``).

Two forms of the same table, told apart by their first bytes:

* the publisher's .xlsx workbook: sheet ``EPU``, the header in row 1 (``Year``, ``Month``,
  ``GEPU_current``, ``GEPU_ppp``, one column per country), one row per month, then text rows
  in column A (a note that yellow-highlighted values are imputed, and the citations), which
  end the table. Read with :mod:`flows.sources.excel`; a cell that does not convert refuses
  the workbook.
* the bundled CSV of the workbook's numeric rows, taken from the repository ``jonorice/epu``
  (where it is no longer at HEAD, so there is no CSV mirror to refresh from).

Kept series: ``US``, ``China`` (the hybrid index), ``Mainland China``, ``SCMP China`` and the
global ``GEPU_current``. Many cells are blank (series start at different dates and some
stop); blanks are kept as null values. The workbook's yellow highlighting of imputed values
is not read (calamine reads values, not formats), as it was lost in the bundle's conversion.
"""

from __future__ import annotations

import polars as pl

from flows.sources import excel
from flows.sources.base import Dataset, Parsed, Source, integer, long_form, number, read_csv

SERIES = ("US", "China", "Mainland China", "SCMP China", "GEPU_current")
SHEET = "EPU"


def _footer(cells: list[str]) -> bool:
    """The notes under the table: text (or nothing) in column A, no month in column B."""
    return len(cells) > 1 and not cells[1].strip() and not cells[0].strip().isdigit()


def parse(content: bytes, file: str) -> Parsed:
    """Long form: one row per (series, month), the month built from the Year and Month cells."""
    columns = {
        "Year": integer(missing=(), minimum=1900),
        "Month": integer(missing=(), minimum=1, maximum=12),
    } | {s: number() for s in SERIES}
    if excel.is_workbook(content):
        parsed = excel.read_sheet(
            content, file, SHEET, columns, numeric=SERIES, key=["Year", "Month"], stop=_footer
        )
    else:
        parsed = read_csv(content, file, columns, key=["Year", "Month"])
    wide = parsed.rows.select(
        pl.date(pl.col("Year").cast(pl.Int32), pl.col("Month").cast(pl.Int8), 1).alias("month"),
        *SERIES,
    )
    return parsed.with_rows(long_form(wide, "month", SERIES))


SOURCE = Source(
    name="epu",
    description="Baker-Bloom-Davis economic policy uncertainty: US, China (hybrid, mainland, "
    "SCMP) and global, monthly",
    table="raw_epu",
    schema={"series": pl.String(), "month": pl.Date(), "value": pl.Float64()},
    key=("series", "month"),
    base_url="https://www.policyuncertainty.com",
    licence="Free to use with citation of Baker, Bloom and Davis (2016); no licence stated",
    datasets=(
        Dataset(
            "all_country",
            "baker-bloom-davis_epu/All_Country_Data_EPU.csv",
            "/media/All_Country_Data.xlsx",
            parse,
        ),
    ),
)
