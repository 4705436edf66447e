"""The ``sweep`` flow: one scenario, many shock sizes -> how the 2029 pathway responds.

A grid file (YAML, examples in ``data/sweeps/``) names a base scenario from
``data/scenarios/`` and one or more *parameters*; each parameter has a list of ``values`` and
the ``shocks`` it scales. A parameter's shocks are written like scenario shocks (driver,
start, duration_months, decay, why), except that ``size`` is the offset *per unit of the
parameter*: value 2 doubles it, value 0 switches it off. Every grid point (one value per
parameter, all combinations) is simulated with the base scenario's shocks, the calendar and
its own scaled shocks. ``--grid NAME=V1,V2`` on the command line replaces a parameter's
values. Errors name the file and the field; a grid of more than ``max_points`` points is
refused before anything runs.

Prior sensitivity: an axis named ``priors.<field>`` (``priors.stay_logit``,
``priors.beta.INTL.sigma``; :mod:`models.prior_axes`) has only ``values``, in the file or added
with ``--grid priors.stay_logit=3,4,5``. Each distinct combination of prior values is refitted
once, in fast mode (``ModelConfig.fast()``: 2 chains x 500 draws, looser gate), on the swept
fit's data, and that setting's points are simulated from the refit's posterior instead of the
swept fit's. Refits are recorded in ``model_runs`` like any fit (``purpose = 'prior_sweep'``,
so forecasts never pick them by default) and reused when a sweep is run again (same config
hash and data hash); more than ``max_refits`` of them is refused before anything runs. Their
points carry ``from_refit``, ``refit_model_run_id``, ``refit_mode`` and ``refit_healthy`` in
``sweep_results``: a refit that fails its gate is recorded and its points are stored flagged,
and left out of the summary, never mixed silently with healthy ones. Refits run one after
another in this process (each uses both cores), whatever the runner.

Driver paths: ``driver_paths: bootstrap`` (or ``--driver-paths bootstrap``) draws future driver
innovations as moving blocks of historical ones instead of Gaussian (:mod:`models.driver_paths`).

Parallelism: grid points are cut into chunks, one Prefect task per chunk. The default runner
is a pool of threads: the simulator spends its time inside NumPy calls that release the GIL,
so two threads use both cores (measured on the bare simulator with the machine idle: 1.6x on
two threads, 1.7x on two processes), while Prefect's process-pool workers each import Prefect
and the flows first (about 8 CPU-seconds for two), which a sweep of 100 points x 100,000 paths
does not win back (benchmarks/sweep.py). ``runner="processes"`` is there for heavier grids;
``dask_address`` sends the same tasks to a Dask cluster. Each point's seed is derived from
the sweep seed and the point's index, so the numbers do not depend on the runner, the
chunking or the number of workers, and the sweep id (a hash of everything that determines
them) makes re-running a sweep replace its rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl
from prefect import flow, get_client, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.context import get_run_context
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from flows import settings
from flows.forecast import (
    StoredFit,
    describe_driver_paths,
    load_fitted,
    scenarios_dir,
    select_scenarios,
)
from flows.warehouse import connect, transaction
from models.forecast import (
    ForecastInputs,
    Grid,
    GridError,
    check_memory,
    forecast_inputs,
    load_grid,
    point_seed,
    simulate_shocks,
)
from models.prior_axes import (
    PRIOR_DETERMINED_SPREAD,
    Setting,
    describe_setting,
    prior_determined,
    prior_variant,
    refit_config,
    setting_of,
)
from models.scenarios import Calendar, Scenario, shock_matrix

if TYPE_CHECKING:  # the model's modules import PyMC; sweep workers only simulate
    from models.fitted import FittedModel

Runner = Literal["processes", "threads"]


@task(cache_policy=NONE, task_run_name="simulate-points-{point_ids[0]}")
def simulate_points(
    inputs: ForecastInputs, shocks: list[np.ndarray], point_ids: list[int], n_paths: int, seed: int
) -> pl.DataFrame:
    """Horizon summaries (posterior intervals) of a chunk of grid points."""
    frames = []
    for point_id, point_shocks in zip(point_ids, shocks, strict=True):
        result = simulate_shocks(inputs, point_shocks, n_paths, point_seed(seed, point_id))
        frames.append(result.to_frames()["horizon"].with_columns(point_id=point_id))
    return pl.concat(frames)


REFIT_MODES = {
    "fast": "ModelConfig.fast(): 2 chains x 500 draws and a looser gate, not publication fits",
    "custom": "sampler and gate from another config file",
}


@dataclass(frozen=True)
class Refit:
    """The fit behind one prior setting's points."""

    setting: Setting
    model_run_id: str
    mode: str  # fast (ModelConfig.fast()) | custom (sampler and gate of another config file)
    healthy: bool
    problems: str
    posterior_path: Path
    reused: bool  # an identical fit (config and data hash) was already recorded
    # The validity gate (models/validity.py): under some priors the states stop being the
    # essay's pathways, and that refit's P(DC) is then not the headline's quantity. Its points
    # are kept (the sweep asks how far the priors move the number) and it is named.
    valid: bool | None = None  # None: not measured
    validity_problems: str = ""

    def describe(self) -> str:
        status = "healthy" if self.healthy else f"UNHEALTHY ({self.problems}): points flagged"
        if self.valid is False:
            status += f"; NOT VALID ({self.validity_problems})"
        again = ", reused" if self.reused else ""
        return f"  {describe_setting(self.setting)}: {self.model_run_id} {status}{again}"


@dataclass(frozen=True)
class SweepRecord:
    sweep_id: str
    source: str
    model_run_id: str
    parameters: tuple[str, ...]
    points: int
    n_draws: int
    n_paths: int
    mode: str
    wall_seconds: float
    horizon: str
    driver_paths: str
    block_months: int | None  # None for ar1
    refits: tuple[Refit, ...]
    # (P(DC), point) lowest and highest among points from healthy fits; None if there are none
    dc_range: tuple[tuple[float, str], tuple[float, str]] | None
    prior_determined: bool | None = None  # None: not a prior-only sweep

    def describe(self) -> str:
        lines = [
            f"Sweep {self.sweep_id} ({self.source}: {' x '.join(self.parameters)}, "
            f"{self.points} points, {self.n_draws} draws x {self.n_paths} paths, {self.mode}, "
            f"driver paths {describe_driver_paths(self.driver_paths, self.block_months)}, "
            f"{self.wall_seconds:.1f} s) from fit {self.model_run_id}."
        ]
        if self.refits:
            modes = sorted({r.mode for r in self.refits})
            unhealthy = sum(not r.healthy for r in self.refits)
            invalid = sum(r.valid is False for r in self.refits)
            lines.append(
                f"Prior-axis points come from {len(self.refits)} {'/'.join(modes)} refits "
                f"({'; '.join(REFIT_MODES[m] for m in modes)}), not from that fit; "
                f"{unhealthy} failed the health gate, {invalid} the validity gate (their "
                "states are not the essay's pathways):"
            )
            lines.extend(r.describe() for r in self.refits)
        if self.dc_range is None:
            lines.append("No point comes from a healthy fit: no summary.")
        else:
            (low, low_at), (high, high_at) = self.dc_range
            healthy = " (points of healthy fits)" if any(not r.healthy for r in self.refits) else ""
            lines.append(
                f"P(DC in {self.horizon}) from {low:.1%} ({low_at}) to {high:.1%} ({high_at})"
                f"{healthy}."
            )
        if self.prior_determined is not None and self.dc_range is not None:
            spread = self.dc_range[1][0] - self.dc_range[0][0]
            verdict = "PRIOR-DETERMINED" if self.prior_determined else "not prior-determined"
            lines.append(
                f"Across these priors P(DC in {self.horizon}) moves {spread:.1%}: the headline "
                f"of fit {self.model_run_id} is {verdict} (threshold "
                f"{PRIOR_DETERMINED_SPREAD:.0%})."
            )
        lines.append(
            "Table: sweep_results (columns from_refit, refit_model_run_id, refit_healthy)."
            if self.refits
            else "Table: sweep_results."
        )
        return "\n".join(lines)


def _replace_sweep(con, sweep_id: str, frames: dict[str, pl.DataFrame]) -> None:
    """Replace the sweep's rows in every table, in one transaction."""
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"DELETE FROM {table} WHERE sweep_id = ?", [sweep_id])
            con.register("winset_sweep", frame)  # a failure rolls back and closes the file
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM winset_sweep")
            con.unregister("winset_sweep")


def sweep_id(
    grid: Grid,
    base: Scenario,
    calendar: Calendar,
    model_run_id: str,
    refit_hashes: tuple[str, ...] = (),
) -> str:
    """A hash of everything that determines the numbers (not the description, limits or
    runner). The driver-path options enter only for ``bootstrap`` (an ``ar1`` sweep keeps the
    id it had before they existed); ``refit_hashes`` are the config hashes of the prior
    refits (priors, sampler and gate)."""
    exclude = {"description", "max_points", "max_refits"}
    if grid.driver_paths == "ar1":
        exclude |= {"driver_paths", "block_months"}
    identity: dict = {
        "grid": grid.model_dump(mode="json", exclude=exclude),
        "base_scenario": base.model_dump(mode="json"),
        "calendar": calendar.model_dump(mode="json"),
        "model_run_id": model_run_id,
    }
    if refit_hashes:
        identity["refits"] = list(refit_hashes)
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"sweep-{digest[:16]}"


def prior_configs(spec: Grid, stored: StoredFit, source: str, sampling: Path | None) -> dict:
    """{setting: config to refit} for every prior setting of the grid (empty without prior
    axes), all validated against the swept fit's config before anything is fitted."""
    from flows.fit import load_config

    if not spec.prior_axes:
        return {}
    sampler = load_config(sampling, fast=False) if sampling else None
    configs = {}
    for setting in spec.settings():
        try:
            configs[setting] = refit_config(prior_variant(stored.model.config, setting), sampler)
        except ValueError as exc:
            raise GridError(f"{source}: {exc}") from None
    return configs


def _recorded_fit(db_path: Path, config_hash: str, data_hash: str) -> dict | None:
    """The newest recorded fit of this exact config on this data whose posterior still exists."""
    with connect(db_path, read_only=True) as con:
        rows = con.sql(
            "SELECT * FROM model_runs WHERE config_hash = ? AND data_hash = ? "
            "ORDER BY created_at DESC",
            params=[config_hash, data_hash],
        ).pl()
    usable = (r for r in rows.iter_rows(named=True) if Path(r["posterior_path"]).is_file())
    return next(usable, None)


def refit(db_path: Path, setting: Setting, config, data_hash: str, mode: str) -> Refit:
    """Reuse the recorded fit of ``config`` on this data, or fit and record it now."""
    from flows.fit import fit_and_record

    found = _recorded_fit(db_path, config.config_hash(), data_hash)
    if found is None:
        get_run_logger().info(f"Refitting with {describe_setting(setting)} ({mode})")
        fit_and_record(db_path, config, mode=mode, purpose="prior_sweep")
        found = _recorded_fit(db_path, config.config_hash(), data_hash)
        if found is None:  # the panel changed during the refit: its data hash differs
            raise GridError(f"refit with {describe_setting(setting)}: the panel changed; rerun")
        reused = False
    else:
        reused = True
    return Refit(
        setting,
        found["run_id"],
        mode,
        bool(found["healthy"]),
        found["problems"],
        Path(found["posterior_path"]),
        reused,
        found.get("valid"),
        found.get("validity_problems") or "",
    )


def _inputs(model: FittedModel, stored: StoredFit, spec: Grid) -> ForecastInputs:
    """Simulator inputs from a fit of the swept fit's data, as the grid asks."""
    return forecast_inputs(
        model, spec.max_draws, spec.driver_paths, spec.block_months, stored.known
    )


def _refit_inputs(run: Refit, config, stored: StoredFit, spec: Grid) -> ForecastInputs:
    """Simulator inputs from a refit's posterior (checked against its config and the data)."""
    from models.fitted import FittedModel
    from models.posterior_io import load_posterior

    posterior = load_posterior(run.posterior_path, config, data_hash=stored.run["data_hash"])
    return _inputs(FittedModel.of(posterior.idata, stored.model.data, config), stored, spec)


@flow(name="sweep")
def sweep_flow(
    spec: Grid,
    source: str,
    db_path: Path | None = None,
    model_run_id: str | None = None,
    points_per_task: int | None = None,
    refit_sampling: Path | None = None,
    concurrent: int = 1,
) -> SweepRecord:
    """Simulate every point of a validated grid (read from ``source``) against a healthy fit,
    or against its refit with the point's priors; store one row set per sweep id.

    ``refit_sampling``: a model config file whose sampler and health gate the prior refits use
    instead of fast mode (tests use test-sized sampling). ``concurrent``: how many points the
    task runner simulates at once, for the memory budget.
    """
    started = time.perf_counter()
    db_path = Path(db_path or settings.warehouse_path())
    budget = settings.memory_budget_bytes()
    try:
        [base], calendar = select_scenarios(scenarios_dir(), [spec.base_scenario])
    except ValueError as exc:
        raise GridError(f"{source}: base_scenario: {exc}") from None
    stored = load_fitted(db_path, model_run_id)
    # Checked before any refit: refits are thinned to at most max_draws draws each.
    checked = _inputs(stored.model, stored, spec)
    try:
        check_memory(
            checked, spec.horizon, spec.n_paths, budget,
            concurrent=min(concurrent, len(spec.points())),
            n_draws=spec.max_draws if spec.prior_axes else None, setting=settings.MEMORY_MB,
        )  # fmt: skip
    except ValueError as exc:
        raise GridError(f"{source}: n_paths: {exc}") from None
    configs = prior_configs(spec, stored, source, refit_sampling)
    refit_mode = "custom" if refit_sampling else "fast"
    refits = {
        setting: refit(db_path, setting, config, stored.run["data_hash"], refit_mode)
        for setting, config in configs.items()
    }
    inputs: dict[Setting, ForecastInputs] = {
        s: _refit_inputs(refits[s], configs[s], stored, spec) for s in configs
    } or {(): checked}
    first = next(iter(inputs.values()))
    months = first.months_to(spec.horizon)
    points = spec.points()
    shocks = [
        shock_matrix(
            base.model_copy(update={"shocks": (*base.shocks, *spec.point_shocks(point))}),
            calendar,
            months,
            first.drivers.names,
        )
        for point in points
    ]
    chunk = points_per_task or math.ceil(len(points) / (4 * (os.cpu_count() or 1)))
    results = _simulate_all(inputs, points, shocks, chunk, spec)
    identity = sweep_id(
        spec, base, calendar, stored.run["run_id"], tuple(c.config_hash() for c in configs.values())
    )
    behind = [refits.get(setting_of(point)) for point in points]
    described = pl.DataFrame(
        {
            "point_id": range(len(points)),
            "parameters": [json.dumps(p) for p in points],
            "seed": [point_seed(spec.seed, i) for i in range(len(points))],
            "from_refit": [r is not None for r in behind],
            "refit_model_run_id": [r.model_run_id if r else None for r in behind],
            "refit_mode": [r.mode if r else None for r in behind],
            "refit_healthy": [r.healthy if r else None for r in behind],
        },
        schema_overrides={
            "refit_model_run_id": pl.String, "refit_mode": pl.String, "refit_healthy": pl.Boolean
        },
    )  # fmt: skip
    rows = (
        results.join(described, on="point_id")
        .with_columns(sweep_id=pl.lit(identity))
        .sort("point_id", "measure", "pathway")
    )
    mode = type(get_run_context().task_runner).__name__.removesuffix("TaskRunner").lower()
    wall = time.perf_counter() - started
    block = spec.block_months if spec.driver_paths == "bootstrap" else None
    dc = dc_range(rows)
    determined = prior_determined(tuple(spec.parameters), dc[0][0], dc[1][0]) if dc else None
    record = {
        "sweep_id": identity,
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "grid_json": spec.model_dump_json(),
        "source": source,
        "model_run_id": stored.run["run_id"],
        "points": len(points),
        "n_paths": spec.n_paths,
        "n_draws": first.n_draws,
        "mode": mode,
        "wall_seconds": wall,
        "driver_paths": spec.driver_paths,
        "block_months": block,
        "refits": len(refits),
        "unhealthy_refits": sum(not r.healthy for r in refits.values()),
        # the spread that marks a headline prior-determined (prior axes only; else nulls)
        "dc_at_horizon_min": dc[0][0] if determined is not None else None,
        "dc_at_horizon_max": dc[1][0] if determined is not None else None,
        "prior_determined": determined,
    }
    with connect(db_path) as con:
        _replace_sweep(con, identity, {"sweeps": pl.DataFrame([record]), "sweep_results": rows})
    summary = SweepRecord(
        sweep_id=identity,
        source=source,
        model_run_id=stored.run["run_id"],
        parameters=tuple(spec.parameters),
        points=len(points),
        n_draws=first.n_draws,
        n_paths=spec.n_paths,
        mode=mode,
        wall_seconds=wall,
        horizon=spec.horizon,
        driver_paths=spec.driver_paths,
        block_months=block,
        refits=tuple(refits.values()),
        dc_range=dc,
        prior_determined=determined,
    )
    get_run_logger().info(summary.describe())
    return summary


def _simulate_all(
    inputs: dict[Setting, ForecastInputs],
    points: list[dict[str, float]],
    shocks: list,
    chunk: int,
    spec: Grid,
) -> pl.DataFrame:
    """Every point's horizon summaries: chunks of ``chunk`` points of one prior setting per
    task, each simulated from that setting's inputs (one set without prior axes)."""
    futures = []
    for setting, setting_inputs in inputs.items():
        ids = [i for i, point in enumerate(points) if setting_of(point) == setting]
        for lo in range(0, len(ids), chunk):
            part = ids[lo : lo + chunk]
            futures.append(
                simulate_points.submit(
                    setting_inputs, [shocks[i] for i in part], part, spec.n_paths, spec.seed
                )
            )
    return pl.concat([f.result() for f in futures])


def dc_range(rows: pl.DataFrame) -> tuple[tuple[float, str], tuple[float, str]] | None:
    """Lowest and highest P(DC at the horizon) with their points, over points whose fit is
    healthy (the swept fit, or a healthy refit); ``None`` if no point qualifies."""
    dc = rows.filter(
        pl.col("measure") == "pathway_at_horizon",
        pl.col("pathway") == "DC",
        pl.col("refit_healthy").fill_null(True),
    )
    if dc.is_empty():
        return None
    low, high = dc.row(dc["mean"].arg_min(), named=True), dc.row(dc["mean"].arg_max(), named=True)
    return (low["mean"], low["parameters"]), (high["mean"], high["parameters"])


def sweep(
    grid_path: Path,
    grid: list[str] | None = None,
    db_path: Path | None = None,
    dask_address: str | None = None,
    model_run_id: str | None = None,
    runner: Runner = "threads",
    workers: int | None = None,
    points_per_task: int | None = None,
    driver_paths: str | None = None,
    block_months: int | None = None,
    refit_sampling: Path | None = None,
    max_points: int | None = None,
    max_refits: int | None = None,
) -> SweepRecord:
    """Run :func:`sweep_flow` on local threads (default), processes, or a Dask cluster.

    The grid file, ``grid`` overrides (``NAME=V1,V2``, or ``priors.<field>=V1,V2`` to add a
    prior axis), the driver-path options (which replace the file's) and ``max_points`` /
    ``max_refits`` (which replace the file's limits and lift their ceilings) are checked
    before the flow starts.
    """
    spec = load_grid(grid_path, grid, driver_paths, block_months, max_points, max_refits)
    task_runner: TaskRunner
    concurrent = workers or os.cpu_count() or 1
    if dask_address:
        from prefect_dask import DaskTaskRunner

        task_runner = DaskTaskRunner(address=dask_address)
        concurrent = 1  # the budget is then per Dask worker
    elif runner == "processes":
        task_runner = ProcessPoolTaskRunner(max_workers=workers)
    else:
        task_runner = ThreadPoolTaskRunner(max_workers=concurrent)
    with _api_for_workers():
        return sweep_flow.with_options(task_runner=task_runner)(
            spec=spec, source=str(grid_path), db_path=db_path, model_run_id=model_run_id,
            points_per_task=points_per_task, refit_sampling=refit_sampling,
            concurrent=concurrent,
        )  # fmt: skip


def _api_for_workers() -> contextlib.AbstractContextManager:
    """Pin the Prefect API URL so task workers in other processes report to this one's.

    Without a configured ``PREFECT_API_URL`` (how ``winset`` runs) Prefect starts a temporary
    server in this process, and every pool worker would try to start a server of its own (and
    time out, measured); the URL in the settings travels with each task to its worker.
    """
    if PREFECT_API_URL.value():
        return contextlib.nullcontext()
    api_url = str(get_client(sync_client=True).api_url)  # starts the temporary server
    return temporary_settings({PREFECT_API_URL: api_url})
