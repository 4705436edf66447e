"""US consumer prices: BLS CPI-U, US city average, all items (1982-84 = 100), monthly, from 1913.

Needed to deflate the nominal trade series and as a domestic economic-pressure driver. The
file is the datahub.io core package ``cpi-us`` (``cpiai.csv``), which takes the BLS series
CUUR0000SA0 from the BLS API and adds the month-on-month change; datahub.io serves the CSV
itself, so the live path is the real file.

Format: ``Date,Index,Inflation``, Date the first of the month, Inflation in percent. The first
month (1913-01) has no previous month, so its Inflation is blank and null here. 2025-10 is
absent: BLS published no October 2025 CPI during the government shutdown, and the file's
2025-11 Inflation is the change from 2025-09.
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, month, number, read_csv, required_number


def parse(content: bytes, file: str) -> Parsed:
    """One row per month: (month, cpi_index, inflation_mom_pct)."""
    parsed = read_csv(
        content,
        file,
        {"Date": month(), "Index": required_number(), "Inflation": number()},
        key=["Date"],
    )
    rows = parsed.rows.select(
        pl.col("Date").cast(pl.Date).alias("month"),
        pl.col("Index").cast(pl.Float64).alias("cpi_index"),
        pl.col("Inflation").cast(pl.Float64).alias("inflation_mom_pct"),
    )
    return parsed.with_rows(rows)


SOURCE = Source(
    name="cpi",
    description="BLS CPI-U all items, US city average (1982-84=100), monthly, via datahub.io",
    table="raw_cpi",
    schema={"month": pl.Date(), "cpi_index": pl.Float64(), "inflation_mom_pct": pl.Float64()},
    key=("month",),
    base_url="https://datahub.io",
    licence="ODC-PDDL-1.0 (datahub.io package); BLS data are public domain",
    datasets=(Dataset("cpiai", "datahub_cpi-us/cpiai.csv", "/core/cpi-us/r/cpiai.csv", parse),),
)
