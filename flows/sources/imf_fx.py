"""IMF exchange rates, yuan (CNY) per US dollar, daily, 2001-01-02 to 2019-12-30.

FRED's DEXCHUS download in the bundle only starts in 2016-08, so this file carries the
exchange rate back to 2001, alongside the Census trade series from the same repository.

The bundle is ``assets/exchange-rates.csv`` of the repository
``mizydorczyk/relationship-between-trade-and-the-exchange-rate``, which exported it from the
IMF exchange-rate query; the IMF query page is not a stable file URL, so the live path reads
the mirror's raw GitHub copy, a finished project's snapshot ending in 2019-12: a live
download never brings newer days. Format: ``Date;CNY;JPY;KRW;USD`` with dates like "02-Jan-2001".
Only CNY is kept. Days when the IMF has other currencies but no CNY quote are kept with a
null rate, as FRED's '.' days are, so the table mirrors the file.
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, date, number, read_csv
from flows.sources.census_trade import MIRROR


def parse(content: bytes, file: str) -> Parsed:
    """One row per day: (date, cny_per_usd)."""
    parsed = read_csv(
        content, file, {"Date": date("%d-%b-%Y"), "CNY": number()}, key=["Date"], delimiter=";"
    )
    rows = parsed.rows.select(
        pl.col("Date").cast(pl.Date).alias("date"),
        pl.col("CNY").cast(pl.Float64).alias("cny_per_usd"),
    )
    return parsed.with_rows(rows)


SOURCE = Source(
    name="imf_fx",
    description="IMF daily CNY per USD, 2001-2019 (before FRED DEXCHUS starts)",
    table="raw_imf_fx",
    schema={"date": pl.Date(), "cny_per_usd": pl.Float64()},
    key=("date",),
    base_url=MIRROR,
    licence="IMF data, free to use with attribution; mirror states no licence",
    datasets=(
        Dataset(
            "cny_per_usd",
            "census_c5700_2001-2019/imf-exchange-rates-cny-jpy-krw-per-usd.csv",
            "/assets/exchange-rates.csv",
            parse,
        ),
    ),
)
