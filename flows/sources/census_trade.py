"""US Census Bureau, "Trade in Goods with China" (country code 5700): monthly US exports to,
imports from and balance with China, 2001-01 to 2019-12, millions of USD, not seasonally adjusted.

It fills the years before FRED's EXPCH/IMPCH downloads in the bundle start (2016), so the trade
series can reach back to China's WTO accession.

The publisher's page, https://www.census.gov/foreign-trade/balance/c5700.html, is an HTML table,
not a file. The bundle is the semicolon CSV that the repository
``mizydorczyk/relationship-between-trade-and-the-exchange-rate`` made from that page (its
``assets/usa-china-trade-data.csv``), so the live path downloads the same CSV from that
mirror's raw GitHub URL, not from census.gov. The mirror is a finished project's snapshot
ending in 2019-12, so a live download re-reads the same months and never brings newer ones.

Format: ``Month;Exports;Imports;Balance``, months written "January 2001", a thousands
separator ("1,187.5") and CRLF line endings.
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, month, read_csv, required_number

MIRROR = "https://raw.githubusercontent.com/mizydorczyk/relationship-between-trade-and-the-exchange-rate/HEAD"


def parse(content: bytes, file: str) -> Parsed:
    """One row per month: (month, exports, imports, balance)."""
    amount = required_number(thousands=",")
    parsed = read_csv(
        content,
        file,
        {"Month": month("%B %Y"), "Exports": amount, "Imports": amount, "Balance": amount},
        key=["Month"],
        delimiter=";",
    )
    rows = parsed.rows.select(
        pl.col("Month").cast(pl.Date).alias("month"),
        pl.col("Exports").cast(pl.Float64).alias("exports"),
        pl.col("Imports").cast(pl.Float64).alias("imports"),
        pl.col("Balance").cast(pl.Float64).alias("balance"),
    )
    return parsed.with_rows(rows)


SOURCE = Source(
    name="census_trade",
    description="Census c5700: monthly US goods trade with China 2001-2019 (millions USD)",
    table="raw_census_trade",
    schema={
        "month": pl.Date(),
        "exports": pl.Float64(),
        "imports": pl.Float64(),
        "balance": pl.Float64(),
    },
    key=("month",),
    base_url=MIRROR,
    licence="US government work (Census Bureau): public domain; mirror states no licence",
    datasets=(
        Dataset(
            "c5700",
            "census_c5700_2001-2019/usa-china-trade-data.csv",
            "/assets/usa-china-trade-data.csv",
            parse,
        ),
    ),
)
