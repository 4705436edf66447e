"""US-China tariff rates 2015-2026: two MIT-licensed trackers plus hand-read PIIE anchor points.

One long raw table, ``raw_tariffs`` (dataset, series, date, date_precision, value_pct, note,
reference), keyed by (dataset, series, date), so each tracker keeps its own definition and
dates and nothing is spliced at ingest. ``series`` is one of:

* ``us_on_china``: average US tariff on imports from China, percent;
* ``china_on_us``: average Chinese tariff on imports from the US, percent;
* ``us_on_china_2024`` and ``us_on_china_added``: the 2025-26 tracker's two parts, the 2024
  applied rate and the rate its modelled actions add on top (our reading of its README).

Datasets (live paths are relative to https://raw.githubusercontent.com):

* ``mwaugh_us`` / ``mwaugh_china`` -- ``mwaugh0328/tradewar-tracker`` (Michael Waugh),
  ``data/imports_by_naics.csv`` and ``data/exports_by_naics.csv``: the tariff by NAICS3
  industry and month, 2015-01 to 2020-03. The parser averages each month's industries weighted
  by that month's trade with China (``china_trade``), which is how the bundle's
  ``DERIVED_monthly_trade_weighted_tariffs_2015-2020.csv`` was made; reading the published
  files rather than our derived one lets ``--live`` fetch them. The weights change every
  month, so the pre-war months wobble from composition alone. The tracker stopped in 2020, so
  a live download re-reads the same months and never brings newer ones.
* ``redux_china`` -- ``tradewartracker/trade-war-redux-2025``, ``country-by-time.csv``: the
  CHINA rows (one per policy-change date, 2025-02-04 to 2026-08-19) of the tracker's table of
  51 partners. Dates after the tracker's snapshot (2026-07-23 for the bundle) are scheduled
  policy, not observations. All rates are the tracker's model, not collected duties.
* ``piie_anchors`` -- ``timeline/piie_tariff_anchor_points.csv``: rates read from Chad Bown's
  PIIE charts; curated, so no live path. Used to check the bridge in
  :func:`monthly_us_tariff`, not spliced in. Blank China rates (not quoted) are not rows.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.sources.base import (
    Dataset,
    Parsed,
    Source,
    SourceError,
    date,
    month,
    number,
    one_of,
    read_csv,
    required_number,
    text,
)

US_ON_CHINA = "us_on_china"
CHINA_ON_US = "china_on_us"
BASE_2024 = "us_on_china_2024"
ADDED = "us_on_china_added"

MWAUGH_US, MWAUGH_CHINA, REDUX, PIIE = "mwaugh_us", "mwaugh_china", "redux_china", "piie_anchors"

SCHEMA: dict[str, pl.DataType] = {
    "dataset": pl.String(),
    "series": pl.String(),
    "date": pl.Date(),
    "date_precision": pl.String(),
    "value_pct": pl.Float64(),
    "note": pl.String(),
    "reference": pl.String(),
}


def _long(frame: pl.DataFrame, dataset: str, series: str) -> pl.DataFrame:
    """``frame``'s columns named as in the table, in its order; a column it lacks is null."""
    return frame.select(
        pl.lit(dataset).alias("dataset"),
        pl.lit(series).alias("series"),
        *(
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in SCHEMA.items()
            if c not in ("dataset", "series")
        ),
    )


def parse_naics(dataset: str, series: str):
    """A parser for one mwaugh NAICS3 file: the monthly China-trade-weighted mean tariff."""

    def parse(content: bytes, file: str) -> Parsed:
        columns = {
            "time": month(),
            "naics3": text(),
            "tariff_trd_w_avg": number(),
            "china_trade": required_number(),
        }
        parsed = read_csv(content, file, columns, key=["time", "naics3"])
        weighted = (
            parsed.rows.filter(
                pl.col("tariff_trd_w_avg").is_not_null() & (pl.col("china_trade") > 0)
            )
            .group_by(pl.col("time").cast(pl.Date).alias("date"))
            .agg(
                (
                    (pl.col("tariff_trd_w_avg") * pl.col("china_trade")).sum()
                    / pl.col("china_trade").sum()
                ).alias("value_pct")
            )
            .sort("date")
            .with_columns(date_precision=pl.lit("month"))
        )
        return parsed.with_rows(_long(weighted, dataset, series))

    return parse


def parse_redux(content: bytes, file: str) -> Parsed:
    """The CHINA rows of country-by-time.csv, as the 2024 base and the added rate per date."""
    columns = {
        "date": date(),
        "country_name": text(),
        "effective tariff": required_number(),
        "2024 tariff": required_number(),
    }
    parsed = read_csv(content, file, columns, key=["date", "country_name"])
    china = parsed.rows.filter(pl.col("country_name") == "CHINA").with_columns(
        date_precision=pl.lit("day")
    )
    if china.is_empty():
        raise SourceError(file, "no rows for CHINA", field="country_name")
    rows = pl.concat(
        [
            _long(china.rename({"2024 tariff": "value_pct"}), REDUX, BASE_2024),
            _long(china.rename({"effective tariff": "value_pct"}), REDUX, ADDED),
        ]
    )
    return parsed.with_rows(rows)


def parse_piie(content: bytes, file: str) -> Parsed:
    """PIIE anchor points: a US row per date and a China row where the chart gives one."""
    columns = {
        "date": date(),
        "date_precision": one_of(("day", "month")),
        "us_avg_tariff_on_china_pct": required_number(),
        "china_avg_tariff_on_us_pct": number(),
        "note": text(required=False),
        "source": text(required=False),
    }
    parsed = read_csv(content, file, columns, key=["date"])
    anchors = parsed.rows.rename({"source": "reference"})
    us = anchors.rename({"us_avg_tariff_on_china_pct": "value_pct"})
    china = anchors.filter(pl.col("china_avg_tariff_on_us_pct").is_not_null()).rename(
        {"china_avg_tariff_on_us_pct": "value_pct"}
    )
    rows = pl.concat([_long(us, PIIE, US_ON_CHINA), _long(china, PIIE, CHINA_ON_US)])
    return parsed.with_rows(rows)


# --------------------------------------------------------------------------- monthly splice


def monthly_us_tariff(frame: pl.DataFrame, until: dt.date | None = None) -> pl.DataFrame:
    """One monthly US-on-China (and China-on-US) tariff series from 2015-01 to the tracker's end.

    ``frame`` holds raw_tariffs rows (at least the mwaugh and redux datasets). The result has
    (month, us_tariff_pct, china_tariff_pct, tariff_source), without gaps:

    * ``mwaugh``: 2015-01 to 2020-03, the monthly trade-weighted rates of both sides.
    * ``bridged``: 2020-04 to 2025-01, no tracker covers these months, so both rates are the
      last mwaugh month carried forward. Rates did stay near 19-21% (PIIE: 19.3 after Phase
      One, 20.8 at 2025-01-20), but the bridge ignores exclusions that expired or were
      granted and the 2024 Section 301 review increases (EVs, chips); treat it as a flat prior.
    * ``redux``: from 2025-02, ``2024 tariff + effective tariff`` of the tracker policy in force
      on most days of the month (ties go to the later policy; days before the tracker's first
      date count for no policy, so a month mostly before it is bridged instead). One rule per
      month keeps short spikes such as the two days at 125% in 2025-04 from defining a month.
      It ends with the month of the last policy date. China's tariff is null here: the bundle
      has no China-side tracker for 2025-26.

    Caveat: the two trackers measure different things. mwaugh averages statutory MFN + Section
    301 rates; redux starts from the 2024 applied rate (duties collected over imports, 10.9%),
    well below the statutory ~20%, and adds modelled rates. Part of the step at 2025-02 is that
    change of definition, not policy. ``us_tariff_statutory_pct`` therefore puts the redux
    months on the statutory definition (:func:`statutory_shift`); it equals ``us_tariff_pct``
    in the mwaugh and bridged months, and is null in redux months when no PIIE anchor exists.
    """
    observed = _mwaugh_monthly(frame)
    if not frame["dataset"].eq(REDUX).any():
        # A panel cut before 2025 (backtests): bridge through ``until``, the cut's month.
        end = _next_month(until) if until else _next_month(observed["month"].max())
        bridge = _bridge(observed, end)
        return (
            pl.concat(
                [
                    observed.with_columns(pl.lit("mwaugh").alias("tariff_source")),
                    bridge.with_columns(pl.lit("bridged").alias("tariff_source")),
                ]
            )
            .sort("month")
            .with_columns(us_tariff_statutory_pct=pl.col("us_tariff_pct"))
        )
    policy = _redux_monthly(frame)
    bridge = _bridge(observed, policy["month"].min())
    shift = statutory_shift(frame)
    return (
        pl.concat(
            [
                observed.with_columns(pl.lit("mwaugh").alias("tariff_source")),
                bridge.with_columns(pl.lit("bridged").alias("tariff_source")),
                policy.with_columns(
                    pl.lit(None, dtype=pl.Float64).alias("china_tariff_pct"),
                    pl.lit("redux").alias("tariff_source"),
                ).select("month", "us_tariff_pct", "china_tariff_pct", "tariff_source"),
            ]
        )
        .sort("month")
        .with_columns(
            us_tariff_statutory_pct=pl.when(pl.col("tariff_source") == "redux")
            .then(pl.col("us_tariff_pct") + shift)
            .otherwise(pl.col("us_tariff_pct"))
        )
    )


def statutory_shift(frame: pl.DataFrame) -> float | None:
    """Points to add to a redux rate to put it on the statutory definition of 2015-2020.

    Measured, not assumed: the last PIIE anchor on or before the redux tracker's first policy
    date (Bown's statutory average, 20.8% on 2025-01-20 in the bundle) minus the tracker's own
    starting base (its 2024 applied rate, 10.87%). Before 2025 the two statutory sources agree
    (PIIE 19.3% after Phase One against mwaugh's 19.6% in 2020-03), so PIIE can stand for the
    mwaugh definition at the break. None when the frame has no PIIE anchor before the tracker.
    """
    redux = frame.filter((pl.col("dataset") == REDUX) & (pl.col("series") == BASE_2024))
    if redux.is_empty():
        return None
    first = redux.sort("date").row(0, named=True)
    anchors = frame.filter(
        (pl.col("dataset") == PIIE)
        & (pl.col("series") == US_ON_CHINA)
        & (pl.col("date") <= first["date"])
    ).sort("date")
    if anchors.is_empty():
        return None
    return float(anchors["value_pct"][-1]) - float(first["value_pct"])


def _rows_of(frame: pl.DataFrame, *datasets: str) -> pl.DataFrame:
    rows = frame.filter(pl.col("dataset").is_in(datasets))
    missing = [d for d in datasets if d not in set(rows["dataset"])]
    if missing:
        raise ValueError(f"raw_tariffs rows of dataset {missing[0]!r} are needed and absent")
    return rows


def _value(series: str) -> pl.Expr:
    return pl.col("value_pct").filter(pl.col("series") == series).first()


def _mwaugh_monthly(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        _rows_of(frame, MWAUGH_US, MWAUGH_CHINA)
        .group_by(pl.col("date").alias("month"))
        .agg(
            _value(US_ON_CHINA).alias("us_tariff_pct"),
            _value(CHINA_ON_US).alias("china_tariff_pct"),
        )
        .sort("month")
    )


def _redux_monthly(frame: pl.DataFrame) -> pl.DataFrame:
    """The 2024 base plus the added rate of the policy in force on most days of each month."""
    policies = (
        _rows_of(frame, REDUX)
        .group_by(pl.col("date").alias("policy_date"))
        .agg((_value(BASE_2024) + _value(ADDED)).alias("us_tariff_pct"))
        .sort("policy_date")
    )
    first, last = policies["policy_date"].min(), policies["policy_date"].max()
    days = pl.date_range(first.replace(day=1), _month_end(last), eager=True).alias("day")
    in_force = (
        days.to_frame()
        .join_asof(policies, left_on="day", right_on="policy_date", strategy="backward")
        .group_by(pl.col("day").dt.truncate("1mo").alias("month"), "policy_date")
        .agg(pl.len().alias("days"), pl.col("us_tariff_pct").first())
        .sort("month", "days", "policy_date", nulls_last=False)
        .group_by("month", maintain_order=True)
        .last()
    )
    return in_force.filter(pl.col("policy_date").is_not_null()).select("month", "us_tariff_pct")


def _bridge(observed: pl.DataFrame, first_policy_month: dt.date) -> pl.DataFrame:
    """The months between the two trackers, holding the last observed month's rates."""
    last = observed.sort("month").tail(1)
    start = _next_month(last["month"].item())
    if start >= first_policy_month:
        return last.clear()
    months = pl.date_range(
        start, _previous_month(first_policy_month), interval="1mo", eager=True
    ).alias("month")
    return months.to_frame().join(last.drop("month"), how="cross")


def _month_end(day: dt.date) -> dt.date:
    return _next_month(day) - dt.timedelta(days=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _previous_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


SOURCE = Source(
    name="tariffs",
    description="US-China tariff rates: mwaugh tradewar-tracker 2015-2020, tradewartracker "
    "redux 2025-2026, PIIE anchor points",
    table="raw_tariffs",
    schema=SCHEMA,
    key=("dataset", "series", "date"),
    base_url="https://raw.githubusercontent.com",
    licence="MIT (both tradewartracker repositories); PIIE anchors quoted from piie.com charts",
    datasets=(
        Dataset(
            MWAUGH_US,
            "mwaugh0328_tradewar-tracker/imports_by_naics.csv",
            "/mwaugh0328/tradewar-tracker/HEAD/data/imports_by_naics.csv",
            parse_naics(MWAUGH_US, US_ON_CHINA),
        ),
        Dataset(
            MWAUGH_CHINA,
            "mwaugh0328_tradewar-tracker/exports_by_naics.csv",
            "/mwaugh0328/tradewar-tracker/HEAD/data/exports_by_naics.csv",
            parse_naics(MWAUGH_CHINA, CHINA_ON_US),
        ),
        Dataset(
            REDUX,
            "tradewartracker_trade-war-redux-2025/country-by-time.csv",
            "/tradewartracker/trade-war-redux-2025/HEAD/country-by-time.csv",
            parse_redux,
        ),
        Dataset(PIIE, "timeline/piie_tariff_anchor_points.csv", "", parse_piie),
    ),
)
