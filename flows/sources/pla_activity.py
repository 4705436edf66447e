"""PLA aircraft and navy vessels detected around Taiwan, daily, 2015-03 to 2026-08.

An international-tension indicator that moves within weeks, unlike annual or survey-based ones.
Taiwan's Ministry of National Defense publishes a daily count of PLA aircraft and PLAN vessels
around Taiwan; the repository ``s0914712/pla-data-dashboard`` scrapes those reports every day
into ``data/JapanandBattleship.csv`` (merged with Japan's Joint Staff ship-passage notices,
the Chinese-named columns, which are not kept here). The live path reads that file from the
repository's raw GitHub URL; the bundle is a copy of it.

Format: a UTF-8 byte-order mark, dates as ``YYYY/MM/DD``, counts written as floats (``76.0``).

Missing is not zero. The file has a row only for days with a report. Before Taiwan's MND began
daily reports in September 2020 (:data:`DAILY_REPORTS_START`), rows exist only for days with a
publicised incident, so the days in between are *unreported*, not calm: the table keeps the
rows as published and the panel uses days from September 2020 only. Vessel counts start in 2022;
earlier rows have an empty cell, stored as null. Two rows (2022-06-01, 2026-08-16) carry only
Japanese notices: both counts are null, never 0. The publisher's caveat that some missing days
read 0 (2025-04-01 reads 0 beside 76 the next day) cannot be told apart from a real calm day, so
those zeros are kept as published.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, date, number, read_csv

DAILY_REPORTS_START = dt.date(2020, 9, 1)


def count(text: str) -> int | None:
    """A whole, non-negative count written as an integer or a float with no fraction."""
    value = number()(text)
    if value is None:
        return None
    if value < 0 or value != int(value):
        raise ValueError(f"not a whole non-negative count: {text!r}")
    return int(value)


def parse(content: bytes, file: str) -> Parsed:
    """One row per reported day: aircraft and vessel counts, nulls where the cell is empty."""
    columns = {
        "date": date("%Y/%m/%d"),
        "pla_aircraft_sorties": count,
        "plan_vessel_sorties": count,
    }
    parsed = read_csv(content, file, columns, key=["date"])
    rows = parsed.rows.select(
        pl.col("date").cast(pl.Date),
        pl.col("pla_aircraft_sorties").cast(pl.Int64).alias("aircraft"),
        pl.col("plan_vessel_sorties").cast(pl.Int64).alias("vessels"),
    )
    return parsed.with_rows(rows)


def monthly_activity(daily: pl.DataFrame) -> pl.DataFrame:
    """Per month from :data:`DAILY_REPORTS_START`: mean aircraft and vessels per reported day,
    and the number of days with an aircraft count.

    A mean per reported day, not a monthly sum: a month with unreported days would otherwise
    look calmer than it was. A month with no reported day has no row (null in the panel).
    """
    return (
        daily.filter(pl.col("date") >= DAILY_REPORTS_START)
        .group_by(pl.col("date").dt.truncate("1mo").alias("month"))
        .agg(
            pl.col("aircraft").cast(pl.Float64).sort().mean().alias("pla_aircraft_per_day"),
            pl.col("vessels").cast(pl.Float64).sort().mean().alias("pla_vessels_per_day"),
            pl.col("aircraft").is_not_null().sum().cast(pl.Int64).alias("pla_days_reported"),
        )
        .filter(pl.col("pla_days_reported") > 0)
        .sort("month")
    )


SOURCE = Source(
    name="pla_activity",
    description="PLA aircraft and vessels around Taiwan (Taiwan MND), daily, 2015 onward",
    table="raw_pla_activity",
    schema={"date": pl.Date(), "aircraft": pl.Int64(), "vessels": pl.Int64()},
    key=("date",),
    base_url="https://raw.githubusercontent.com/s0914712/pla-data-dashboard/HEAD",
    licence="None stated (figures of Taiwan's Ministry of National Defense)",
    datasets=(
        Dataset(
            "daily",
            "taiwan-mnd_pla-activity/JapanandBattleship.csv",
            "/data/JapanandBattleship.csv",
            parse,
        ),
    ),
)
