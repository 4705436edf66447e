"""The ``backtest`` flow: at each origin, refit on what was known then and score what followed.

Leakage guarantee: everything an origin uses comes from ``build_panel(raw, as_of=<last day of
the origin month>)`` (:func:`origin_inputs`): drivers, series and timeline labels, so events
dated later and monthly values published later (the panel's publication lags) never enter;
drivers and series are standardised on that window alone. Only the outcomes come from the
latest panel (:func:`realised`).

Each origin fits two models (the HMM, and the same HMM without drivers) and never saves their
posteriors: a backtest keeps scores, forecasts and each fit's health. Fits that fail the health
gate are still scored and are marked (``healthy`` in ``backtests`` and ``backtest_fits``), so
the skill table can be read with and without them. The warehouse is opened briefly to read the
raw tables and once at the end to write every table in one transaction; sampling never holds it.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows import settings
from flows.fit import load_config
from flows.panel import TABLES, Raw, build_panel, frame_hash
from flows.warehouse import connect, read_tables, write_rows
from models import backtest as bt
from models.config import ModelConfig
from models.data import NO_LABEL, ModelData
from models.drivers import model_data, observed_series, timeline_labels
from models.fit import fit
from models.prepared import fitted_data

DEFAULT_ORIGINS: tuple[str, ...] = ("2017-12", "2019-12", "2022-07", "2024-12", "2025-04")

MIN_SERIES_MONTHS = 12  # a series seen for less than a year cannot place three state means
# An origin needs this many months of the model's window before it: fewer cannot inform a
# three-state HMM with driver effects, and before the window there is nothing to fit at all.
MIN_TRAINING_MONTHS = 36


def origin_months(origins: Sequence[str] | None = None, quarterly: bool = False) -> list[dt.date]:
    """The origins as first days of months (``YYYY-MM``), sorted; with ``quarterly``, every
    quarter-end month (Mar, Jun, Sep, Dec) from the first origin to the last. An empty list is
    refused rather than read as "the defaults"."""
    if origins is not None and not list(origins):
        raise ValueError("origins: no months given; expected months as YYYY-MM")
    try:
        chosen = DEFAULT_ORIGINS if origins is None else origins
        months = sorted({dt.date.fromisoformat(f"{o}-01") for o in chosen})
    except ValueError:
        raise ValueError(
            f"origins: expected months as YYYY-MM, got {list(origins or [])}"
        ) from None
    if not quarterly:
        return months
    first, last = months[0], months[-1]
    out, year, month = [], first.year, first.month + (-first.month) % 3
    while dt.date(year, month, 1) <= last:
        out.append(dt.date(year, month, 1))
        year, month = (year + 1, 3) if month == 12 else (year, month + 3)
    return out


def check_window(months: Sequence[dt.date], config: ModelConfig) -> None:
    """Refuse an origin too early in the model's window (:data:`MIN_TRAINING_MONTHS`) before
    the warehouse is even opened."""
    start = dt.date.fromisoformat(f"{config.start}-01")
    shifted = start.month - 1 + MIN_TRAINING_MONTHS
    earliest = dt.date(start.year + shifted // 12, shifted % 12 + 1, 1)
    if months[0] < earliest:
        raise ValueError(
            f"origins: {months[0]:%Y-%m} is before {earliest:%Y-%m}: the model's window starts "
            f"in {config.start} and an origin needs {MIN_TRAINING_MONTHS} months of it"
        )


def all_origin_inputs(
    raw: Raw, months: Sequence[dt.date], config: ModelConfig
) -> list[OriginInputs]:
    """Every origin's inputs, built before anything is fitted, so an origin whose as-of data
    cannot build the panel fails at once, naming itself, instead of after earlier fits."""
    inputs = []
    for month in months:
        try:
            inputs.append(origin_inputs(raw, month, config))
        except ValueError as exc:
            raise ValueError(
                f"origins: {month:%Y-%m}: the data known then cannot build the panel ({exc})"
            ) from None
    return inputs


def month_end(month: dt.date) -> dt.date:
    following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def realised(panel: pl.DataFrame, origin: dt.date, steps: int, series: tuple[str, ...]):
    """(labels (H,), series (H, M)) of the months after ``origin`` in the latest panel; -1 /
    NaN where a month has no label / observation or lies beyond the panel."""
    frame = panel.sort("month")
    after = frame["month"].to_numpy().astype("datetime64[M]") - np.datetime64(origin, "M")
    index = {int(a): i for i, a in enumerate(after.astype(int)) if 1 <= a <= steps}
    labels, values = timeline_labels(frame), observed_series(frame, series).select(series)
    out_labels = np.full(steps, NO_LABEL)
    out_series = np.full((steps, len(series)), np.nan)
    for lead, i in index.items():
        out_labels[lead - 1] = labels[i]
        out_series[lead - 1] = values.row(i)
    return out_labels, np.asarray(out_series, dtype=float)


def origin_config(config: ModelConfig, data: ModelData) -> ModelConfig:
    """The config as a forecaster at the origin could fit it: series (after the tension series)
    and counts observed in fewer than :data:`MIN_SERIES_MONTHS` months of the window, or
    without a single event, are left out. Why: GDELT cooperation starts in 2018 and the
    timeline in 2017-08; at a 2017 origin they do not exist yet. A count that fixed a state's
    label goes with its ordering; with none left the tension means are ordered instead."""
    window = data.select(config.series, (), None, tuple(config.counts))
    seen = np.isfinite(window.series).sum(axis=0)
    enough = [s for s, n in zip(config.series[1:], seen[1:], strict=True) if n >= MIN_SERIES_MONTHS]
    keep = (config.series[0], *enough)
    ordered = {s: o for s, o in config.ordered_means.items() if s in keep}
    counted = np.isfinite(window.counts).sum(axis=0)
    events = np.nansum(window.counts, axis=0)
    counts = {
        name: family
        for (name, family), n, e in zip(config.counts.items(), counted, events, strict=True)
        if n >= MIN_SERIES_MONTHS and e > 0
    }
    highest = {c: s for c, s in config.count_highest.items() if c in counts}
    if len(highest) < len(config.count_highest):
        highest = {}  # a partial set of anchors would fix some labels and not others
    return config.model_copy(
        update={
            "series": keep,
            "ordered_means": ordered,
            "counts": counts,
            "count_highest": highest,
        }
    )


def no_driver_config(config: ModelConfig) -> ModelConfig:
    """The same HMM with constant transitions: what the drivers add is the difference. It is
    fitted on the driver model's data (its drivers are simply not selected), which also keeps
    both fits on exactly the same months, series and labels."""
    return config.model_copy(update={"drivers": ()})


@dataclass(frozen=True)
class OriginInputs:
    """What a forecaster had at the end of ``origin``: the as-of panel and the model data."""

    origin: dt.date
    panel: pl.DataFrame
    data: ModelData
    config: ModelConfig  # the config with the series observable by then


def origin_inputs(raw: Raw, origin: dt.date, config: ModelConfig) -> OriginInputs:
    """The as-of panel (nothing dated or published after the origin month) and model data."""
    panel = build_panel(raw, as_of=month_end(origin)).frame
    start = dt.date.fromisoformat(f"{config.start}-01")
    data, _ = model_data(
        panel, config.series, config.drivers, start, origin, config.composites, tuple(config.counts)
    )
    return OriginInputs(origin, panel, data, origin_config(config, data))


def _fit_row(origin: dt.date, model: str, config: ModelConfig, result) -> dict:
    months = result.data.months.astype("datetime64[D]").astype(dt.date)
    d = result.diagnostics
    return {
        "origin": origin,
        "model": model,
        "series": ",".join(config.series),
        "config_hash": config.config_hash(),
        "data_hash": result.data_hash,
        "first_month": months[0],
        "last_month": months[-1],
        "healthy": d.healthy,
        "problems": "; ".join(d.problems()),
        "max_rhat": d.max_rhat,
        "min_ess_bulk": float(d.min_ess_bulk),
        "min_ess_tail": float(d.min_ess_tail),
        "divergences": d.divergences,
        "min_bfmi": d.min_bfmi,
        "wall_seconds": result.wall_seconds,
    }


@task(cache_policy=NONE, task_run_name="backtest-{inputs.origin}")
def run_origin(
    inputs: OriginInputs, truth: pl.DataFrame, horizons: tuple[int, ...]
) -> dict[str, pl.DataFrame]:
    """Fit both HMMs as of ``inputs.origin``, forecast every model, score against ``truth``."""
    origin = inputs.origin
    steps, seed = max(horizons), inputs.config.sampler.seed
    forecasts, fits = {}, []
    no_drivers = no_driver_config(inputs.config)
    for model, cfg in ((bt.HMM, inputs.config), (bt.NO_DRIVERS, no_drivers)):
        result = fit(inputs.data, cfg)
        draws = bt.posterior_draws(result.model)
        forecasts[model] = bt.hmm_forecast(draws, result.data, steps, seed)
        fits.append(_fit_row(origin, model, cfg, result))
    forecasts.update(bt.baseline_forecasts(fitted_data(inputs.data, no_drivers), steps))
    labels, series = realised(truth, origin, steps, inputs.config.series)
    scores, calibration = bt.score_origin(
        origin, forecasts, labels, series, inputs.config.series, horizons, seed
    )
    fit_frame = pl.DataFrame(fits)
    healthy = fit_frame.select("model", "healthy")
    return {
        "backtests": scores.join(healthy, on="model", how="left"),
        "backtest_forecasts": calibration,
        "backtest_fits": fit_frame,
    }


@dataclass(frozen=True)
class BacktestRecord:
    """One backtest run as stored: its scores, calibration inputs and the health of its fits."""

    backtest_id: str
    origins: tuple[dt.date, ...]
    fast: bool
    scores: pl.DataFrame  # the ``backtests`` rows
    calibration: pl.DataFrame  # the ``backtest_forecasts`` rows
    fits: pl.DataFrame  # the ``backtest_fits`` rows
    wall_seconds: float

    def skill_table(self, healthy_only: bool = False, level: float = 0.9) -> pl.DataFrame:
        """Mean scores with origin-bootstrap intervals; ``healthy_only`` drops the scores of
        fits that failed the health gate (baselines are always kept)."""
        scores = (
            self.scores.filter(pl.col("healthy").fill_null(True)) if healthy_only else self.scores
        )
        return bt.skill_table(scores, level=level)

    def describe(self) -> str:
        unhealthy = self.fits.filter(~pl.col("healthy"))
        lines = [
            f"Backtest {self.backtest_id} ({'fast' if self.fast else 'publication'} sampling, "
            f"{len(self.origins)} origins, {self.wall_seconds:.0f} s): {self.scores.height} "
            f"scores in `backtests`, {unhealthy.height} of {self.fits.height} fits unhealthy.",
        ]
        for row in self.fits.iter_rows(named=True):
            status = "healthy" if row["healthy"] else "UNHEALTHY: " + row["problems"]
            lines.append(
                f"  {row['origin']:%Y-%m} {row['model']:<15} R-hat {row['max_rhat']:.3f}, {status}"
            )
        lines.append(
            "HMM mean score; difference vs persistence; vs the no-driver HMM "
            "(lower is better, 90% origin-bootstrap intervals):"
        )
        tension = self.fits["series"][0].split(",")[0]
        headline = pl.concat_str("target", "metric", separator=":").is_in(
            ["label:rps", f"{tension}:crps"]
        )
        table = self.skill_table().filter(headline & (pl.col("model") == bt.HMM))
        for row in table.iter_rows(named=True):
            lines.append(
                f"  {row['target']} {row['metric']} h{row['horizon']} (n={row['n']}): "
                f"{row['mean']:.3f}; {_diff(row, 'persistence')}; {_diff(row, 'no_drivers')}"
            )
        return "\n".join(lines)


def _diff(row: dict, ref: str) -> str:
    if row[f"vs_{ref}_mean"] is None:
        return "-"
    return (
        f"{row[f'vs_{ref}_mean']:+.3f} [{row[f'vs_{ref}_lower']:+.3f}, "
        f"{row[f'vs_{ref}_upper']:+.3f}]"
    )


@flow(name="backtest")
def backtest(
    db_path: Path | None = None,
    origins: Sequence[str] | None = None,
    fast: bool = True,
    config_path: Path | None = None,
    quarterly: bool = False,
    horizons: tuple[int, ...] = bt.HORIZONS,
) -> BacktestRecord:
    """Backtest the model at each origin (``YYYY-MM``) and store every score in one transaction."""
    started = time.perf_counter()
    db_path = Path(db_path or settings.warehouse_path())
    config = load_config(config_path, fast)
    months = origin_months(origins, quarterly)
    check_window(months, config)
    with connect(db_path) as con:
        raw = read_tables(con, TABLES)
    truth = build_panel(raw).frame
    if months[-1] >= truth["month"].max():
        raise ValueError(f"origins: nothing after {months[-1]:%Y-%m} to score the forecasts on")
    origins_known = all_origin_inputs(raw, months, config)
    parts = [run_origin(inputs, truth, horizons) for inputs in origins_known]
    backtest_id = f"bt-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    tag = pl.lit(backtest_id).alias("backtest_id")
    frames = {
        name: pl.concat([p[name] for p in parts], how="diagonal_relaxed").with_columns(tag)
        for name in ("backtests", "backtest_forecasts", "backtest_fits")
    }
    fits = frames["backtest_fits"]
    wall = time.perf_counter() - started
    run = {
        "backtest_id": backtest_id,
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "origins": ",".join(f"{m:%Y-%m}" for m in months),
        "horizons": ",".join(map(str, horizons)),
        "fast": fast,
        "config_hash": config.config_hash(),
        "config_json": config.canonical_json(),
        "panel_hash": frame_hash(truth),
        "fits": fits.height,
        "unhealthy_fits": int((~fits["healthy"]).sum()),
        "wall_seconds": wall,
    }
    with connect(db_path) as con:
        write_rows(con, {**frames, "backtest_runs": pl.DataFrame([run])})
    record = BacktestRecord(
        backtest_id,
        tuple(months),
        fast,
        frames["backtests"],
        frames["backtest_forecasts"],
        fits,
        wall,
    )
    get_run_logger().info(record.describe())
    return record
