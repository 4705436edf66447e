"""The backtest on the real bundle: no look-ahead at an origin, and one end-to-end flow run.

The leakage tests fit nothing: they corrupt every raw value published after the origin (event
rows dated later; monthly values whose release, month + publication lag, falls later) and
check that what the origin sees does not change at all. The lags below are the publishers'
release delays, written out here rather than read from flows/panel.py, so a wrong lag in the
panel code fails the test instead of being copied into it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from flows.backtest import BacktestRecord, month_end, origin_inputs, origin_months
from flows.panel import BLOCKS, EVENT_DATES, build_block, build_panel
from flows.warehouse import connect
from models import backtest as bt
from models.config import from_yaml
from models.drivers import timeline_labels
from tests.conftest import DATA_DIR

# Monthly tables: date column and release delay in months (FRED trade: see FRED_LAG).
MONTHLY = {
    "raw_census_trade": ("month", 2),
    "raw_gpr": ("month", 1),
    "raw_ai_gpr": ("month", 1),
    "raw_epu": ("month", 1),
    "raw_cpi": ("month", 1),
    "raw_imf_fx": ("date", 1),
    "raw_fred": ("date", 1),
    # China's PMI and CPI a month after their month, GDP a month after its quarter's last day.
    "raw_china_macro": ("period_end", 1),
    # A UNGA session's votes are complete when its twelve months are over.
    "raw_unga": ("session_start", 12),
    # Dated trips and visits, known when they start.
    "raw_us_travels": ("start_date", 0),
    "raw_leader_visits": ("start_date", 0),
}
FRED_LAG = {"EXPCH": 2, "IMPCH": 2}


def _published_after(table: str, as_of: dt.date) -> pl.Expr:
    if table in EVENT_DATES:
        return pl.col(EVENT_DATES[table]).cast(pl.Date) > as_of
    column, lag = MONTHLY[table]
    month = pl.col(column).dt.truncate("1mo")
    if table == "raw_fred":
        lag = pl.col("series").replace_strict(FRED_LAG, default=lag, return_dtype=pl.Int64)
        return month.dt.offset_by(pl.format("{}mo", lag)) > as_of
    return month.dt.offset_by(f"{lag}mo") > as_of


def corrupt_after(raw: dict[str, pl.DataFrame], as_of: dt.date) -> dict[str, pl.DataFrame]:
    """Every number published after ``as_of`` changed, every later timeline event a decoupling."""
    out = {}
    for table, frame in raw.items():
        late = _published_after(table, as_of)
        changes = [
            pl.when(late).then(pl.col(c) * -3 + 7).otherwise(pl.col(c)).alias(c)
            for c, dtype in frame.schema.items()
            if dtype in (pl.Float64, pl.Int64)  # counts too (PLA aircraft and vessels)
        ]
        if "pathway_signal" in frame.columns:
            signal = pl.when(late).then(pl.lit("decoupling")).otherwise(pl.col("pathway_signal"))
            changes.append(signal.alias("pathway_signal"))
        out[table] = frame.with_columns(changes)
    return out


@pytest.fixture(scope="module")
def config():
    return from_yaml(DATA_DIR / "model.yaml")


@pytest.mark.parametrize("origin", [dt.date(2019, 12, 1), dt.date(2025, 4, 1)])
def test_nothing_published_after_the_origin_reaches_it(
    bundled_tables: dict[str, pl.DataFrame], config, origin: dt.date
) -> None:
    as_of = month_end(origin)
    corrupted = corrupt_after(bundled_tables, as_of)
    # The corruption is real: the latest panel changes, including values of months before the
    # origin that were released after it (trade of the origin's previous month).
    assert not build_panel(corrupted).frame.equals(build_panel(bundled_tables).frame)
    clean, dirty = (
        origin_inputs(bundled_tables, origin, config),
        origin_inputs(corrupted, origin, config),
    )
    assert clean.panel.equals(dirty.panel)
    assert clean.data.data_hash() == dirty.data.data_hash()  # drivers, series and labels
    assert clean.config == dirty.config
    assert clean.data.months[-1] == np.datetime64(origin, "M")


def test_the_origin_panel_holds_only_released_months(
    bundled_tables: dict[str, pl.DataFrame], config
) -> None:
    origin = dt.date(2019, 12, 1)
    inputs = origin_inputs(bundled_tables, origin, config)
    assert inputs.panel["month"].max() == origin
    for block in BLOCKS:
        columns = build_block(block, bundled_tables, None).columns[1:]
        observed = inputs.panel.filter(pl.any_horizontal(pl.col(columns).is_not_null()))
        if observed.is_empty():  # a source that starts after the origin
            continue
        released = np.datetime64(observed["month"].max(), "M") + np.timedelta64(
            block.lag_months, "M"
        )
        assert released <= np.datetime64(origin, "M"), block.name
    row = inputs.panel.filter(pl.col("month") == dt.date(2019, 10, 1))
    assert row["exports_musd"].item() is not None  # October trade is out by December
    # Labels are dated events: every month of the window has all its events, and its label is
    # the one the latest panel gives that month.
    latest = build_panel(bundled_tables).frame
    window = latest["month"].is_between(dt.date.fromisoformat(f"{config.start}-01"), origin)
    np.testing.assert_array_equal(inputs.data.labels, timeline_labels(latest)[window.to_numpy()])


def test_origins_default_and_quarterly() -> None:
    assert [f"{m:%Y-%m}" for m in origin_months()] == [
        "2017-12",
        "2019-12",
        "2022-07",
        "2024-12",
        "2025-04",
    ]
    quarterly = origin_months(quarterly=True)
    assert (quarterly[0], quarterly[-1], len(quarterly)) == (
        dt.date(2017, 12, 1),
        dt.date(2025, 3, 1),
        30,
    )
    assert all(m.month % 3 == 0 for m in quarterly)
    with pytest.raises(ValueError, match="YYYY-MM"):
        origin_months(["2019-13"])


@pytest.fixture(scope="module")
def ran(backtested_db: dict) -> dict:
    """The session's backtest run (one origin, the tiny test config), read back."""
    with connect(backtested_db["db"], read_only=True) as con:
        tables = {
            t: con.sql(f"SELECT * FROM {t}").pl()
            for t in ("backtests", "backtest_runs", "backtest_fits", "backtest_forecasts")
        }
    return {"record": backtested_db["record"], **tables}


def test_every_model_horizon_and_metric_is_scored(ran: dict) -> None:
    scores = ran["backtests"]
    assert scores["backtest_id"].unique().to_list() == [ran["record"].backtest_id]
    label = scores.filter(pl.col("target") == "label")
    tension = scores.filter(pl.col("target") == "bilateral_tension")
    expected_label = {(m, h, x) for m in bt.MODELS for h in bt.HORIZONS for x in bt.LABEL_METRICS}
    # The publication model describes its series given the pathways (an AR(1) along the
    # path, forecast by the monthly evaluation): this backtest scores its labels only.
    cut = from_yaml(DATA_DIR / "model.yaml").series_given_states
    expected_series = {
        (m, h, x)
        for m in bt.MODELS
        if m != "uniform" and not (cut and m not in bt.BASELINES)
        for h in bt.HORIZONS
        for x in bt.SERIES_METRICS
    }
    assert set(label.select("model", "horizon", "metric").iter_rows()) == expected_label
    assert set(tension.select("model", "horizon", "metric").iter_rows()) == expected_series
    assert scores["score"].is_finite().all()
    baseline = pl.col("model").is_in(bt.BASELINES)
    assert scores.filter(baseline)["healthy"].is_null().all()  # no fit, no health
    assert scores.filter(~baseline)["healthy"].is_not_null().all()


def test_runs_fits_and_forecasts_are_recorded(ran: dict) -> None:
    (run,) = ran["backtest_runs"].iter_rows(named=True)
    assert run["origins"] == "2025-04" and run["horizons"] == "1,3,6,12" and run["fits"] == 2
    fits = ran["backtest_fits"]
    assert sorted(fits["model"]) == ["hmm", "hmm_no_drivers"]
    assert fits["last_month"].to_list() == [dt.date(2025, 4, 1)] * 2  # fitted as of the origin
    assert fits["max_rhat"].is_not_null().all()
    labels = ran["backtest_forecasts"].filter(pl.col("target") == "label")
    assert labels.height == len(bt.MODELS) * max(bt.HORIZONS)
    total = labels.select(pl.sum_horizontal("p_dc", "p_se", "p_mc"))
    np.testing.assert_allclose(total.to_series(), 1.0)


def test_record_reports_skill_and_fit_health(ran: dict) -> None:
    record: BacktestRecord = ran["record"]
    table = record.skill_table()
    hmm = table.filter((pl.col("model") == "hmm") & (pl.col("target") == "label"))
    assert set(hmm["horizon"]) == set(bt.HORIZONS)
    assert hmm["vs_persistence_mean"].is_not_null().all()
    assert hmm["vs_no_drivers_mean"].is_not_null().all()
    text = record.describe()
    assert "2025-04 hmm " in text and "2025-04 hmm_no_drivers" in text and "R-hat" in text
