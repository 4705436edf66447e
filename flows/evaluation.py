"""The ``evaluation`` flow behind ``winset backtest --monthly``: every month an origin, each
fitted on the panel as known then, forecasts of the observables scored against references.

Leakage: each origin's inputs come from :func:`flows.backtest.origin_inputs` (the panel built
``as_of`` the origin's month end, drivers and series standardised on that window, series not
yet observed for a year left out); only outcomes come from the latest panel. The specification
(``data/model.yaml``: series, drivers, priors, ordered means) is used as it stands at every
origin: it was chosen on the whole panel, which the README states.

Speed: both regime models are fitted with the mode and a Laplace approximation
(:mod:`models.laplace`), each origin warm-started from the previous origin's mode; with
``nuts_check`` the publication NUTS fit is also run at that many origins (spread over the
span) and the two posteriors' answers are compared (``evaluation_agreement``). The warehouse
is opened to read the raw tables and once at the end to write everything in one transaction.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows import settings
from flows.backtest import (
    OriginInputs,
    all_origin_inputs,
    check_window,
    no_driver_config,
    realised,
)
from flows.fit import load_config
from flows.panel import TABLES, build_panel, frame_hash
from flows.warehouse import connect, read_tables, write_rows
from models import evaluation as ev
from models.fit import fit
from models.laplace import fit_laplace
from models.observables import HORIZONS
from models.origin_forecasts import agreement, reference_forecasts, regime_model_draws
from models.prepared import fitted_data

# The first month whose as-of panel can be built: before it the panel lacks what it needs (the
# tariff trackers start later), and `winset backtest --monthly --since` names the failing origin.
DEFAULT_SINCE = "2017-09"


@dataclass(frozen=True)
class EvaluationSettings:
    """How much Monte Carlo each origin gets; small values are for tests."""

    draws: int = 100
    paths: int = 20
    leads: tuple[int, ...] = HORIZONS
    seed: int = 0


def parse_months(since: str, until: str | None) -> tuple[dt.date, dt.date | None]:
    """``since`` and ``until`` (``YYYY-MM``) as first days of months, refused naming both."""
    try:
        first = dt.date.fromisoformat(f"{since}-01")
        last = dt.date.fromisoformat(f"{until}-01") if until else None
    except ValueError:
        raise ValueError(
            f"since/until: expected months as YYYY-MM, got {since!r}, {until!r}"
        ) from None
    return first, last


def monthly_origins(since: str, until: str | None, panel_end: dt.date) -> list[dt.date]:
    """Every month from ``since`` to ``until`` (default: the month before the panel's last),
    as first days; refused when empty or malformed, naming the option."""
    first, last = parse_months(since, until)
    one = np.timedelta64(1, "M")
    end = np.datetime64(panel_end, "M") - one
    stop = min(np.datetime64(last, "M"), end) if last else end
    months = np.arange(np.datetime64(first, "M"), stop + one, one)
    if months.size == 0:
        raise ValueError(f"since: {since} leaves no origin before the panel's last month")
    return [m.astype("datetime64[D]").astype(dt.date) for m in months]


@task(cache_policy=NONE, task_run_name="evaluate-{inputs.origin}")
def evaluate_origin(
    inputs: OriginInputs,
    truth: pl.DataFrame,
    run: EvaluationSettings,
    warm: dict[str, np.ndarray],
    pad_to: int,
) -> dict:
    """Fit both regime models, forecast every model's observables, score what followed."""
    origin, leads = inputs.origin, run.leads
    configs = {ev.HMM: inputs.config, ev.NO_DRIVERS: no_driver_config(inputs.config)}
    draws, fits, modes = {}, [], {}
    for model, cfg in configs.items():
        start = warm.get(model)
        result = fit_laplace(inputs.data, cfg, run.draws, run.seed, start, pad_to)
        modes[model] = result.mode
        draws[model] = regime_model_draws(result.model, run.paths, run.seed, leads)
        fits.append(
            {
                "origin": origin,
                "model": model,
                "series": ",".join(cfg.series),
                "converged": result.converged,
                "iterations": result.iterations,
                "floored": result.floored,
                "warm_start": start is not None and start.shape == result.mode.shape,
                "seconds": result.seconds,
            }
        )
    window = fitted_data(inputs.data, configs[ev.NO_DRIVERS]).series
    n = run.draws * run.paths
    draws.update(reference_forecasts(window, leads, n, run.seed))
    _, series = realised(truth, origin, max(leads), inputs.config.series)
    observed = series[[lead - 1 for lead in leads]]
    scores = [
        ev.score_forecast(origin, model, leads, inputs.config.series, d, observed)
        for model, d in draws.items()
    ]
    return {"scores": pl.concat(scores), "fits": pl.DataFrame(fits), "modes": modes}


def nuts_agreement(inputs: OriginInputs, truth: pl.DataFrame, run: EvaluationSettings) -> dict:
    """The fast posterior against the publication NUTS fit at one origin."""
    publication = inputs.config.model_copy(update={"sampler": load_config(None, False).sampler})
    started = time.perf_counter()
    fast = fit_laplace(inputs.data, inputs.config, run.draws, run.seed)
    fast_seconds = time.perf_counter() - started
    nuts = fit(inputs.data, publication)
    _, series = realised(truth, inputs.origin, 6, inputs.config.series)
    found = agreement(fast.model, nuts.model, series[5], run.paths, run.seed)
    return {
        "origin": inputs.origin,
        **found,
        "fast_seconds": fast_seconds,
        "nuts_seconds": nuts.wall_seconds,
    }


@dataclass(frozen=True)
class EvaluationRecord:
    """One evaluation as stored, with its skill table, coverage and headline."""

    evaluation_id: str
    scores: pl.DataFrame
    skill: pl.DataFrame
    coverage: pl.DataFrame
    fits: pl.DataFrame
    agreement: pl.DataFrame
    run: dict

    @property
    def headline(self) -> str:
        return self.run["headline"]

    def describe(self) -> str:
        r = self.run
        lines = [
            f"Evaluation {self.evaluation_id}: {r['origins']} monthly origins "
            f"{r['first_origin']:%Y-%m}..{r['last_origin']:%Y-%m}, {self.scores.height} scored "
            f"forecasts in `evaluation_scores`; {r['origins_per_minute']:.1f} origins per minute.",
            self.headline,
            "Log score difference against persistence, all series summed "
            "(below 0 favours the model; 90% Diebold-Mariano intervals):",
        ]
        vs = self.skill.filter(
            (pl.col("reference") == "persistence")
            & (pl.col("target") == ev.ALL)
            & (pl.col("metric") == "log_score")
        )
        for row in vs.sort("model", "lead").iter_rows(named=True):
            lines.append(
                f"  {row['model']:<15} {row['lead']:>2}m (n={row['origins']}): "
                f"{row['mean_diff']:+.3f} [{row['lower']:+.3f}, {row['upper']:+.3f}]"
            )
        lines.append("Coverage of the central 50% / 90% intervals:")
        for row in self.coverage.iter_rows(named=True):
            lines.append(
                f"  {row['model']:<15} {row['lead']:>2}m (n={row['n']}): "
                f"{row['cover50']:.2f} / {row['cover90']:.2f}"
            )
        for row in self.agreement.iter_rows(named=True):
            lines.append(
                f"  vs NUTS at {row['origin']:%Y-%m}: filtered probabilities differ by at most "
                f"{row['max_abs_filtered_diff']:.3f} ({row['max_abs_origin_diff']:.3f} at the "
                f"origin); 6-month CRPS {row['crps6_fast']} vs {row['crps6_nuts']}"
            )
        return "\n".join(lines)


def _spread(items: list, k: int) -> list:
    if k <= 0 or not items:
        return []
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, k).round().astype(int))]


@flow(name="evaluation")
def evaluation(
    db_path: Path | None = None,
    since: str = DEFAULT_SINCE,
    until: str | None = None,
    config_path: Path | None = None,
    run: EvaluationSettings | None = None,
    nuts_check: int = 0,
) -> EvaluationRecord:
    """Evaluate the model at every monthly origin and store the results in one transaction."""
    started = time.perf_counter()
    run = run or EvaluationSettings()
    db_path = Path(db_path or settings.warehouse_path())
    config = load_config(config_path, fast=True)
    check_window([parse_months(since, until)[0]], config)  # before the warehouse is opened
    with connect(db_path) as con:
        raw = read_tables(con, TABLES)
    truth = build_panel(raw).frame
    months = monthly_origins(since, until, truth["month"].max())
    check_window(months, config)
    inputs = all_origin_inputs(raw, months, config)
    loop_started = time.perf_counter()
    parts, warm = [], {}
    pad_to = max(i.data.n_months for i in inputs)  # one compiled model for every origin
    for origin_inputs in inputs:
        part = evaluate_origin(origin_inputs, truth, run, warm, pad_to)
        warm = part["modes"]
        parts.append(part)
    origin_seconds = time.perf_counter() - loop_started
    checks = [nuts_agreement(i, truth, run) for i in _spread(inputs, nuts_check)]
    evaluation_id = f"ev-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    tag = pl.lit(evaluation_id).alias("evaluation_id")
    scores = pl.concat([p["scores"] for p in parts])
    fits = pl.concat([p["fits"] for p in parts])
    skill = ev.skill_table(scores)
    coverage = ev.coverage_table(scores)
    agree = pl.DataFrame(checks, infer_schema_length=None)
    run_row = {
        "evaluation_id": evaluation_id,
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "first_origin": months[0],
        "last_origin": months[-1],
        "origins": len(months),
        "leads": ",".join(map(str, run.leads)),
        "inference": "laplace",
        "draws": run.draws,
        "paths": run.paths,
        "config_hash": config.config_hash(),
        "config_json": config.canonical_json(),
        "panel_hash": frame_hash(truth),
        "wall_seconds": time.perf_counter() - started,
        "origin_seconds": origin_seconds,
        "origins_per_minute": 60.0 * len(months) / origin_seconds,
        "headline": ev.headline(skill),
    }
    frames = {
        "evaluation_runs": pl.DataFrame([run_row]),
        "evaluation_fits": fits.with_columns(tag),
        "evaluation_scores": scores.with_columns(tag),
        "evaluation_skill": skill.with_columns(tag),
    }
    if agree.height:
        frames["evaluation_agreement"] = agree.with_columns(tag)
    with connect(db_path) as con:
        write_rows(con, frames)
    record = EvaluationRecord(evaluation_id, scores, skill, coverage, fits, agree, run_row)
    _record_summary(record)
    get_run_logger().info(record.describe())
    return record


def _record_summary(record: EvaluationRecord) -> None:
    """The headline and the skill against persistence as a Prefect markdown artifact."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        key="winset-evaluation",
        markdown=f"# Evaluation on observables\n\n{record.headline}\n",
        description="Many-origin evaluation: does the model beat persistence?",
    )
