"""The fit flow on the real bundle: `winset run` ingests, builds the panel and fits, and every
fit is recorded in `model_runs` with its posterior, regime probabilities and effects.

Sampling settings here are deliberately tiny (the publication fit is for `make run` and the
sampler benchmark); with a minimum ESS no short run can reach, the fit is *forced* to fail the
health gate, which is exactly what these tests check is recorded and reported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from flows.kept_fits import record_kept
from flows.warehouse import connect
from models.config import from_yaml
from models.data import STATES
from models.pathway_rules import DEFAULT_RULES_PATH, load_rules
from models.posterior_io import PosteriorFileError, load_posterior
from tests.conftest import tiny_config

pytestmark = pytest.mark.usefixtures("prefect_server")


def config_file(folder: Path, **changes: object) -> Path:
    """Test-sized sampling, with a minimum ESS no short run can reach (forces unhealthy)."""
    path = tiny_config(folder, healthy_gate=False, **changes)
    raw = yaml.safe_load(path.read_text())
    raw["health"]["min_ess"] = 1e9
    path.write_text(yaml.safe_dump(raw))
    return path


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("run")
    db, config = folder / "w.duckdb", config_file(folder)
    # the prior-sweep step (8 refits) is tested with test-sized refits in test_pipeline_flow
    code, out, err = cli("run", "--config", str(config), "--db", str(db), "--no-prior-sweep")
    with connect(db, read_only=True) as con:
        runs = con.sql("SELECT * FROM model_runs").pl()
        regimes = con.sql("SELECT * FROM regime_probabilities").pl()
        effects = con.sql("SELECT * FROM model_effects").pl()
        flags = con.sql("SELECT * FROM driver_flags").pl()
        months = con.sql("SELECT count(*) FROM panel_monthly WHERE month >= '2009-01-01'").pl()
    return {
        "code": code, "out": out, "err": err, "db": db, "config": config, "runs": runs,
        "regimes": regimes, "effects": effects, "months": months.item(), "flags": flags,
    }  # fmt: skip


def test_run_stores_the_panel(ran: dict) -> None:
    assert "Panel:" in ran["out"]
    with connect(ran["db"], read_only=True) as con:
        panel = con.sql("SELECT * FROM panel_monthly").pl()
        coverage = con.sql("SELECT * FROM panel_coverage").pl()
    assert panel.height == panel["month"].n_unique()
    assert set(coverage["column"]) == set(panel.columns[1:])


def test_an_unhealthy_fit_is_recorded_and_reported(ran: dict) -> None:
    assert ran["code"] == 0  # the job completed; its fit is recorded, never used
    assert "UNHEALTHY" in ran["out"] and "min bulk ESS" in ran["out"]
    assert "nothing was forecast or published" in ran["err"]
    [run] = ran["runs"].iter_rows(named=True)
    assert run["healthy"] is False
    assert "min bulk ESS" in run["problems"]
    assert (run["chains"], run["draws"]) == (2, 60)
    config = from_yaml(ran["config"])
    assert run["config_hash"] == config.config_hash()
    assert json.loads(run["config_json"])["series"] == list(config.series)
    assert set(json.loads(run["checks_json"])) != set()


def test_regime_probabilities_cover_every_month(ran: dict) -> None:
    regimes = ran["regimes"]
    assert regimes.height == 3 * ran["months"]
    assert set(regimes["pathway"]) == set(STATES)
    per_month = regimes.group_by("month").agg(pl.col("filtered", "smoothed").sum())
    for column in ("filtered", "smoothed"):
        assert per_month[column].min() == pytest.approx(1.0)
        assert per_month[column].max() == pytest.approx(1.0)


def test_every_driver_month_is_stored_with_how_it_was_filled(ran: dict) -> None:
    flags = ran["flags"]
    [run_id] = ran["runs"]["run_id"].to_list()
    assert flags["run_id"].unique().to_list() == [run_id]
    assert flags.height == 3 * ran["months"]  # W_US, W_CN, INTL: the interaction inherits
    intl = flags.filter(pl.col("driver") == "INTL").sort("month")
    assert intl["status"][-1] == "carried_forward" and intl["months_since_observed"][-1] > 0


def test_every_driver_effect_has_prior_and_posterior(ran: dict) -> None:
    config = from_yaml(ran["config"])
    beta = ran["effects"].filter(ran["effects"]["parameter"] == "beta")
    assert sorted(set(beta["term"])) == sorted(config.drivers)
    assert beta.height == 2 * len(config.drivers)
    assert beta["prior_sd"].min() > 0


def test_the_posterior_file_carries_its_identity(ran: dict) -> None:
    [run] = ran["runs"].iter_rows(named=True)
    config = from_yaml(ran["config"])
    loaded = load_posterior(run["posterior_path"], config, data_hash=run["data_hash"])
    assert loaded.config_hash == run["config_hash"]
    with pytest.raises(PosteriorFileError, match="fitted with config"):
        load_posterior(run["posterior_path"], config.fast())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"series": ["bilateral_tension", "us_tariff", "gdelt_cooperation", "tension_index"]},
            "series: unknown ['tension_index']",
        ),
        ({"priors": {"beta": {"INTL": {"dist": "Normal", "mu": -0.3, "sigma": 0}}}}, "sigma"),
        ({"start": "1850-01"}, "start: 1850-01 is outside the panel"),
        ({"drivers": ["W_US", "W_EU"]}, "drivers: 'W_EU' needs a composite called 'W_EU'"),
    ],
)
def test_bad_configs_name_the_field(
    ran: dict, tmp_path: Path, changes: dict, expected: str
) -> None:
    path = config_file(tmp_path, **changes)
    before = ran["runs"].height
    code, _, err = cli("fit", "--config", str(path), "--db", str(ran["db"]))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    with connect(ran["db"], read_only=True) as con:
        assert con.sql("SELECT count(*) FROM model_runs").pl().item() == before


def test_validity_is_measured_against_the_stored_classification(ran: dict) -> None:
    [run] = ran["runs"].iter_rows(named=True)
    assert run["rules_version"] == load_rules().version
    with connect(ran["db"], read_only=True) as con:
        rules = con.sql(
            "SELECT month, pathway, rule FROM pathway_classification WHERE run_id = ?",
            params=[run["run_id"]],
        ).pl()
    assert rules.height == ran["months"]  # every month of the fit, classifiable or not
    # The model's most likely pathway, recomputed here from the stored probabilities.
    best = (
        ran["regimes"].sort("smoothed", descending=True).group_by("month").agg(pl.first("pathway"))
    )
    both = best.join(rules, on="month").drop_nulls("pathway_right")
    assert run["rule_months"] == both.height > 0
    share = (both["pathway"] == both["pathway_right"]).mean()
    assert run["rule_agreement"] == pytest.approx(share)
    expected_valid = share >= 0.7 and run["label_agreement"] >= run["label_constant"]
    assert run["valid"] is expected_valid
    assert (run["validity_problems"] == "") is expected_valid
    assert ("NOT VALID" in ran["out"]) is not expected_valid


def test_a_bad_rules_file_stops_the_fit_before_sampling(
    ran: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "pathways.yaml"
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    bad.write_text(text.replace("window_months: 3", "window_months: three"), encoding="utf-8")
    monkeypatch.setenv("WINSET_PATHWAY_RULES", str(bad))
    before = ran["runs"].height
    code, _, err = cli("fit", "--config", str(ran["config"]), "--db", str(ran["db"]))
    assert code == 2 and "Traceback" not in err
    [line] = [x for x in err.splitlines() if "error:" in x]
    assert str(bad) in line and "window_months" in line
    with connect(ran["db"], read_only=True) as con:
        assert con.sql("SELECT count(*) FROM model_runs").pl().item() == before


HOLD_FROM_THE_POSTERIOR_TO_AFTER_THE_COMMIT = """
import sys, time, duckdb
from pathlib import Path
posteriors, db, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print("watching", flush=True)
while not list(posteriors.glob("*.nc")):  # sampling has ended
    time.sleep(0.01)
con = duckdb.connect(db, read_only=True)
print("holding", flush=True)
while not list(posteriors.glob("*.rows")):  # the fit is about to open the warehouse
    time.sleep(0.01)
time.sleep(seconds)
"""


def test_a_reader_holding_the_warehouse_at_the_commit_loses_no_fit(
    fitted_db: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another DuckDB client opens the file read-only as sampling ends and holds it longer
    than the fit waits: the fit is kept on disk, and the next fit or run records it."""
    db, posteriors = tmp_path / "w.duckdb", tmp_path / "var" / "posteriors"
    shutil.copy(fitted_db["db"], db)
    posteriors.mkdir(parents=True)
    monkeypatch.setenv("WINSET_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WINSET_LOCK_WAIT", "2")
    script = HOLD_FROM_THE_POSTERIOR_TO_AFTER_THE_COMMIT
    reader = subprocess.Popen(
        [sys.executable, "-c", script, str(posteriors), str(db), "6"], stdout=subprocess.PIPE
    )
    try:
        assert reader.stdout.readline().strip() == b"watching"
        code, out, err = cli("fit", "--config", str(fitted_db["config"]), "--db", str(db))
        assert reader.stdout.readline().strip() == b"holding"  # it held the file at the commit
    finally:
        reader.kill()
        reader.wait()
    assert code == 2
    assert "Fit fit-" not in out
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    for notice in [line for line in err.splitlines() if "waiting up to 2 s" in line]:
        assert f"in use by process {reader.pid}" in notice  # (the wait itself: test_warehouse_file)
    assert "Traceback" not in err
    [posterior] = posteriors.glob("*.nc")
    [kept] = posteriors.glob("*.rows")
    run_id = posterior.stem
    assert line.startswith(f"error: {db}: the warehouse is in use by process {reader.pid}")
    assert f"The finished fit {run_id} is kept" in line
    with connect(db, read_only=True) as con:
        query = "SELECT count(*) FROM model_runs WHERE run_id = ?"
        assert con.execute(query, [run_id]).fetchall() == [(0,)]
    assert record_kept(posteriors, db) == [run_id]  # what the next `winset fit` or `run` does
    assert not kept.exists()
    with connect(db, read_only=True) as con:
        [(path, healthy)] = con.execute(
            "SELECT posterior_path, healthy FROM model_runs WHERE run_id = ?", [run_id]
        ).fetchall()
        [(regimes,)] = con.execute(
            "SELECT count(*) FROM regime_probabilities WHERE run_id = ?", [run_id]
        ).fetchall()
    assert (path, healthy) == (str(posterior), True)
    assert regimes > 0
    assert record_kept(posteriors, db) == []  # recorded once
