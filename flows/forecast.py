"""The ``forecast`` flow: the newest healthy fit -> scenario simulations -> forecast tables.

The warehouse is opened twice, briefly: read-only to find the fit and read its panel, and once
after simulating to write every table in one transaction, so a forecast that fails (an unknown
scenario, a missing posterior, a panel changed since the fit) writes nothing. The fit is
rebuilt exactly: its stored config, its posterior file, and model data rebuilt from the stored
panel, which must hash to the fit's ``data_hash`` (a panel refreshed with new data since the
fit would mix the fit's effects with differently standardised drivers: refit instead).

Every scenario other than the baseline also gets its move from the baseline split by driver
(``forecast_attribution``, :mod:`models.attribution`): one more simulation per driver the
scenario shifts, with the same seed, reusing the scenario and baseline runs already made.

Every scenario is also simulated with the same seed and driver paths: from the posterior and
with the transition parameters drawn from their priors (``models.forecast.prior_only``). Both
are stored (``forecast_summaries`` and ``forecast_prior_only``) and printed side by side, so a
reader sees how much of a headline the data moved and how much the priors set.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows import settings
from flows.warehouse import connect, write_rows
from models.attribution import scenario_attribution, shock_key
from models.driver_paths import DEFAULT_BLOCK_MONTHS, check_driver_paths
from models.forecast import (
    DEFAULT_HORIZON,
    ForecastInputs,
    check_horizon,
    check_memory,
    forecast_inputs,
    prior_only,
    scenario_shocks,
    simulate_shocks,
)
from models.scenarios import (
    CALENDAR_FILE,
    Calendar,
    Scenario,
    load_calendar,
    load_scenario,
    load_scenarios,
)

if TYPE_CHECKING:  # the model's modules import PyMC: loaded only when a fit is read
    from models.drivers import KnownPart
    from models.fitted import FittedModel

BASELINE = "baseline"  # the scenario every other one's move is measured from
DEFAULT_SEED = 20290120  # any fixed number: the same seed gives the same stored numbers
_UNITS = {"pathway_at_horizon": "probability", "share_of_months": "share", "ever_DC": "probability"}


class ForecastError(ValueError):
    """A forecast that cannot run as asked; ``str()`` is one line saying what to do."""


@dataclass(frozen=True)
class StoredFit:
    """A healthy fit as recorded and loaded: what the Monte Carlo stage and the ledger need."""

    run: dict[str, Any]  # its model_runs row
    model: FittedModel  # config, the arrays it was fitted on, posterior: built once, on load
    known: tuple[KnownPart, ...] = ()  # driver parts the forecast projects from the calendar


def scenarios_dir() -> Path:
    return settings.data_dir() / "scenarios"


def select_scenarios(folder: Path, names: list[str] | None) -> tuple[list[Scenario], Calendar]:
    """All scenarios in ``folder`` (sorted), or the named ones in the order given."""
    known = {s.name: s for s in load_scenarios(folder)}
    calendar = load_calendar(folder / CALENDAR_FILE)
    if not names:
        return list(known.values()), calendar
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ForecastError(
            f"unknown scenario {unknown[0]!r}; known scenarios in {folder}: {', '.join(known)}"
        )
    return [known[n] for n in dict.fromkeys(names)], calendar


def _model_run(con, db_path: Path, model_run_id: str | None) -> dict[str, Any]:
    """The newest healthy fit, or the given one, which must be healthy.

    Without an id only ordinary fits qualify: a sweep's prior refit (``purpose`` =
    ``prior_sweep``) has deliberately changed priors and fast sampling, and is used only
    when named.
    """
    where, args = (
        ("run_id = ?", [model_run_id]) if model_run_id else ("healthy AND purpose = 'fit'", [])
    )
    found = con.sql(
        f"SELECT * FROM model_runs WHERE {where} ORDER BY created_at DESC LIMIT 1", params=args
    ).pl()
    if not found.height and model_run_id:
        raise ForecastError(f"{db_path}: no fit {model_run_id!r} in model_runs")
    if not found.height:
        raise ForecastError(f"{db_path}: no healthy fit to forecast from; run `winset fit` first")
    run = found.row(0, named=True)
    if not run["healthy"]:
        raise ForecastError(
            f"fit {model_run_id} failed the health gate ({run['problems']}); "
            "unhealthy fits are never used for forecasts"
        )
    return run


def load_fitted(db_path: Path, model_run_id: str | None = None) -> StoredFit:
    """The newest healthy fit (or the given one) with its config, data and posterior."""
    from models.config import ModelConfig
    from models.drivers import model_data
    from models.fitted import FittedModel
    from models.posterior_io import load_posterior
    from models.prepared import fitted_data

    with connect(db_path, read_only=True) as con:
        run = _model_run(con, db_path, model_run_id)
        panel = con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
    config = ModelConfig.model_validate_json(run["config_json"])
    start = dt.date.fromisoformat(f"{config.start}-01")
    data, drivers = model_data(
        panel, config.series, config.drivers, start, None, config.composites, tuple(config.counts)
    )
    data_hash = fitted_data(data, config).data_hash()
    if data_hash != run["data_hash"]:
        raise ForecastError(
            f"the stored panel has changed since fit {run['run_id']} (data {data_hash[:12]}, "
            f"fitted on {run['data_hash'][:12]}); run `winset fit` again"
        )
    path = Path(run["posterior_path"])
    if not path.is_file():
        raise ForecastError(f"{path}: the posterior of fit {run['run_id']} is missing")
    posterior = load_posterior(path, config, data_hash=data_hash)
    return StoredFit(run, FittedModel.of(posterior.idata, data, config), drivers.known)


@task(cache_policy=NONE, task_run_name="forecast-inputs")
def prepare_inputs(
    stored: StoredFit,
    max_draws: int,
    driver_paths: str = "ar1",
    block_months: int = DEFAULT_BLOCK_MONTHS,
) -> ForecastInputs:
    return forecast_inputs(stored.model, max_draws, driver_paths, block_months, stored.known)


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario's simulation: its rows of the forecast tables (without the run id), and the
    shocks and per-draw horizon probabilities the driver attribution reuses."""

    tables: dict[str, pl.DataFrame]
    shocks: np.ndarray
    horizon_probs: np.ndarray


@task(cache_policy=NONE, task_run_name="simulate-{scenario.name}")
def simulate_scenario(
    inputs: ForecastInputs,
    prior: ForecastInputs,
    scenario: Scenario,
    calendar: Calendar,
    horizon: str,
    n_paths: int,
    seed: int,
) -> ScenarioRun:
    """One scenario's simulation, from the posterior and from the prior (``prior``: the same
    inputs with prior transition draws, same seed), as the rows of the forecast tables
    (without the run id), with the shocks and per-draw horizon probabilities the driver
    attribution reuses."""
    shocks = scenario_shocks(inputs, scenario, calendar, horizon)
    result = simulate_shocks(inputs, shocks, n_paths, seed)
    frames = result.to_frames()
    prior_horizon = simulate_shocks(prior, shocks, n_paths, seed).to_frames()["horizon"]
    name = pl.lit(scenario.name).alias("scenario")
    posterior = frames["horizon"].with_columns(
        name,
        pl.lit("posterior").alias("uncertainty"),
        pl.col("measure").replace_strict(_UNITS).alias("unit"),
    )
    path = frames["path_spread"].with_columns(
        name, pl.lit("path").alias("uncertainty"), pl.lit(None, pl.Float64).alias("mean")
    )
    tables = {
        "forecasts": frames["monthly"].with_columns(name),
        "forecast_summaries": pl.concat([posterior, path], how="diagonal"),
        "forecast_first_passage": frames["first_passage"].with_columns(name),
        "forecast_prior_only": prior_horizon.with_columns(name),
    }
    return ScenarioRun(tables, shocks, result.horizon_probs)


@task(cache_policy=NONE, task_run_name="attribute-{scenario}")
def attribute_scenario(
    inputs: ForecastInputs,
    scenario: str,
    runs: dict[str, ScenarioRun],
    baseline: ScenarioRun,
    n_paths: int,
    seed: int,
) -> pl.DataFrame:
    """``forecast_attribution`` rows of one scenario (without the run id): its move from the
    baseline split by driver, re-simulated with the forecast's seed."""
    known = {shock_key(r.shocks): r.horizon_probs for r in (*runs.values(), baseline)}
    split = scenario_attribution(
        inputs, runs[scenario].shocks, baseline.shocks, n_paths, seed, known
    )
    return split.to_frame().with_columns(pl.lit(scenario).alias("scenario"))


def _baseline(
    runs: dict[str, ScenarioRun],
    inputs: ForecastInputs,
    prior: ForecastInputs,
    calendar: Calendar,
    horizon: str,
    n_paths: int,
    seed: int,
) -> ScenarioRun | None:
    """The baseline scenario's run: the forecast's own, or simulated for the attribution when
    the forecast did not ask for it; None when the scenarios folder has no baseline."""
    if BASELINE in runs:
        return runs[BASELINE]
    path = scenarios_dir() / f"{BASELINE}.yaml"
    if not path.is_file():
        return None
    return simulate_scenario(inputs, prior, load_scenario(path), calendar, horizon, n_paths, seed)


@dataclass(frozen=True)
class ForecastRecord:
    run_id: str
    model_run_id: str
    model_mode: str
    origin: dt.date
    horizon: str
    n_paths: int
    n_draws: int
    seed: int
    driver_paths: str
    block_months: int | None  # None for ar1
    at_horizon: dict[str, tuple[float, float, float]]  # scenario -> mean P(DC, SE, MC)
    prior_at_horizon: dict[str, tuple[float, float, float]]  # the same from the prior alone
    wall_seconds: float

    def describe(self) -> str:
        width = max(len(name) for name in self.at_horizon)
        lines = [
            f"Forecast {self.run_id} from fit {self.model_run_id} ({self.model_mode}): "
            f"{len(self.at_horizon)} scenarios, {self.n_draws} draws x {self.n_paths} paths, "
            f"{self.origin:%Y-%m} to {self.horizon}, seed {self.seed}, driver paths "
            f"{describe_driver_paths(self.driver_paths, self.block_months)} "
            f"({self.wall_seconds:.1f} s). Pathway in {self.horizon}, from the posterior and "
            "from the prior alone (transition parameters drawn from their priors):"
        ]
        for name, posterior in self.at_horizon.items():
            prior = self.prior_at_horizon[name]
            lines.append(f"  {name:<{width}}  posterior   {_probabilities(posterior)}")
            lines.append(f"  {'':<{width}}  prior only  {_probabilities(prior)}")
            change = tuple(a - b for a, b in zip(posterior, prior, strict=True))
            lines.append(f"  {'':<{width}}  difference  {_probabilities(change, signed=True)}")
        lines.append(
            "Tables: forecasts, forecast_summaries, forecast_first_passage, forecast_prior_only,"
            " forecast_attribution."
        )
        return "\n".join(lines)


def _probabilities(p: tuple[float, ...], signed: bool = False) -> str:
    """``DC 31.0%  SE ...``; ``signed``: differences in percentage points (``DC +0.2 pp``)."""
    shown = (f"{100 * v:+5.1f} pp" if signed else f"{v:6.1%}" for v in p)
    return "  ".join(f"{s} {v}" for s, v in zip(("DC", "SE", "MC"), shown, strict=True))


def describe_driver_paths(method: str, block_months: int | None) -> str:
    """How driver paths were drawn, in the words the CLI and logs use."""
    if method == "bootstrap":
        return f"bootstrap ({block_months}-month blocks of historical innovations)"
    return "ar1 (Gaussian innovations)"


@flow(name="forecast")
def forecast(
    db_path: Path | None = None,
    scenarios: list[str] | None = None,
    n_paths: int = 1000,
    horizon: str = DEFAULT_HORIZON,
    seed: int = DEFAULT_SEED,
    model_run_id: str | None = None,
    max_draws: int = 1000,
    driver_paths: str = "ar1",
    block_months: int = DEFAULT_BLOCK_MONTHS,
) -> ForecastRecord:
    """Simulate every scenario (or the named ones) from a healthy fit and store the results.

    ``driver_paths``: ``ar1`` (Gaussian AR(1) innovations) or ``bootstrap`` (moving blocks of
    ``block_months`` historical innovations); the choice is stored with the run.
    """
    started = time.perf_counter()
    db_path = Path(db_path or settings.warehouse_path())
    if n_paths < 1 or max_draws < 1:
        raise ForecastError(f"n_paths and max_draws must be >= 1, got {n_paths}, {max_draws}")
    try:
        check_driver_paths(driver_paths, block_months)
        check_horizon(horizon)
    except ValueError as exc:
        raise ForecastError(str(exc)) from None
    budget = settings.memory_budget_bytes()
    block = block_months if driver_paths == "bootstrap" else None
    chosen, calendar = select_scenarios(scenarios_dir(), scenarios)
    stored = load_fitted(db_path, model_run_id)
    inputs = prepare_inputs(stored, max_draws, driver_paths, block_months)
    # Every scenario is one task and they run at once: the budget covers all of them.
    check_memory(
        inputs, horizon, n_paths, budget, concurrent=len(chosen), setting=settings.MEMORY_MB
    )
    prior = prior_only(inputs, stored.model.config, seed)
    futures = [
        simulate_scenario.submit(inputs, prior, s, calendar, horizon, n_paths, seed) for s in chosen
    ]
    runs = {s.name: f.result() for s, f in zip(chosen, futures, strict=True)}
    baseline = _baseline(runs, inputs, prior, calendar, horizon, n_paths, seed)
    moved = [name for name in runs if name != BASELINE] if baseline is not None else []
    splits = [
        attribute_scenario.submit(inputs, name, runs, baseline, n_paths, seed) for name in moved
    ]
    parts = [r.tables for r in runs.values()]
    if splits:
        parts.append({"forecast_attribution": pl.concat([f.result() for f in splits])})
    run_id = f"fc-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    tables = {
        table: pl.concat(p[table] for p in parts if table in p).with_columns(
            pl.lit(run_id).alias("run_id")
        )
        for table in dict.fromkeys(t for p in parts for t in p)
    }
    origin = inputs.origin.astype("datetime64[D]").astype(dt.date)
    wall = time.perf_counter() - started
    run = {
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "model_run_id": stored.run["run_id"],
        "model_mode": stored.run["mode"],
        "healthy_model": stored.run["healthy"],
        "origin_month": origin,
        "horizon": dt.date.fromisoformat(f"{horizon}-01"),
        "n_paths": n_paths,
        "n_draws": inputs.n_draws,
        "seed": seed,
        "driver_paths": driver_paths,
        "block_months": block,
        "scenarios_json": json.dumps(
            {
                "scenarios": [s.model_dump(mode="json") for s in chosen],
                "calendar": calendar.model_dump(mode="json"),
            },
            sort_keys=True,
        ),
        "wall_seconds": wall,
    }
    with connect(db_path) as con:
        write_rows(con, {"forecast_runs": pl.DataFrame([run]), **tables})
    at_horizon = tables["forecast_summaries"].filter(
        pl.col("measure") == "pathway_at_horizon", pl.col("uncertainty") == "posterior"
    )  # rows in pathway order DC, SE, MC (models/simulation_result.py)
    prior_at = tables["forecast_prior_only"].filter(pl.col("measure") == "pathway_at_horizon")
    record = ForecastRecord(
        run_id=run_id,
        model_run_id=stored.run["run_id"],
        model_mode=stored.run["mode"],
        origin=origin,
        horizon=horizon,
        n_paths=n_paths,
        n_draws=inputs.n_draws,
        seed=seed,
        driver_paths=driver_paths,
        block_months=block,
        at_horizon={
            s.name: tuple(at_horizon.filter(pl.col("scenario") == s.name)["mean"]) for s in chosen
        },
        prior_at_horizon={
            s.name: tuple(prior_at.filter(pl.col("scenario") == s.name)["mean"]) for s in chosen
        },
        wall_seconds=wall,
    )
    get_run_logger().info(record.describe())
    return record
