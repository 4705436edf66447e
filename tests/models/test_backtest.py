"""The backtest's forecasting and scoring on hand-made posterior-like inputs (no sampling)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from models import backtest as bt
from models import scoring
from models.data import ModelData
from models.drivers import overlap

ORIGIN = dt.date(2020, 6, 1)


def draws(alpha: np.ndarray, p0: np.ndarray, beta: np.ndarray | None = None, **kw):
    """Posterior-like draws: one series, state means 10/0/-10 with sd 1 unless given."""
    n = alpha.shape[0]
    mu = kw.get("mu", np.tile([[10.0, 0.0, -10.0]], (n, 1, 1)))
    sigma = kw.get("sigma", np.ones_like(mu))
    return bt.PosteriorDraws(alpha, beta, kw.get("confusion"), mu, sigma, p0)


def test_no_driver_forecast_is_the_matrix_power_of_each_draw() -> None:
    rng = np.random.default_rng(0)
    alpha = rng.normal(size=(2, 3, 2))
    p0 = np.array([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3]])
    states = bt.state_forecast(draws(alpha, p0), None, 12)
    for d in range(2):
        logits = np.concatenate([np.zeros((3, 1)), alpha[d]], axis=1)
        trans = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        for lead in (1, 6, 12):
            expected = p0[d] @ np.linalg.matrix_power(trans, lead)
            np.testing.assert_allclose(states[d, lead - 1], expected)


def test_month_h_moves_on_the_drivers_of_month_h_minus_1() -> None:
    # One driver pushing hard into MC, nothing from alpha: the state follows the driver's sign
    # one month later (month 1 on the origin's own drivers, month 2 on month 1's).
    beta = np.array([[[0.0, 20.0]]])  # (D=1, K=1, SE/MC)
    paths = np.array([[[1.0], [-1.0]]])  # (D, steps, K): origin +1, month 1 -1
    states = bt.state_forecast(draws(np.zeros((1, 3, 2)), np.ones((1, 3)) / 3, beta), paths, 2)
    assert states[0, 0].argmax() == 2 and states[0, 0, 2] > 0.99
    assert states[0, 1, 2] < 1e-6


def test_label_forecast_goes_through_the_confusion_and_series_mix_draws_and_states() -> None:
    alpha = np.array([[[-50.0, -50.0], [50.0, -50.0], [-50.0, 50.0]]] * 2)  # stay for sure
    p0 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    confusion = np.array([[[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]] * 2)
    data = ModelData(
        months=np.arange("2019-01", "2020-07", dtype="datetime64[M]"),
        drivers=np.zeros((18, 0)),
        driver_names=(),
        series=np.zeros((18, 1)),
        series_names=("tension",),
        labels=np.full(18, -1),
    )
    f = bt.hmm_forecast(draws(alpha, p0, confusion=confusion), data, 3, seed=0)
    np.testing.assert_allclose(f.labels, [[0.45, 0.45, 0.1]] * 3, atol=1e-9)
    assert f.weights.shape == (3, 6) and np.allclose(f.weights.sum(axis=1), 1.0)
    # Half the draws sit in DC (mean 10), half in SE (mean 0): the predictive mean is 5.
    np.testing.assert_allclose(f.weights @ f.means[0, 0], 5.0, atol=1e-9)


def test_driver_paths_start_at_the_last_observed_month_and_rebuild_interactions() -> None:
    rng = np.random.default_rng(1)
    x = np.zeros((60, 2))
    for t in range(1, 60):
        x[t] = 0.8 * x[t - 1] + rng.normal(size=2)
    names = ("A", "B", "A_x_B")
    data = ModelData(
        months=np.arange("2015-01", "2020-01", dtype="datetime64[M]"),
        drivers=np.column_stack([x, overlap(x[:, 0], x[:, 1])]),
        driver_names=names,
        series=np.zeros((60, 1)),
        series_names=("tension",),
        labels=np.full(60, -1),
    )
    paths = bt.driver_paths(data, n_paths=50, steps=4, seed=3)
    assert paths.shape == (50, 4, 3)
    np.testing.assert_allclose(paths[:, 0], np.tile(data.drivers[-1], (50, 1)), rtol=1e-6)
    # float32 paths: 4 p q - 1 cancels near 0, so an absolute tolerance
    np.testing.assert_allclose(paths[..., 2], overlap(paths[..., 0], paths[..., 1]), atol=1e-6)
    assert np.std(paths[:, 3, 0]) > 0.5  # later months are stochastic, one path per draw


def test_series_baselines_persist_the_last_observation_across_the_publication_gap() -> None:
    y = np.arange(40, dtype=float)  # a trend of +1 a month, last month not yet published
    y[-1] = np.nan
    data = ModelData(
        months=np.arange("2017-01", "2020-05", dtype="datetime64[M]"),
        drivers=np.zeros((40, 0)),
        driver_names=(),
        series=y[:, None],
        series_names=("tension",),
        labels=np.r_[np.full(39, -1), 2],
    )
    base = bt.baseline_forecasts(data, 3)
    persistence, climatology = base["persistence"], base["climatology"]
    np.testing.assert_allclose(persistence.means[:, 0, 0], 38.0)
    np.testing.assert_allclose(persistence.sds[:, 0, 0], [2.0, 3.0, 4.0])  # lead + 1-month gap
    np.testing.assert_allclose(climatology.means[:, 0, 0], np.nanmean(y))
    np.testing.assert_allclose(persistence.labels, [[0.1, 0.1, 0.8]] * 3)
    assert base["uniform"].weights is None


def test_score_origin_scores_only_labelled_months_in_horizon_buckets() -> None:
    labels = np.array([2, -1, 0, -1, -1, -1, 1])  # leads 1..7
    series = np.full((7, 1), np.nan)
    series[[0, 6], 0] = [1.0, -2.0]
    probs = np.tile([0.2, 0.3, 0.5], (7, 1))
    gaussian = bt.Forecast(probs, np.ones((7, 1)), np.zeros((7, 1, 1)), np.ones((7, 1, 1)))
    spread = bt.Forecast(  # the same N(0, 1) as a 300-component mixture: sampled CRPS
        probs, np.full((7, 300), 1 / 300), np.zeros((7, 1, 300)), np.ones((7, 1, 300))
    )
    forecasts = {"model": gaussian, "mixture": spread, "uniform": bt.Forecast(probs)}
    scores, calib = bt.score_origin(ORIGIN, forecasts, labels, series, ("tension",))

    rps = scores.filter((pl.col("model") == "model") & (pl.col("metric") == "rps")).sort("lead")
    assert rps["lead"].to_list() == [1, 3, 7]
    assert rps["horizon"].to_list() == [1, 3, 12]
    assert rps["target_month"].to_list() == [
        dt.date(2020, 7, 1),
        dt.date(2020, 9, 1),
        dt.date(2021, 1, 1),
    ]
    np.testing.assert_allclose(rps["score"], scoring.rps(probs[[0, 2, 6]], labels[[0, 2, 6]]))

    def series_scores(model: str, metric: str) -> np.ndarray:
        rows = scores.filter((pl.col("model") == model) & (pl.col("metric") == metric))
        return rows.sort("lead")["score"].to_numpy()

    np.testing.assert_allclose(series_scores("model", "log_density"), stats.norm.logpdf([1, -2]))
    exact = scoring.crps_gaussian(np.array([1.0, -2.0]), 0.0, 1.0)
    np.testing.assert_allclose(series_scores("model", "crps"), exact)
    np.testing.assert_allclose(series_scores("mixture", "crps"), exact, rtol=0.05)
    assert scores.filter(pl.col("model") == "uniform")["target"].unique().to_list() == ["label"]
    # Calibration: every lead of every forecast, outcome null where nothing was observed.
    assert calib.filter(pl.col("target") == "label").height == 3 * 7
    pit = calib.filter((pl.col("model") == "model") & (pl.col("target") == "tension"))
    assert pit["pit"].null_count() == 5
    assert pit.sort("lead")["pit"][0] == pytest.approx(stats.norm.cdf(1.0))


def _scores(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "origin": o,
                "model": m,
                "horizon": 1,
                "lead": 1,
                "target_month": o,
                "target": "label",
                "metric": "rps",
                "score": s,
            }
            for o, m, s in rows
        ],
        schema=bt.SCORE_SCHEMA,
    )


def test_skill_table_pairs_scores_with_the_references_by_origin() -> None:
    a, b, c = dt.date(2017, 12, 1), dt.date(2019, 12, 1), dt.date(2022, 7, 1)
    scores = _scores(
        [
            (a, "hmm", 0.1),
            (b, "hmm", 0.3),
            (c, "hmm", 0.2),
            (a, "persistence", 0.4),
            (b, "persistence", 0.2),
            (c, "persistence", 0.6),
            (a, "hmm_no_drivers", 0.1),
            (b, "hmm_no_drivers", 0.3),
        ]
    )
    table = bt.skill_table(scores)
    hmm = table.filter(pl.col("model") == "hmm").row(0, named=True)
    assert hmm["mean"] == pytest.approx(0.2) and hmm["origins"] == 3
    assert hmm["lower"] <= 0.2 <= hmm["upper"]
    assert hmm["vs_persistence_mean"] == pytest.approx((-0.3 + 0.1 - 0.4) / 3)
    assert hmm["vs_no_drivers_mean"] == pytest.approx(0.0)  # paired on origins a and b only
    persistence = table.filter(pl.col("model") == "persistence").row(0, named=True)
    assert persistence["vs_persistence_mean"] is None
    assert table["model"].to_list() == ["hmm", "hmm_no_drivers", "persistence"]


def test_skill_verdicts_read_the_paired_intervals() -> None:
    table = pl.DataFrame(
        {
            "target": ["label"] * 3 + ["tension"],
            "metric": ["rps"] * 3 + ["log_density"],
            "horizon": [1, 6, 12, 1],
            "model": ["hmm"] * 4,
            "better": ["lower"] * 3 + ["higher"],
            "vs_persistence_lower": [-0.3, -0.1, 0.05, 0.2],
            "vs_persistence_upper": [-0.1, 0.2, 0.3, 0.6],
            "vs_no_drivers_lower": [None, None, None, -0.5],
            "vs_no_drivers_upper": [None, None, None, -0.1],
        }
    )
    verdicts = {
        (r["target"], r["reference"]): (r["better"], r["worse"], r["unclear"])
        for r in bt.skill_verdicts(table).iter_rows(named=True)
    }
    assert verdicts[("label", "persistence")] == ([1], [12], [6])
    assert ("label", "no_drivers") not in verdicts  # no paired scores
    assert verdicts[("tension", "persistence")] == ([1], [], [])  # higher log density is better
    assert verdicts[("tension", "no_drivers")] == ([], [1], [])
