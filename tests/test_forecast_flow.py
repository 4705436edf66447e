"""The forecast flow on the real bundle and its tiny healthy fit (``fitted_db``): every scenario
x month x pathway is stored, probabilities add up, the same seed stores the same numbers, and
every refusal (unknown scenario, no healthy fit, missing or corrupt posterior, a panel changed
since the fit, an unknown driver-path method) writes nothing; bootstrap driver paths run end to
end and are recorded with the run.

Each test works on its own copy of the session's warehouse, so the shared one stays as the
fixture made it. Simulation sizes are tiny (20 draws x 30 paths)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.forecast import ForecastError, forecast
from flows.warehouse import connect
from models.posterior_io import PosteriorFileError
from models.scenarios import load_scenarios

pytestmark = pytest.mark.usefixtures("prefect_server")

SCENARIOS = [s.name for s in load_scenarios(Path(__file__).parents[1] / "data" / "scenarios")]
TINY = {"n_paths": 30, "max_draws": 20}
TABLES = (
    "forecast_runs",
    "forecasts",
    "forecast_summaries",
    "forecast_first_passage",
    "forecast_attribution",
    "forecast_prior_only",
)


def copy_warehouse(fitted_db: dict, folder: Path) -> Path:
    db = folder / "w.duckdb"
    shutil.copy(fitted_db["db"], db)
    return db


def read(db: Path, table: str) -> pl.DataFrame:
    with connect(db, read_only=True) as con:
        return con.sql(f"SELECT * FROM {table}").pl()


def counts(db: Path) -> dict[str, int]:
    with connect(db) as con:  # migrates a warehouse that has never had a forecast
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}


@pytest.fixture(scope="module")
def forecasted(fitted_db: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    db = copy_warehouse(fitted_db, tmp_path_factory.mktemp("forecast"))
    first = forecast(db_path=db, seed=11, **TINY)
    second = forecast(db_path=db, seed=11, **TINY)
    other = forecast(db_path=db, scenarios=["baseline"], seed=12, **TINY)
    alone = forecast(db_path=db, scenarios=["tariff_escalation"], seed=11, **TINY)
    with connect(db, read_only=True) as con:
        last_month = con.execute("SELECT last_month FROM model_runs").fetchall()[0][0]
    return {
        "db": db, "runs": (first, second, other), "alone": alone, "last_month": last_month,
        **{t: read(db, t) for t in TABLES},
    }  # fmt: skip


def one_run(frame: pl.DataFrame, record) -> pl.DataFrame:
    return frame.filter(pl.col("run_id") == record.run_id).drop("run_id").sort(pl.all())


def test_every_scenario_month_and_pathway_is_stored(forecasted: dict) -> None:
    first = forecasted["runs"][0]
    rows = one_run(forecasted["forecasts"], first)
    months = pl.date_range(
        forecasted["last_month"] + dt.timedelta(days=31), dt.date(2029, 1, 1), "1mo", eager=True
    )
    assert rows.height == len(SCENARIOS) * len(months) * 3
    assert sorted(set(rows["scenario"])) == SCENARIOS
    assert sorted(set(rows["month"])) == months.to_list()
    assert set(rows["pathway"]) == {"DC", "SE", "MC"}
    totals = rows.group_by("scenario", "month").agg(pl.col("mean").sum())
    assert totals["mean"].min() == pytest.approx(1.0) and totals["mean"].max() == pytest.approx(1.0)
    assert (rows["q05"] <= rows["q50"]).all() and (rows["q50"] <= rows["q95"]).all()


def test_summaries_and_first_passage_per_scenario(forecasted: dict) -> None:
    first = forecasted["runs"][0]
    summaries = one_run(forecasted["forecast_summaries"], first)
    per = summaries.group_by("scenario", "uncertainty").len().sort(pl.all())
    assert set(per.filter(pl.col("uncertainty") == "posterior")["len"]) == {7}
    assert set(per.filter(pl.col("uncertainty") == "path")["len"]) == {4}
    at_horizon = summaries.filter(pl.col("measure") == "pathway_at_horizon")
    assert at_horizon.group_by("scenario").agg(pl.col("mean").sum())["mean"].to_list() == (
        pytest.approx([1.0] * len(SCENARIOS))
    )
    passage = one_run(forecasted["forecast_first_passage"], first).sort("scenario", "month")
    for _, group in passage.group_by("scenario"):
        assert group["mean"].diff().drop_nulls().min() >= 0  # a cumulative probability


def test_every_scenario_is_also_forecast_from_the_prior_alone(forecasted: dict) -> None:
    first = forecasted["runs"][0]
    prior = one_run(forecasted["forecast_prior_only"], first)
    posterior = one_run(forecasted["forecast_summaries"], first).filter(
        pl.col("uncertainty") == "posterior"
    )
    key = ["scenario", "measure", "pathway"]
    assert prior.select(key).sort(key).equals(posterior.select(key).sort(key))
    at_horizon = prior.filter(pl.col("measure") == "pathway_at_horizon")
    totals = at_horizon.group_by("scenario").agg(pl.col("mean").sum())["mean"]
    assert totals.to_list() == pytest.approx([1.0] * len(SCENARIOS))
    assert (prior["q05"] <= prior["q95"]).all()
    # same paths, other parameters: the two forecasts differ
    joined = at_horizon.join(posterior, on=key, suffix="_posterior")
    assert (joined["mean"] - joined["mean_posterior"]).abs().max() > 0
    # both are printed, with the difference, for every scenario
    text = first.describe()
    assert text.count("prior only") == len(SCENARIOS) and text.count("difference") == len(SCENARIOS)
    change = first.at_horizon["baseline"][0] - first.prior_at_horizon["baseline"][0]
    assert f"DC {100 * change:+5.1f} pp" in text


def test_the_same_seed_stores_the_same_numbers(forecasted: dict) -> None:
    first, second, other = forecasted["runs"]
    for table in (
        "forecasts",
        "forecast_summaries",
        "forecast_first_passage",
        "forecast_prior_only",
    ):
        assert one_run(forecasted[table], first).equals(one_run(forecasted[table], second))
    baseline = one_run(forecasted["forecasts"], first).filter(pl.col("scenario") == "baseline")
    assert not baseline.equals(one_run(forecasted["forecasts"], other))


def test_each_scenario_move_is_split_by_driver(forecasted: dict) -> None:
    first = forecasted["runs"][0]
    split = one_run(forecasted["forecast_attribution"], first)
    assert sorted(set(split["scenario"])) == [s for s in SCENARIOS if s != "baseline"]
    assert set(split["part"]) == {"W_US", "W_CN", "INTL", "interaction", "total"}
    parts = (
        split.filter(pl.col("part") != "total")
        .group_by("scenario", "pathway")
        .agg(pl.col("mean").sum().alias("parts"))
    )
    at = one_run(forecasted["forecast_summaries"], first).filter(
        pl.col("measure") == "pathway_at_horizon", pl.col("uncertainty") == "posterior"
    )
    base = at.filter(pl.col("scenario") == "baseline").select("pathway", base="mean")
    moved = at.join(base, on="pathway").select(
        "scenario", "pathway", (pl.col("mean") - pl.col("base")).alias("moved")
    )
    total = split.filter(pl.col("part") == "total").select("scenario", "pathway", "mean")
    checked = total.join(parts, on=["scenario", "pathway"]).join(moved, on=["scenario", "pathway"])
    assert checked.height == 3 * (len(SCENARIOS) - 1)
    assert (checked["mean"] - checked["parts"]).abs().max() < 1e-12  # parts add up to the total
    assert (checked["mean"] - checked["moved"]).abs().max() < 1e-12  # the stored move
    # tariff escalation shocks the two win-sets only: tension's part is exactly zero
    intl = split.filter(pl.col("scenario") == "tariff_escalation", pl.col("part") == "INTL")
    assert intl["mean"].to_list() == [0.0, 0.0, 0.0] and intl["q95"].to_list() == [0.0] * 3


def test_a_forecast_without_the_baseline_still_splits_its_moves(forecasted: dict) -> None:
    """The baseline is simulated for the split alone; with the same seed the numbers are the
    ones of the full forecast (common random numbers)."""
    first, alone = forecasted["runs"][0], forecasted["alone"]
    assert set(one_run(forecasted["forecasts"], alone)["scenario"]) == {"tariff_escalation"}
    full = one_run(forecasted["forecast_attribution"], first).filter(
        pl.col("scenario") == "tariff_escalation"
    )
    assert one_run(forecasted["forecast_attribution"], alone).equals(full)


def test_the_run_record_says_what_was_simulated(forecasted: dict) -> None:
    first = forecasted["runs"][0]
    run = forecasted["forecast_runs"].filter(pl.col("run_id") == first.run_id).row(0, named=True)
    assert (run["n_paths"], run["n_draws"], run["seed"]) == (30, 20, 11)
    assert (run["driver_paths"], run["block_months"]) == ("ar1", None)
    assert run["healthy_model"] is True and run["model_run_id"] == first.model_run_id
    stored = json.loads(run["scenarios_json"])
    assert [s["name"] for s in stored["scenarios"]] == SCENARIOS
    assert {e["name"] for e in stored["calendar"]["events"]} >= {"truce_expiry"}
    text = first.describe()
    assert "Pathway in 2029-01" in text and all(name in text for name in SCENARIOS)


def test_bootstrap_driver_paths_run_and_are_recorded(fitted_db: dict, tmp_path: Path) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    boot = forecast(db_path=db, seed=11, driver_paths="bootstrap", block_months=4, **TINY)
    again = forecast(db_path=db, seed=11, driver_paths="bootstrap", block_months=4, **TINY)
    gaussian = forecast(db_path=db, seed=11, **TINY)
    runs = read(db, "forecast_runs")
    stored = {
        r["run_id"]: (r["driver_paths"], r["block_months"]) for r in runs.iter_rows(named=True)
    }
    assert stored[boot.run_id] == ("bootstrap", 4) and stored[gaussian.run_id] == ("ar1", None)
    forecasts = read(db, "forecasts")
    assert one_run(forecasts, boot).equals(one_run(forecasts, again))  # seeded
    assert not one_run(forecasts, boot).equals(one_run(forecasts, gaussian))
    totals = one_run(forecasts, boot).group_by("scenario", "month").agg(pl.col("mean").sum())
    assert totals["mean"].to_list() == pytest.approx([1.0] * totals.height)
    assert "driver paths bootstrap (4-month blocks of historical innovations)" in boot.describe()


def test_the_cli_forecasts_with_bootstrap_paths(fitted_db: dict, tmp_path: Path) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    args = ["forecast", "--db", str(db), "--scenario", "baseline", "--paths", "5"]
    result = CliRunner().invoke(app, [*args, "--driver-paths", "bootstrap"])
    assert result.exit_code == 0, result.output
    assert "driver paths bootstrap (6-month blocks" in result.stdout
    assert "prior only" in result.stdout and "difference" in result.stdout
    assert read(db, "forecast_runs")["driver_paths"].to_list() == ["bootstrap"]
    result = CliRunner().invoke(app, [*args, "--driver-paths", "garch"])
    assert result.exit_code == 2
    assert "driver_paths: expected one of ar1, bootstrap, got 'garch'" in result.stderr
    assert read(db, "forecast_runs").height == 1


def test_an_unknown_scenario_is_refused_before_anything_is_written(
    fitted_db: dict, tmp_path: Path
) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    before = counts(db)
    with pytest.raises(ForecastError, match=r"unknown scenario 'taiwan'; known .*: baseline, "):
        forecast(db_path=db, scenarios=["baseline", "taiwan"], **TINY)
    with pytest.raises(ValueError, match="horizon: 2026-01 is not after the last observed"):
        forecast(db_path=db, horizon="2026-01", **TINY)
    assert counts(db) == before


def _break(db: Path, sql: str) -> None:
    with connect(db) as con:
        con.execute(sql)


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("UPDATE model_runs SET healthy = false", ForecastError, "run `winset fit` first"),
        ("DELETE FROM model_runs", ForecastError, "no healthy fit"),
        (
            "UPDATE model_runs SET posterior_path = '/nonexistent/fit.nc'",
            ForecastError,
            r"^/nonexistent/fit.nc: the posterior of fit .* is missing$",
        ),
        (
            "UPDATE panel_monthly SET gpr = gpr + 100 WHERE month = DATE '2015-06-01'",
            ForecastError,
            "the stored panel has changed since fit",
        ),
    ],
)
def test_no_usable_fit_is_refused_and_nothing_written(
    fitted_db: dict, tmp_path: Path, sql: str, error: type, message: str
) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    before = counts(db)
    _break(db, sql)
    with pytest.raises(error, match=message):
        forecast(db_path=db, **TINY)
    assert counts(db) == before


def test_a_corrupt_posterior_names_the_file(fitted_db: dict, tmp_path: Path) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    bad = tmp_path / "corrupt.nc"
    bad.write_bytes(b"not a netcdf file")
    _break(db, f"UPDATE model_runs SET posterior_path = '{bad}'")
    with pytest.raises(PosteriorFileError, match=f"^{bad}: cannot read a posterior"):
        forecast(db_path=db, **TINY)


def test_an_unhealthy_fit_cannot_be_chosen_by_id(fitted_db: dict, tmp_path: Path) -> None:
    db = copy_warehouse(fitted_db, tmp_path)
    run_id = read(db, "model_runs")["run_id"][0]
    _break(db, "UPDATE model_runs SET healthy = false, problems = 'max R-hat 1.2'")
    with pytest.raises(ForecastError, match=rf"fit {run_id} failed the health gate \(max R-hat"):
        forecast(db_path=db, model_run_id=run_id, **TINY)
    with pytest.raises(ForecastError, match="no fit 'fit-nope' in model_runs"):
        forecast(db_path=db, model_run_id="fit-nope", **TINY)
