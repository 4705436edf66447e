"""AI-based geopolitical risk by directed country pair (AI-GPR bilateral), monthly, 1960-01 on.

Publisher: Matteo Iacoviello and Jonathan Tong, "Measuring Geopolitical Risk using Artificial
Intelligence" (2025), https://www.matteoiacoviello.com/ai_gpr.html. The publisher serves the
CSV itself at /ai_gpr_files/ai_gpr_bilateral_monthly.csv, so the live path is the real file
(unlike GPR's and EPU's, this file has no workbook version to read).

It is the only dyadic (US-China) tension series in the bundle: the GPR country shares in
:mod:`flows.sources.gpr` are not bilateral. ``GPR_AI`` is the headline index; the pair
columns ``A|B`` are in the same index points (our reading: the part of the month's index
attributed to that ordered pair, A as the source of the risk). The bundled vintage has 100
pairs; the publisher revises the file in place and later vintages carry more pairs and
months, so a live download adds rows rather than matching the bundle byte for byte.

In the bundled file the pair cells of 2026-01..03 are empty strings: they are kept as null
values, while ``GPR_AI`` is filled for those months.
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, long_form, month, number, read_csv

SERIES = (
    "GPR_AI",
    "USA|China",
    "China|USA",
    "China|Taiwan",
    "USA|Russia",
    "Russia|USA",
    "Russia|Ukraine",
)


def parse(content: bytes, file: str) -> Parsed:
    """Long form: one row per (series, month); empty cells are null values."""
    columns = {"Date": month()} | {s: number() for s in SERIES}
    parsed = read_csv(content, file, columns, key=["Date"])
    wide = parsed.rows.select(pl.col("Date").cast(pl.Date).alias("month"), *SERIES)
    return parsed.with_rows(long_form(wide, "month", SERIES))


SOURCE = Source(
    name="ai_gpr",
    description="Iacoviello-Tong AI-GPR: headline index and US/China/Taiwan/Russia/Ukraine "
    "directed pairs, monthly",
    table="raw_ai_gpr",
    schema={"series": pl.String(), "month": pl.Date(), "value": pl.Float64()},
    key=("series", "month"),
    base_url="https://www.matteoiacoviello.com",
    licence="Free to use with citation of Iacoviello and Tong (2025); no licence stated",
    datasets=(
        Dataset(
            "bilateral_monthly",
            "caldara-iacoviello_ai-gpr/ai_gpr_bilateral_monthly.csv",
            "/ai_gpr_files/ai_gpr_bilateral_monthly.csv",
            parse,
        ),
    ),
)
