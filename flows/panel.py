"""The monthly panel: one row per month with every driver and observed series, nulls explicit.

:func:`build_panel` is pure (raw tables in, a frame out) so backtests can call it with an
``as_of`` date and get only what a forecaster could have known then. Each block of columns comes
from one source with a *publication lag*: a month's value counts as known on the first day of
the month ``lag`` months later (Census trade for January is out in early March: lag 2). Event
data (GDELT, the timeline, tariff actions, polls) are cut at ``as_of`` itself. The bundle holds
the latest vintage of each series, not the values first published, so a backtest still sees
later revisions; that is a known limit of the data, not of this function.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from flows.sources import (
    approval,
    approval_votehub,
    china_macro,
    gdelt,
    gdelt_graph,
    pla_activity,
    state_visits,
    tariffs,
    timeline,
    unga,
)
from flows.sources.base import stable_mean
from models.calendar_drivers import months_to_us_election

Raw = Mapping[str, pl.DataFrame]


@dataclass(frozen=True)
class Block:
    """Columns from some raw tables, and the lag in months after which a month is known."""

    name: str
    tables: tuple[str, ...]
    lag_months: int
    build: Callable[..., pl.DataFrame]  # the tables, in order -> month + columns
    takes_as_of: bool = False  # build also receives ``as_of`` (to end a bridge at the cut)


# Event-dated raw tables: rows dated after ``as_of`` are dropped before any block is built.
EVENT_DATES = {
    "raw_gdelt_events": "event_date",
    "raw_gdelt_graph": "date",
    "raw_timeline": "date",
    "raw_tariff_actions": "date",
    "raw_tariffs": "date",
    "raw_approval": "poll_end",
    "raw_approval_votehub": "date_end",
    "raw_pla_activity": "date",
}


# ------------------------------------------------------------------ block builders (raw -> monthly)


def _pivot(frame: pl.DataFrame, names: Mapping[str, str], time: str = "month") -> pl.DataFrame:
    """Long (series, month, value) to wide, renaming series to panel column names."""
    wide = (
        frame.filter(pl.col("series").is_in(list(names)))
        .group_by(pl.col(time).dt.truncate("1mo").alias("month"), "series")
        .agg(stable_mean(pl.col("value")))
        .pivot(on="series", index="month", values="value")
    )
    for series in names:
        if series not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(series))
    return wide.select("month", *(pl.col(s).alias(c) for s, c in names.items()))


def _trade(fred: pl.DataFrame, census: pl.DataFrame) -> pl.DataFrame:
    """Census c5700 to 2015, FRED's current vintage (same Census series) from 2016."""
    recent = _pivot(fred, {"EXPCH": "exports_musd", "IMPCH": "imports_musd"}, time="date")
    first_recent = recent.drop_nulls("exports_musd")["month"].min()
    older = census.filter(pl.col("month") < first_recent).select(
        "month", pl.col("exports").alias("exports_musd"), pl.col("imports").alias("imports_musd")
    )
    both = pl.concat([older, recent]).sort("month")
    return both.with_columns(
        (100 * (pl.col(c) / pl.col(c).shift(12) - 1)).alias(c.replace("_musd", "_yoy_pct"))
        for c in ("exports_musd", "imports_musd")
    )


def _macro(fred: pl.DataFrame) -> pl.DataFrame:
    return _pivot(
        fred, {"UNRATE": "unrate", "FEDFUNDS": "fedfunds", "EPUTRADE": "epu_trade"}, time="date"
    )


def _cny(fred: pl.DataFrame, imf: pl.DataFrame) -> pl.DataFrame:
    """Monthly mean CNY per USD: IMF daily to mid-2016, FRED DEXCHUS after."""
    recent = _pivot(fred, {"DEXCHUS": "cny_per_usd"}, time="date")
    first_recent = recent.drop_nulls()["month"].min()
    older = (
        imf.filter(pl.col("date") < first_recent)
        .group_by(pl.col("date").dt.truncate("1mo").alias("month"))
        .agg(stable_mean(pl.col("cny_per_usd")))
    )
    return pl.concat([older, recent.drop_nulls()]).sort("month")


def _cpi(cpi: pl.DataFrame) -> pl.DataFrame:
    return cpi.sort("month").select(
        "month",
        (100 * (pl.col("cpi_index") / pl.col("cpi_index").shift(12) - 1)).alias("cpi_yoy_pct"),
    )


def _gdelt_events(events: pl.DataFrame) -> pl.DataFrame:
    monthly = gdelt.monthly_aggregate(events)
    quads = [f"quad{q}" for q in range(1, 5)]
    return monthly.select(
        "month",
        pl.col("events").alias("gdelt_events"),
        pl.col("goldstein_mean").alias("gdelt_goldstein"),
        *((pl.col(q) / pl.col("events")).alias(f"gdelt_{q}_share") for q in quads),
    )


def _gdelt_event_types(events: pl.DataFrame) -> pl.DataFrame:
    """Monthly USA–CHN event counts per QuadClass and CAMEO group (consultations, reduced
    relations, sanctions, coercion, force), so the model can tell a month of sanctions from a
    month of talks that happens to have the same mean Goldstein score."""
    monthly = gdelt.monthly_event_types(events)
    return monthly.select("month", *(pl.col(c).alias(f"gdelt_{c}") for c in monthly.columns[1:]))


def _gdelt_graph(daily: pl.DataFrame) -> pl.DataFrame:
    return gdelt_graph.monthly_tone(daily).select("month", "gdelt_edge_share")


def _tariffs(frame: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    monthly = tariffs.monthly_us_tariff(frame, until=as_of).sort("month")
    return monthly.select(
        "month",
        "us_tariff_pct",
        "us_tariff_statutory_pct",
        "china_tariff_pct",
        pl.col("tariff_source"),
        pl.col("us_tariff_pct").diff().alias("us_tariff_change_pts"),
        # A pathway-rule input (data/pathways.yaml): the change where both months are read
        # from a tracker; a bridged month's 0 is a carried value, not a stable tariff.
        pl.when(
            (pl.col("tariff_source") != "bridged").and_(
                pl.col("tariff_source").shift(1) != "bridged"
            )
        )
        .then(pl.col("us_tariff_pct").diff())
        .alias("us_tariff_change_observed_pts"),
    )


def _signals(events: pl.DataFrame) -> pl.DataFrame:
    signals = timeline.monthly_signals(events)
    return signals.select("month", *(pl.col(s).alias(f"signal_{s}") for s in timeline.SIGNALS))


# ---- inputs of the operational pathway rules (data/pathways.yaml, models/pathway_rules.py)


def _timeline_categories(events: pl.DataFrame) -> pl.DataFrame:
    """Timeline events per month by category, as ``events_<category>`` columns."""
    counts = timeline.monthly_categories(events)
    return counts.select("month", *(pl.col(c).alias(f"events_{c}") for c in timeline.CATEGORIES))


# ---- end of the pathway-rule inputs


def _tariff_actions(actions: pl.DataFrame) -> pl.DataFrame:
    return (
        actions.filter(pl.col("mentions_china_or_hk"))
        .group_by(pl.col("date").dt.truncate("1mo").alias("month"))
        .agg(pl.len().cast(pl.Int64).alias("us_tariff_actions_on_china"))
    )


def _approval(polls: pl.DataFrame, votehub: pl.DataFrame) -> pl.DataFrame:
    """One approval figure per month: in a handover month, the president with more polls.

    The historical compilation ends with Biden; VoteHub's polls (one per survey, adults first)
    carry Trump's second term on, so the series is observed to the latest poll.
    """
    columns = ["president", "poll_end", "approval"]
    both = pl.concat(
        [polls.select(columns), approval_votehub.as_approval_polls(votehub).select(columns)]
    )
    monthly = approval.monthly_approval(both)
    return (
        monthly.sort("month", "n_polls")
        .group_by("month")
        .agg(
            pl.col("approval").last().alias("approval"),
            pl.col("n_polls").last().alias("approval_polls"),
            pl.col("president").last().alias("president"),
        )
    )


def _pla(daily: pl.DataFrame) -> pl.DataFrame:
    """Mean PLA aircraft and vessels per reported day, from Taiwan's daily reports (2020-09)."""
    return pla_activity.monthly_activity(daily)


def _china_monthly(macro: pl.DataFrame) -> pl.DataFrame:
    """China's manufacturing PMI and CPI inflation, each dated by its month."""
    return _pivot(
        macro.rename({"period_end": "month"}),
        {china_macro.PMI.name: "china_pmi", china_macro.CPI.name: "china_cpi_yoy_pct"},
    )


def _china_gdp(macro: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    """Quarterly real GDP growth in each of its quarter's three months.

    A quarter is known a month after it ends (NBS publishes mid-month), so with ``as_of`` a
    quarter enters whole or not at all: its first two months must not appear before the
    quarter's figure exists.
    """
    gdp = macro.filter(pl.col("series") == china_macro.GDP.name).select(
        pl.col("period_end").dt.truncate("1mo").alias("last_month"),
        pl.col("value").alias("china_gdp_yoy_pct"),
    )
    if as_of is not None:
        gdp = gdp.filter(pl.col("last_month").dt.offset_by("1mo") <= as_of)
    return _spread(gdp, "last_month", back=2, columns=["china_gdp_yoy_pct"])


def _unga(votes: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    """Each UNGA session's US–China alignment in the 12 months from its opening (September).

    A session's votes are complete, and its ideal points estimable, only once it closes, so with
    ``as_of`` a session enters when its twelve months are over.
    """
    sessions = unga.us_china_alignment(votes).select(
        pl.col("session_start").alias("first_month"),
        "unga_china_us_agreement",
        "unga_ideal_point_gap",
    )
    if as_of is not None:
        sessions = sessions.filter(pl.col("first_month").dt.offset_by("12mo") <= as_of)
    return _spread(
        sessions,
        "first_month",
        forward=11,
        columns=["unga_china_us_agreement", "unga_ideal_point_gap"],
    )


def _spread(
    frame: pl.DataFrame, anchor: str, columns: list[str], *, back: int = 0, forward: int = 0
) -> pl.DataFrame:
    """One row per month from ``back`` months before to ``forward`` months after ``anchor``."""
    offsets = pl.int_ranges(-back, forward + 1).alias("offset")
    return (
        frame.with_columns(offsets)
        .explode("offset")
        .select(
            pl.col(anchor).dt.offset_by(pl.format("{}mo", pl.col("offset"))).alias("month"),
            *columns,
        )
        .sort("month")
    )


def _meetings(travels: pl.DataFrame, visits: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    """High-level US–China meetings per month while the State Department's lists are complete."""
    return state_visits.monthly_meetings(travels, visits, until=as_of)


AI_GPR = {
    "GPR_AI": "gpr_ai",
    "USA|China": "aigpr_usa_china",
    "China|USA": "aigpr_china_usa",
    "China|Taiwan": "aigpr_china_taiwan",
    "USA|Russia": "aigpr_usa_russia",
    "Russia|USA": "aigpr_russia_usa",
    "Russia|Ukraine": "aigpr_russia_ukraine",
}
GPR = {
    "GPR": "gpr",
    "GPRC_CHN": "gprc_chn",
    "GPRC_USA": "gprc_usa",
    "GPRC_TWN": "gprc_twn",
    "GPRC_RUS": "gprc_rus",
    "GPRC_UKR": "gprc_ukr",
}
EPU = {"US": "epu_us", "China": "epu_china", "Mainland China": "epu_china_mainland"}


BLOCKS: tuple[Block, ...] = (
    Block("trade", ("raw_fred", "raw_census_trade"), 2, _trade),
    Block("tariffs", ("raw_tariffs",), 0, _tariffs, takes_as_of=True),
    Block("gdelt", ("raw_gdelt_events",), 0, _gdelt_events),
    Block("gdelt_event_types", ("raw_gdelt_events",), 0, _gdelt_event_types),
    Block("gdelt_graph", ("raw_gdelt_graph",), 0, _gdelt_graph),
    Block("ai_gpr", ("raw_ai_gpr",), 1, lambda f: _pivot(f, AI_GPR)),
    Block("gpr", ("raw_gpr",), 1, lambda f: _pivot(f, GPR)),
    Block("epu", ("raw_epu",), 1, lambda f: _pivot(f, EPU)),
    Block("macro", ("raw_fred",), 1, _macro),
    Block("cny", ("raw_fred", "raw_imf_fx"), 1, _cny),
    Block("cpi", ("raw_cpi",), 1, _cpi),
    Block("approval", ("raw_approval", "raw_approval_votehub"), 0, _approval),
    Block("pla", ("raw_pla_activity",), 0, _pla),
    Block("china_macro", ("raw_china_macro",), 1, _china_monthly),
    Block("china_gdp", ("raw_china_macro",), 0, _china_gdp, takes_as_of=True),
    Block("unga", ("raw_unga",), 0, _unga, takes_as_of=True),
    Block("meetings", ("raw_us_travels", "raw_leader_visits"), 0, _meetings, takes_as_of=True),
    Block("signals", ("raw_timeline",), 0, _signals),
    Block("timeline_categories", ("raw_timeline",), 0, _timeline_categories),
    Block("tariff_actions", ("raw_tariff_actions",), 0, _tariff_actions),
)
TABLES = tuple(sorted({t for b in BLOCKS for t in b.tables}))


# ------------------------------------------------------------------ the panel


@dataclass(frozen=True)
class Panel:
    frame: pl.DataFrame  # one row per month, ``month`` first
    coverage: pl.DataFrame  # per column: first and last month observed, months observed
    as_of: dt.date | None

    def data_hash(self) -> str:
        """Identity of the panel's content: refits are needed only when this changes."""
        return frame_hash(self.frame)


def frame_hash(frame: pl.DataFrame) -> str:
    """sha256 of a frame's CSV text: equal content, equal hash (group means are order-stable)."""
    return hashlib.sha256(frame.write_csv().encode()).hexdigest()


class PanelError(ValueError):
    """The warehouse lacks a table the panel needs."""


def build_panel(raw: Raw, as_of: dt.date | None = None) -> Panel:
    """One row per month from the earliest source month to the latest known month.

    With ``as_of``, nothing published after that date enters: event rows dated later are
    dropped and a month of a lagged series appears only once it would have been released.
    """
    missing = [t for t in TABLES if t not in raw]
    if missing:
        raise PanelError(f"the panel needs {', '.join(missing)}; run `winset ingest` first")
    cut = {t: _cut(raw[t], EVENT_DATES.get(t), as_of) for t in TABLES}
    blocks = [_known(build_block(b, cut, as_of), b.lag_months, as_of) for b in BLOCKS]
    months = pl.concat([b.select(pl.col("month").cast(pl.Date)) for b in blocks])
    last = months["month"].max() if as_of is None else _month(as_of)
    spine = pl.date_range(months["month"].min(), last, interval="1mo", eager=True).alias("month")
    frame = spine.to_frame()
    for block in blocks:
        frame = frame.join(
            block.with_columns(pl.col("month").cast(pl.Date)), on="month", how="left"
        )
    frame = frame.with_columns(months_to_us_election=_months_to_us_election(frame["month"]))
    return Panel(frame, coverage(frame), as_of)


def build_block(block: Block, tables: Raw, as_of: dt.date | None) -> pl.DataFrame:
    """One block's monthly columns from its raw tables."""
    frames = [tables[t] for t in block.tables]
    return block.build(*frames, as_of=as_of) if block.takes_as_of else block.build(*frames)


def _cut(frame: pl.DataFrame, column: str | None, as_of: dt.date | None) -> pl.DataFrame:
    if as_of is None or column is None:
        return frame
    return frame.filter(pl.col(column).cast(pl.Date) <= as_of)


def _known(block: pl.DataFrame, lag: int, as_of: dt.date | None) -> pl.DataFrame:
    """The block's observed months (rows with any value) that were published by ``as_of``."""
    block = block.sort("month").filter(pl.any_horizontal(pl.exclude("month").is_not_null()))
    if as_of is None:
        return block
    return block.filter(pl.col("month").dt.offset_by(f"{lag}mo") <= as_of)


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months_to_us_election(months: pl.Series) -> pl.Series:
    """Months until the next federal election; the forecast projects the same countdown."""
    counts = months_to_us_election(months.to_numpy().astype("datetime64[M]"))
    return pl.Series("months_to_us_election", counts, dtype=pl.Int64)


def coverage(frame: pl.DataFrame) -> pl.DataFrame:
    """For every column: first and last month with a value, and how many months have one."""
    rows = []
    for column in frame.columns[1:]:
        observed = frame.filter(pl.col(column).is_not_null())["month"]
        rows.append(
            {
                "column": column,
                "first": observed.min(),
                "last": observed.max(),
                "months_observed": observed.len(),
                "months": frame.height,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "column": pl.String,
            "first": pl.Date,
            "last": pl.Date,
            "months_observed": pl.Int64,
            "months": pl.Int64,
        },
    )
