"""Options and user files that ask for too much or for nothing, met through ``winset``.

Each case is one error line naming the option or file and the limit, exit status 2, and
nothing written: a huge ``--paths`` is refused with the memory it would need (before any
simulation), a far horizon, a grid file that lifts its own ``max_points``, empty or
too-early backtest origins, and a ``prefect.yaml`` that is empty, a directory or a link loop.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.backtest import all_origin_inputs
from flows.cli import app
from flows.warehouse import connect
from models.config import from_yaml
from tests.conftest import DATA_DIR
from tests.test_forecast_flow import SCENARIOS, TABLES, copy_warehouse, counts

GRID = DATA_DIR / "sweeps" / "tariff_taiwan.yaml"


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0].removeprefix("error: ")


def sweep_rows(db: Path) -> int:
    with connect(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM sweep_results").fetchall()[0][0]


# ------------------------------------------------------------------ forecasts and sweeps


@pytest.mark.usefixtures("prefect_server")
def test_a_huge_paths_is_refused_with_the_memory_it_would_need(
    fitted_db: dict, tmp_path: Path
) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    before = counts(db)
    code, err = cli("forecast", "--db", str(db), "--paths", "1000000000000")
    assert code == 2
    line = one_error_line(err)
    runs = f"{len(SCENARIOS)} simulations at once"
    assert line.startswith(f"memory: {runs} of 1,000,000,000,000 paths x 120 draws")
    assert line.endswith(" TB, more than the budget of 4.0 GB (WINSET_MEMORY_MB); use fewer paths")
    assert counts(db) == before


@pytest.mark.usefixtures("prefect_server")
def test_the_memory_budget_is_set_by_its_variable(
    fitted_db: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    args = ("forecast", "--db", str(db), "--scenario", "baseline", "--paths", "200")
    monkeypatch.setenv("WINSET_MEMORY_MB", "1")
    code, err = cli(*args)
    assert code == 2
    assert one_error_line(err).startswith("memory: 200 paths x 120 draws x ")
    assert "more than the budget of 1.0 MB (WINSET_MEMORY_MB)" in err
    assert counts(db)["forecast_runs"] == 0
    monkeypatch.setenv("WINSET_MEMORY_MB", "64")
    code, err = cli(*args)
    assert code == 0, err
    assert counts(db)["forecast_runs"] == 1


@pytest.mark.usefixtures("prefect_server")
def test_a_horizon_far_past_the_term_is_refused(fitted_db: dict, tmp_path: Path) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    before = counts(db)
    code, err = cli("forecast", "--db", str(db), "--horizon", "2100-01")
    assert code == 2
    assert one_error_line(err) == (
        "horizon: 2100-01 is after 2031-01, the latest month forecast (the term ends in "
        "2029-01; later months would be the drivers' long-run means)"
    )
    assert counts(db) == before
    assert set(before) == set(TABLES)


def write_grid(folder: Path, **changes: object) -> Path:
    raw = yaml.safe_load(GRID.read_text())
    raw.update(changes)
    path = folder / "grid.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_a_sweep_file_cannot_raise_its_own_max_points(tmp_path: Path) -> None:
    path = write_grid(tmp_path, max_points=1_000_000)
    db = tmp_path / "never.duckdb"
    code, err = cli("sweep", str(path), "--db", str(db))
    assert code == 2
    assert one_error_line(err) == (
        f"{path}: max_points: 1,000,000 is above 1,000, the most a grid file may set; "
        "pass --max-points 1000000 to allow it"
    )
    assert not db.exists()


@pytest.mark.usefixtures("prefect_server")
def test_a_sweep_file_asking_for_too_many_paths_is_refused(fitted_db: dict, tmp_path: Path) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    before = sweep_rows(db)
    path = write_grid(tmp_path, n_paths=50_000_000)
    code, err = cli("sweep", str(path), "--db", str(db), "--workers", "2")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(f"{path}: n_paths: memory: 2 simulations at once of 50,000,000 paths")
    assert "more than the budget of 4.0 GB (WINSET_MEMORY_MB)" in line
    assert sweep_rows(db) == before


# ------------------------------------------------------------------ backtest origins


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize(
    ("origins", "message"),
    [
        (",,,", "origins: no months given; expected months as YYYY-MM"),
        (
            "1800-01",
            "origins: 1800-01 is before 2012-01: the model's window starts in 2009-01 and an "
            "origin needs 36 months of it",
        ),
    ],
)
def test_backtest_origins_that_say_nothing_or_too_early(
    tmp_path: Path, origins: str, message: str
) -> None:
    db = tmp_path / "never.duckdb"
    code, err = cli("backtest", "--origins", origins, "--db", str(db))
    assert code == 2
    assert one_error_line(err) == message
    assert not db.exists()


def test_an_origin_before_the_data_names_what_is_missing(bundled_tables: dict) -> None:
    config = from_yaml(DATA_DIR / "model.yaml")
    with pytest.raises(ValueError) as caught:
        all_origin_inputs(bundled_tables, [dt.date(2014, 6, 1), dt.date(2017, 12, 1)], config)
    assert str(caught.value) == (
        "origins: 2014-06: the data known then cannot build the panel (raw_tariffs rows of "
        "dataset 'mwaugh_us' are needed and absent)"
    )


# ------------------------------------------------------------------ prefect.yaml


@pytest.mark.parametrize("kind", ["empty", "directory", "symlink loop", "a list"])
def test_a_project_file_that_is_not_one_is_named(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "prefect.yaml"
    if kind == "empty":
        path.write_text("")
        expected = "the file is empty"
    elif kind == "directory":
        path.mkdir()
        expected = "cannot read (Is a directory)"
    elif kind == "symlink loop":
        os.symlink(path, path)
        expected = "cannot read (Too many levels of symbolic links)"
    else:
        path.write_text("- deployments\n")
        expected = "expected a mapping with a deployments list, got ['deployments']"
    code, err = cli("serve", "--file", str(path))
    assert code == 2
    assert one_error_line(err) == f"{path}: {expected}"
