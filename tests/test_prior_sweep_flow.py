"""Prior-sensitivity sweeps on the real bundle's tiny healthy fit (``fitted_db``): each distinct
prior value is refitted once, recorded in `model_runs` as a sweep refit, and its points are
simulated from the refit and say so; re-running reuses the refits and replaces the rows; an
unknown prior field is refused by name before anything is fitted; an unhealthy refit is
recorded and its points are flagged and left out of the summary; forecasts that name no fit
never pick a refit.

Refits use the tiny test config's sampling (``refit_sampling``: 2 chains x 60 draws) instead of
fast mode, so each takes seconds; 20 draws x 20 paths per point."""

from __future__ import annotations

import json
import shutil
from html import escape
from pathlib import Path

import polars as pl
import pytest
import yaml

from flows.forecast import load_fitted
from flows.sweep import sweep
from flows.warehouse import connect
from models.forecast import GridError
from tests.conftest import tiny_config
from tests.test_sweep_flow import grid_file, results, sweeps

pytestmark = pytest.mark.usefixtures("prefect_server")

# One scenario point (tariff war 1, Taiwan tension 2) x two values of the sticky-diagonal prior.
PRIOR_GRID = ["tariff_shock=1", "taiwan_tension=2", "priors.stay_logit=3,5"]


def model_runs(db: Path) -> pl.DataFrame:
    with connect(db, read_only=True) as con:
        return con.sql("SELECT * FROM model_runs ORDER BY created_at").pl()


def copy_warehouse(fitted_db: dict, folder: Path) -> Path:
    db = folder / "w.duckdb"
    shutil.copy(fitted_db["db"], db)
    return db


@pytest.fixture(scope="module")
def prior_swept(fitted_db: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("prior_sweep")
    db, grid = copy_warehouse(fitted_db, folder), grid_file(folder)
    base = model_runs(db)
    first = sweep(grid, PRIOR_GRID, db_path=db, refit_sampling=fitted_db["config"])
    after_first = {"results": results(db), "sweeps": sweeps(db), "runs": model_runs(db)}
    second = sweep(grid, PRIOR_GRID, db_path=db, refit_sampling=fitted_db["config"])
    return {
        "db": db, "grid": grid, "base": base, "first": first, "second": second,
        **after_first,
    }  # fmt: skip


def test_each_prior_value_is_one_refit_and_its_points_use_it(prior_swept: dict) -> None:
    rows, runs, base = prior_swept["results"], prior_swept["runs"], prior_swept["base"]
    assert prior_swept["first"].points == 2 and rows.height == 2 * 7
    assert rows["sweep_id"].unique().to_list() == [prior_swept["first"].sweep_id]
    points = rows.group_by("point_id").agg(pl.all().first()).sort("point_id")
    assert [json.loads(p) for p in points["parameters"]] == [
        {"tariff_shock": 1.0, "taiwan_tension": 2.0, "priors.stay_logit": v} for v in (3.0, 5.0)
    ]
    assert points["from_refit"].all() and points["refit_mode"].to_list() == ["custom"] * 2
    refits = runs.filter(pl.col("purpose") == "prior_sweep")
    assert runs.height == base.height + 2 and refits.height == 2
    assert sorted(points["refit_model_run_id"]) == sorted(refits["run_id"])
    by_id = {r["run_id"]: r for r in refits.iter_rows(named=True)}
    for point in points.iter_rows(named=True):
        refit = by_id[point["refit_model_run_id"]]
        prior = json.loads(refit["config_json"])["priors"]["stay_logit"]
        assert prior == json.loads(point["parameters"])["priors.stay_logit"]
        assert refit["config_hash"] != base["config_hash"][0]
        assert refit["data_hash"] == base["data_hash"][0]
        assert point["refit_healthy"] == refit["healthy"]
    dc = rows.filter(pl.col("measure") == "pathway_at_horizon", pl.col("pathway") == "DC")
    assert dc["mean"].n_unique() == 2  # two posteriors, two answers (same seeds)
    stored = prior_swept["sweeps"].row(0, named=True)
    assert (stored["refits"], stored["unhealthy_refits"]) == (2, 0)


def test_the_summary_says_the_points_come_from_refits(prior_swept: dict) -> None:
    text = prior_swept["first"].describe()
    assert "Prior-axis points come from 2 custom refits (sampler and gate from" in text
    assert "not from that fit; 0 failed the health gate" in text
    assert "priors.stay_logit=3: fit-" in text and "priors.stay_logit=5: fit-" in text
    assert "reused" not in text and "reused" in prior_swept["second"].describe()


def test_rerunning_reuses_the_refits_and_replaces_the_rows(prior_swept: dict) -> None:
    db, first, second = prior_swept["db"], prior_swept["first"], prior_swept["second"]
    assert second.sweep_id == first.sweep_id
    assert all(r.reused for r in second.refits)
    assert results(db).equals(prior_swept["results"])
    assert model_runs(db).height == prior_swept["runs"].height
    assert sweeps(db).height == 1


def test_forecasts_that_name_no_fit_never_pick_a_refit(prior_swept: dict) -> None:
    newest = load_fitted(prior_swept["db"]).run["run_id"]
    assert newest == prior_swept["base"]["run_id"][0]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (["priors.beta.W_EU.sigma=0.1"], r"grid.yaml: priors.beta.W_EU: not a prior field"),
        (["priors.stay_logit=-1"], r"priors.stay_logit: Input should be greater than 0"),
        (["priors.stay_logitt=3"], r"--grid priors.stay_logitt: not a prior field"),
    ],
)
def test_an_unknown_prior_field_is_refused_before_anything_is_fitted(
    prior_swept: dict, fitted_db: dict, grid: list[str], message: str
) -> None:
    db = prior_swept["db"]
    before = (results(db), model_runs(db))
    with pytest.raises(GridError, match=message):
        sweep(prior_swept["grid"], ["tariff_shock=1", "taiwan_tension=0", *grid], db_path=db,
              refit_sampling=fitted_db["config"])  # fmt: skip
    assert results(db).equals(before[0]) and model_runs(db).equals(before[1])


def test_an_unhealthy_refit_is_recorded_and_its_points_flagged(
    fitted_db: dict, tmp_path: Path
) -> None:
    db, grid = copy_warehouse(fitted_db, tmp_path), grid_file(tmp_path)
    strict = tiny_config(tmp_path, healthy_gate=False)  # the real gate on a 2 x 60 draw fit
    raw = yaml.safe_load(strict.read_text())
    raw["health"]["min_ess"] = 1e9  # no short run reaches it: the refit must fail the gate
    strict.write_text(yaml.safe_dump(raw))
    record = sweep(
        grid, ["tariff_shock=1", "taiwan_tension=0", "priors.stay_logit=4.5"], db_path=db,
        refit_sampling=strict,
    )  # fmt: skip
    [refit] = record.refits
    assert not refit.healthy and "min bulk ESS" in refit.problems
    stored = model_runs(db).filter(pl.col("run_id") == refit.model_run_id).row(0, named=True)
    assert stored["purpose"] == "prior_sweep" and stored["healthy"] is False
    rows = results(db)
    assert rows.height == 7 and rows["from_refit"].all()
    assert rows["refit_healthy"].to_list() == [False] * 7
    assert sweeps(db)["unhealthy_refits"].to_list() == [1]
    assert record.dc_range is None
    text = record.describe()
    assert "1 failed the health gate" in text and f"{refit.model_run_id} UNHEALTHY (" in text
    assert "points flagged" in text and "No point comes from a healthy fit" in text


def test_a_mixed_grid_does_not_judge_the_priors(prior_swept: dict) -> None:
    # scenario parameters move P(DC) too, so the spread is not the priors' alone
    stored = prior_swept["sweeps"].row(0, named=True)
    assert stored["prior_determined"] is None and stored["dc_at_horizon_min"] is None


BUNDLED_PRIOR_SWEEP = Path(__file__).resolve().parents[1] / "data/sweeps/prior_determined.yaml"


def test_the_bundled_prior_sweep_marks_the_headline(
    prior_swept: dict, fitted_db: dict, tmp_path: Path
) -> None:
    """The bundled file with two stickiness values: the stored spread decides whether the
    report's headline says "prior-determined", with the range.

    The values are those of ``PRIOR_GRID`` and the effect scales their publication values, so
    the two settings are the refits ``prior_swept`` already made: on a copy of its warehouse
    they are reused (the reuse itself is part of what is checked), not sampled again."""
    from flows.forecast import forecast
    from flows.publish import publish
    from reports.fmt import pct

    db = tmp_path / "w.duckdb"
    shutil.copy(prior_swept["db"], db)
    small = ["priors.stay_logit=3,5", "priors.beta.W_US.sigma=0.3", "priors.beta.INTL.sigma=0.3"]
    record = sweep(BUNDLED_PRIOR_SWEEP, small, db_path=db, refit_sampling=fitted_db["config"])
    assert len(record.refits) == 2 and all(r.reused for r in record.refits)
    stored = sweeps(db).filter(pl.col("sweep_id") == record.sweep_id).row(0, named=True)
    dc = results(db).filter(
        pl.col("sweep_id") == record.sweep_id,
        pl.col("measure") == "pathway_at_horizon",
        pl.col("pathway") == "DC",
        pl.col("refit_healthy"),
    )
    low, high = dc["mean"].min(), dc["mean"].max()
    assert (stored["dc_at_horizon_min"], stored["dc_at_horizon_max"]) == (low, high)
    assert stored["prior_determined"] is (high - low > 0.10)
    assert ("PRIOR-DETERMINED" in record.describe()) is stored["prior_determined"]
    fc = forecast(db_path=db, n_paths=20, max_draws=10)
    published = publish(db_path=db, forecast_run_id=fc.run_id, reports_dir=tmp_path / "reports")
    html = (published.folder / "report.html").read_text(encoding="utf-8")
    headline = html[html.index('id="headline-title"') : html.index('class="cards"')]
    assert escape(f"ranges {pct(low)}–{pct(high)} across the prior sweep") in headline
    assert (": prior-determined</h2>" in headline) is stored["prior_determined"]
    # each refit's validity, as model_runs recorded it, is named in the sweep and the report
    with connect(db, read_only=True) as con:
        validity = dict(
            con.execute(
                "SELECT run_id, valid FROM model_runs WHERE run_id IN (?, ?)",
                [r.model_run_id for r in record.refits],
            ).fetchall()
        )
    assert [r.valid for r in record.refits] == [validity[r.model_run_id] for r in record.refits]
    invalid = sum(v is False for v in validity.values())
    assert f"{invalid} the validity gate" in record.describe()
    assert (f"{invalid} of its 2 refits fail the validity gate" in headline) is (invalid > 0)
