"""Baker, Bloom & Davis economic policy uncertainty (EPU) indices, monthly, 1985-01 to 2025-10.

Publisher: https://www.policyuncertainty.com, workbook
https://www.policyuncertainty.com/media/All_Country_Data.xlsx (sheet ``EPU``). Free to use
with citation (the citations are in the bundle's ``All_Country_Data_EPU_notes.csv``).

Known shortcut, as for GPR: the publisher ships only the .xlsx workbook and the project has no
Excel reader, so the workbook is not parsed. The bundle is a CSV of the workbook's numeric rows
(taken from the repository ``jonorice/epu``, where it is no longer at HEAD, so there is no live
CSV mirror). The dataset therefore has no live path and ``winset ingest --live`` reads the
bundled file, as it does for curated data; refreshing EPU means replacing that file.

Kept series: ``US``, ``China`` (the hybrid index), ``Mainland China``, ``SCMP China`` and the
global ``GEPU_current``. Many cells are blank (series start at different dates and some
stop); blanks are kept as null values. The workbook's yellow highlighting of imputed values
was lost in the conversion.
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, integer, long_form, number, read_csv

SERIES = ("US", "China", "Mainland China", "SCMP China", "GEPU_current")


def parse(content: bytes, file: str) -> Parsed:
    """Long form: one row per (series, month), the month built from the Year and Month cells."""
    columns = {
        "Year": integer(missing=(), minimum=1900),
        "Month": integer(missing=(), minimum=1, maximum=12),
    } | {s: number() for s in SERIES}
    parsed = read_csv(content, file, columns, key=["Year", "Month"])
    wide = parsed.rows.select(
        pl.date(pl.col("Year").cast(pl.Int32), pl.col("Month").cast(pl.Int8), 1).alias("month"),
        *SERIES,
    )
    return Parsed(long_form(wide, "month", SERIES), parsed.rejects)


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
            "",  # the publisher serves only .xlsx (see above)
            parse,
        ),
    ),
)
