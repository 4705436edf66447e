"""FRED (St. Louis Fed) single-series CSV downloads: trade with China, unemployment, CNY-USD,
the federal funds rate and trade-policy uncertainty.

FRED serves every series in one shape, ``<date column>,<SERIES>``, so one parser covers all of
them. Older downloads call the date column ``DATE``, newer ones ``observation_date``; '.' marks
a month with no release (the 2025 shutdown left UNRATE 2025-10 empty).
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, date, number, read_csv

DATE_COLUMNS = ("observation_date", "DATE")


def parse_series(series: str):
    """A parser for one FRED series, in long form: (series, date, value)."""

    def parse(content: bytes, file: str) -> Parsed:
        # Only the first line is looked at here (read_csv decodes and checks the whole file).
        first = content.partition(b"\n")[0].decode("utf-8-sig", errors="replace")
        header = next(iter(first.splitlines()), "").split(",")
        date_column = next((c for c in DATE_COLUMNS if c in header), DATE_COLUMNS[0])
        parsed = read_csv(content, file, {date_column: date(), series: number()}, key=[date_column])
        rows = parsed.rows.select(
            pl.lit(series).alias("series"),
            pl.col(date_column).cast(pl.Date).alias("date"),
            pl.col(series).cast(pl.Float64).alias("value"),
        )
        return parsed.with_rows(rows)

    return parse


def _dataset(series: str, bundled: str) -> Dataset:
    return Dataset(series, bundled, f"/graph/fredgraph.csv?id={series}", parse_series(series))


SOURCE = Source(
    name="fred",
    description="FRED series: US goods trade with China, UNRATE, DEXCHUS, FEDFUNDS, EPUTRADE",
    table="raw_fred",
    schema={"series": pl.String(), "date": pl.Date(), "value": pl.Float64()},
    key=("series", "date"),
    base_url="https://fred.stlouisfed.org",
    licence="US government works (Census, BLS, Federal Reserve): public domain; "
    "EPUTRADE is Baker-Bloom-Davis, free with citation",
    datasets=(
        _dataset("EXPCH", "fred_us-china-goods-trade/EXPCH_2016-2026.csv"),
        _dataset("IMPCH", "fred_us-china-goods-trade/IMPCH_2016-2026.csv"),
        _dataset("UNRATE", "fred_us-macro/UNRATE.csv"),
        _dataset("DEXCHUS", "manyagoyall_research-trade-policy/USD_CNY_Exchange_Rate.csv"),
        _dataset("FEDFUNDS", "manyagoyall_research-trade-policy/US_Federal_Funds_Rate.csv"),
        _dataset("EPUTRADE", "manyagoyall_research-trade-policy/EPUTRADE.csv"),
    ),
)
