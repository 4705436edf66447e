"""The sweep flow on the real bundle's tiny healthy fit: a 2 x 2 grid stores one row set per
point, the default thread pool, Prefect's process pool and a Dask cluster (two worker
processes started here, on 127.0.0.1) store identical numbers, re-running replaces rather than
duplicates, grids that are too large or wrong are refused before anything is written, and
bootstrap driver paths are recorded (and make a sweep of their own).

Works on a copy of the session's warehouse; 20 draws x 20 paths per point."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml

from flows.forecast import ForecastError
from flows.sweep import sweep
from flows.warehouse import connect
from models.forecast import GridError
from models.scenarios import ScenarioError

pytestmark = pytest.mark.usefixtures("prefect_server")

EXAMPLE = Path(__file__).parents[1] / "data" / "sweeps" / "tariff_taiwan.yaml"
TWO_BY_TWO = ["tariff_shock=0,2", "taiwan_tension=0,3"]


def grid_file(folder: Path, **changes: object) -> Path:
    """The example grid with test-sized simulations (and any field changed)."""
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw.update({"n_paths": 20, "max_draws": 20, **changes})
    path = folder / "grid.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def results(db: Path) -> pl.DataFrame:
    with connect(db, read_only=True) as con:
        return con.sql("SELECT * FROM sweep_results ORDER BY point_id, measure, pathway").pl()


def sweeps(db: Path) -> pl.DataFrame:
    with connect(db) as con:  # migrates a warehouse that has never had a sweep
        return con.sql("SELECT * FROM sweeps").pl()


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def swept(fitted_db: dict, tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> dict:
    folder = tmp_path_factory.mktemp("sweep")
    db, grid = folder / "w.duckdb", grid_file(folder)
    shutil.copy(fitted_db["db"], db)
    local = sweep(grid, TWO_BY_TWO, db_path=db)
    after_local = (results(db), sweeps(db))
    remote = sweep(grid, TWO_BY_TWO, db_path=db, dask_address=dask_address)
    return {"db": db, "local": local, "remote": remote, "after_local": after_local}


def test_one_row_set_per_grid_point(swept: dict) -> None:
    rows, _ = swept["after_local"]
    assert swept["local"].points == 4 and rows["point_id"].n_unique() == 4
    assert rows.height == 4 * 7  # 3 pathways at the horizon, 3 shares of months, ever DC
    expected = [{"tariff_shock": t, "taiwan_tension": w} for t in (0.0, 2.0) for w in (0.0, 3.0)]
    stored = rows.group_by("point_id").agg(pl.col("parameters").first()).sort("point_id")
    assert [json.loads(p) for p in stored["parameters"]] == expected
    at_horizon = rows.filter(pl.col("measure") == "pathway_at_horizon")
    sums = at_horizon.group_by("point_id").agg(pl.col("mean").sum())["mean"]
    assert sums.to_list() == pytest.approx([1.0] * 4)
    assert rows.group_by("point_id").agg(pl.col("seed").first())["seed"].n_unique() == 4


def test_dask_and_the_default_runner_store_identical_numbers(swept: dict) -> None:
    local_rows, local_runs = swept["after_local"]
    assert swept["remote"].sweep_id == swept["local"].sweep_id
    assert results(swept["db"]).equals(local_rows)
    assert local_runs["mode"].to_list() == ["threadpool"]
    assert sweeps(swept["db"])["mode"].to_list() == ["dask"]


def test_rerunning_replaces_the_sweeps_rows(swept: dict, tmp_path: Path) -> None:
    before = results(swept["db"])
    grid = grid_file(tmp_path)
    again = sweep(grid, TWO_BY_TWO, db_path=swept["db"], runner="processes", workers=2)
    assert again.sweep_id == swept["local"].sweep_id and again.mode == "processpool"
    assert results(swept["db"]).equals(before)
    assert sweeps(swept["db"]).height == 1
    other = sweep(grid_file(tmp_path, seed=99), TWO_BY_TWO, db_path=swept["db"])
    assert other.sweep_id != again.sweep_id and sweeps(swept["db"]).height == 2


@pytest.mark.parametrize(
    ("changes", "grid", "error", "message"),
    [
        ({"max_points": 3}, TWO_BY_TWO, GridError, r"grid.yaml: max_points: .* 2 x 2 = 4 points"),
        ({}, ["tariff_shock=" + ",".join(map(str, range(34)))], GridError, "max_points 100"),
        ({"base_scenario": "tarif"}, [], GridError, r"base_scenario: unknown scenario 'tarif'"),
        ({"seed": -1}, [], ScenarioError, r"grid.yaml: invalid grid\n  seed: "),
        ({}, ["oil_shock=1"], GridError, "--grid oil_shock: not a parameter of"),
    ],
)
def test_bad_grids_are_refused_and_nothing_written(
    swept: dict, tmp_path: Path, changes: dict, grid: list[str], error: type, message: str
) -> None:
    before = results(swept["db"])
    with pytest.raises(error, match=message):
        sweep(grid_file(tmp_path, **changes), grid, db_path=swept["db"])
    assert results(swept["db"]).equals(before)


def test_no_healthy_fit_no_sweep(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    sweeps(db)
    with pytest.raises(ForecastError, match="run `winset fit` first"):
        sweep(grid_file(tmp_path), TWO_BY_TWO, db_path=db)
    assert sweeps(db).height == 0


def test_bootstrap_driver_paths_are_recorded_and_make_another_sweep(
    fitted_db: dict, tmp_path: Path
) -> None:
    db, grid = tmp_path / "w.duckdb", grid_file(tmp_path)
    shutil.copy(fitted_db["db"], db)
    points = ["tariff_shock=1", "taiwan_tension=0,2"]
    ar1 = sweep(grid, points, db_path=db)
    boot = sweep(grid, points, db_path=db, driver_paths="bootstrap", block_months=3)
    assert boot.sweep_id != ar1.sweep_id
    stored = sweeps(db).rows_by_key("sweep_id", named=True, unique=True)
    ours = (ar1.sweep_id, boot.sweep_id)  # the shared fit's warehouse may hold other sweeps
    paths = {s: (stored[s]["driver_paths"], stored[s]["block_months"]) for s in ours}
    assert paths == {ar1.sweep_id: ("ar1", None), boot.sweep_id: ("bootstrap", 3)}
    rows = results(db).filter(pl.col("sweep_id").is_in(ours))
    by_sweep = [rows.filter(pl.col("sweep_id") == s.sweep_id).drop("sweep_id") for s in (ar1, boot)]
    assert by_sweep[0]["seed"].equals(by_sweep[1]["seed"])  # same points, same seeds ...
    assert not by_sweep[0]["mean"].equals(by_sweep[1]["mean"])  # ... other driver paths
    assert not rows["from_refit"].any() and rows["refit_model_run_id"].is_null().all()
    assert "driver paths bootstrap (3-month blocks" in boot.describe()
