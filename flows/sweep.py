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
from typing import Literal

import numpy as np
import polars as pl
from prefect import flow, get_client, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.context import get_run_context
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from flows import settings
from flows.forecast import load_fitted, scenarios_dir, select_scenarios
from flows.warehouse import connect, transaction
from models.forecast import (
    ForecastInputs,
    Grid,
    GridError,
    forecast_inputs,
    load_grid,
    point_seed,
    simulate_shocks,
)
from models.scenarios import Calendar, Scenario, shock_matrix

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
    dc_range: tuple[tuple[float, str], tuple[float, str]]  # (P(DC), point) lowest and highest

    def describe(self) -> str:
        (low, low_at), (high, high_at) = self.dc_range
        return (
            f"Sweep {self.sweep_id} ({self.source}: {' x '.join(self.parameters)}, "
            f"{self.points} points, {self.n_draws} draws x {self.n_paths} paths, {self.mode}, "
            f"{self.wall_seconds:.1f} s) from fit {self.model_run_id}.\n"
            f"P(DC in {self.horizon}) from {low:.1%} ({low_at}) to {high:.1%} ({high_at}). "
            f"Table: sweep_results."
        )


def _replace_sweep(con, sweep_id: str, frames: dict[str, pl.DataFrame]) -> None:
    """Replace the sweep's rows in every table, in one transaction."""
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"DELETE FROM {table} WHERE sweep_id = ?", [sweep_id])
            con.register("winset_sweep", frame)  # a failure rolls back and closes the file
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM winset_sweep")
            con.unregister("winset_sweep")


def sweep_id(grid: Grid, base: Scenario, calendar: Calendar, model_run_id: str) -> str:
    """A hash of everything that determines the numbers (not the description or runner)."""
    identity = {
        "grid": grid.model_dump(mode="json", exclude={"description", "max_points"}),
        "base_scenario": base.model_dump(mode="json"),
        "calendar": calendar.model_dump(mode="json"),
        "model_run_id": model_run_id,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"sweep-{digest[:16]}"


@flow(name="sweep")
def sweep_flow(
    spec: Grid,
    source: str,
    db_path: Path | None = None,
    model_run_id: str | None = None,
    points_per_task: int | None = None,
) -> SweepRecord:
    """Simulate every point of a validated grid (read from ``source``) against a healthy fit;
    store one row set per sweep id."""
    started = time.perf_counter()
    db_path = Path(db_path or settings.warehouse_path())
    try:
        [base], calendar = select_scenarios(scenarios_dir(), [spec.base_scenario])
    except ValueError as exc:
        raise GridError(f"{source}: base_scenario: {exc}") from None
    model = load_fitted(db_path, model_run_id)
    inputs = forecast_inputs(model.posterior.idata, model.data, model.config, spec.max_draws)
    months = inputs.months_to(spec.horizon)
    points = spec.points()
    shocks = [
        shock_matrix(
            base.model_copy(update={"shocks": (*base.shocks, *spec.point_shocks(point))}),
            calendar,
            months,
            inputs.drivers.names,
        )
        for point in points
    ]
    chunk = points_per_task or math.ceil(len(points) / (4 * (os.cpu_count() or 1)))
    futures = [
        simulate_points.submit(
            inputs,
            shocks[lo : lo + chunk],
            list(range(lo, min(lo + chunk, len(points)))),
            spec.n_paths,
            spec.seed,
        )
        for lo in range(0, len(points), chunk)
    ]
    results = pl.concat([f.result() for f in futures])
    identity = sweep_id(spec, base, calendar, model.run["run_id"])
    described = pl.DataFrame(
        {
            "point_id": range(len(points)),
            "parameters": [json.dumps(p) for p in points],
            "seed": [point_seed(spec.seed, i) for i in range(len(points))],
        }
    )
    rows = results.join(described, on="point_id").with_columns(sweep_id=pl.lit(identity))
    mode = type(get_run_context().task_runner).__name__.removesuffix("TaskRunner").lower()
    wall = time.perf_counter() - started
    record = {
        "sweep_id": identity,
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "grid_json": spec.model_dump_json(),
        "source": source,
        "model_run_id": model.run["run_id"],
        "points": len(points),
        "n_paths": spec.n_paths,
        "n_draws": inputs.n_draws,
        "mode": mode,
        "wall_seconds": wall,
    }
    with connect(db_path) as con:
        _replace_sweep(con, identity, {"sweeps": pl.DataFrame([record]), "sweep_results": rows})
    dc = rows.filter(pl.col("measure") == "pathway_at_horizon", pl.col("pathway") == "DC")
    low, high = dc.row(dc["mean"].arg_min(), named=True), dc.row(dc["mean"].arg_max(), named=True)
    summary = SweepRecord(
        sweep_id=identity,
        source=source,
        model_run_id=model.run["run_id"],
        parameters=tuple(spec.parameters),
        points=len(points),
        n_draws=inputs.n_draws,
        n_paths=spec.n_paths,
        mode=mode,
        wall_seconds=wall,
        horizon=spec.horizon,
        dc_range=((low["mean"], low["parameters"]), (high["mean"], high["parameters"])),
    )
    get_run_logger().info(summary.describe())
    return summary


def sweep(
    grid_path: Path,
    grid: list[str] | None = None,
    db_path: Path | None = None,
    dask_address: str | None = None,
    model_run_id: str | None = None,
    runner: Runner = "threads",
    workers: int | None = None,
    points_per_task: int | None = None,
) -> SweepRecord:
    """Run :func:`sweep_flow` on local threads (default), processes, or a Dask cluster.

    The grid file and ``grid`` overrides (``NAME=V1,V2``) are checked before the flow starts.
    """
    spec = load_grid(grid_path, grid)
    task_runner: TaskRunner
    if dask_address:
        from prefect_dask import DaskTaskRunner

        task_runner = DaskTaskRunner(address=dask_address)
    elif runner == "processes":
        task_runner = ProcessPoolTaskRunner(max_workers=workers)
    else:
        task_runner = ThreadPoolTaskRunner(max_workers=workers or os.cpu_count())
    with _api_for_workers():
        return sweep_flow.with_options(task_runner=task_runner)(
            spec=spec, source=str(grid_path), db_path=db_path, model_run_id=model_run_id,
            points_per_task=points_per_task,
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
