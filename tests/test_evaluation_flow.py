"""The monthly evaluation on the real bundle: four origins with tiny Monte Carlo, stored in one
transaction and read back; bad options refused in one line with exit status 2."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.evaluation import EvaluationSettings, evaluation, monthly_origins
from flows.warehouse import connect

pytestmark = pytest.mark.usefixtures("prefect_server")
TINY = EvaluationSettings(draws=20, paths=5)


def _read(db: Path, table: str) -> pl.DataFrame:
    with connect(db, read_only=True) as con:
        return con.sql(f"SELECT * FROM {table}").pl()


@pytest.mark.slow  # 76 s at a load average of 16 on 2 cores, 20 s at 5; mostly compiling
def test_four_monthly_origins_are_scored_and_stored(fitted_db: dict, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(fitted_db["db"], db)
    record = evaluation(db_path=db, since="2019-03", until="2019-06", run=TINY)
    runs = _read(db, "evaluation_runs")
    assert runs["origins"].to_list() == [4] and runs["headline"][0] == record.headline
    assert "Over 4 monthly origins" in record.headline
    scores = _read(db, "evaluation_scores")
    assert set(scores["model"]) == {"hmm", "hmm_no_drivers", "persistence", "ar1", "climatology"}
    assert set(scores["lead"]) == {1, 3, 6, 12}
    assert set(scores["target"]) == {"bilateral_tension", "us_tariff", "gdelt_cooperation"}
    # every model scored on the same outcomes: one observed value per origin, lead, series
    same = scores.group_by("origin", "lead", "target").agg(pl.col("observed").n_unique())
    assert (same["observed"] == 1).all()
    fits = _read(db, "evaluation_fits").sort("origin")
    assert fits.height == 8 and fits["converged"].all()
    assert fits.filter(pl.col("origin") > fits["origin"].min())["warm_start"].all()
    skill = _read(db, "evaluation_skill")
    hmm = skill.filter(
        (pl.col("model") == "hmm")
        & (pl.col("reference") == "persistence")
        & (pl.col("target") == "all")
    )
    assert set(hmm["lead"]) == {1, 3, 6, 12}
    assert (hmm["lower"] <= hmm["mean_diff"]).all() and (hmm["mean_diff"] <= hmm["upper"]).all()


def test_origins_and_options_are_checked(fitted_db: dict, tmp_path: Path) -> None:
    months = monthly_origins("2026-05", None, dt.date(2026, 8, 1))
    assert [m.isoformat() for m in months] == ["2026-05-01", "2026-06-01", "2026-07-01"]
    db = tmp_path / "w.duckdb"
    shutil.copy(fitted_db["db"], db)
    result = CliRunner().invoke(
        app, ["backtest", "--db", str(db), "--monthly", "--since", "2019-13"]
    )
    assert result.exit_code == 2
    assert "since/until: expected months as YYYY-MM" in result.stderr
    result = CliRunner().invoke(
        app, ["backtest", "--db", str(db), "--monthly", "--since", "2030-01"]
    )
    assert result.exit_code == 2 and "leaves no origin" in result.stderr
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM evaluation_runs").fetchone() == (0,)
    never = tmp_path / "never.duckdb"
    for since, message in (
        ("2019-13", "since/until: expected months as YYYY-MM"),
        ("2010-01", "origins: 2010-01 is before 2012-01"),
    ):
        args = ["backtest", "--db", str(never), "--monthly", "--since", since]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not never.exists()
