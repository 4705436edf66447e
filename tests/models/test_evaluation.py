"""Scoring observables forecasts, skill with Diebold–Mariano intervals, coverage, and the
headline sentence. Forecasts and outcomes are SYNTHETIC, drawn with fixed seeds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from models.evaluation import (
    ALL,
    coverage_table,
    headline,
    pit_histogram,
    score_forecast,
    skill_table,
)
from models.observable_baselines import reference_draws

LEADS = (1, 6, 12)
NAMES = ("tension", "tariff")


def _origins(n: int) -> list[dt.date]:
    months = np.datetime64("2015-01", "M") + np.arange(n)
    return [m.astype("datetime64[D]").astype(dt.date) for m in months]


def _evaluation(model_sd: float, seed: int, n_origins: int = 40) -> pl.DataFrame:
    """Outcomes ~ N(0, 1); the model forecasts N(0, model_sd), persistence N(0, 3)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(2000)
    frames = []
    for origin in _origins(n_origins):
        observed = rng.standard_normal((len(LEADS), len(NAMES)))
        for model, sd in (("hmm", model_sd), ("persistence", 3.0)):
            draws = np.broadcast_to(sd * z, (len(LEADS), len(NAMES), z.size))
            frames.append(score_forecast(origin, model, LEADS, NAMES, draws, observed))
    return pl.concat(frames)


def test_scores_pit_and_interval_hits_of_one_forecast() -> None:
    draws = np.broadcast_to(np.linspace(0, 1, 101), (1, 2, 101))
    observed = np.array([[0.5, np.nan]])
    rows = score_forecast(dt.date(2020, 1, 1), "hmm", (3,), NAMES, draws, observed)
    assert rows.height == 1  # the unobserved series is not scored
    row = rows.row(0, named=True)
    assert row["target_month"] == dt.date(2020, 4, 1) and row["pit"] == pytest.approx(0.5, abs=0.01)
    assert row["in50"] and row["in90"]
    far = score_forecast(dt.date(2020, 1, 1), "hmm", (3,), NAMES, draws, np.array([[0.97, 2.0]]))
    assert far["in50"].to_list() == [False, False] and far["in90"].to_list() == [False, False]


def test_a_calibrated_model_beats_a_too_wide_reference_with_an_interval() -> None:
    table = skill_table(_evaluation(model_sd=1.0, seed=1))
    row = table.filter(
        (pl.col("model") == "hmm")
        & (pl.col("reference") == "persistence")
        & (pl.col("target") == "tension")
        & (pl.col("lead") == 6)
        & (pl.col("metric") == "crps")
    ).row(0, named=True)
    assert row["origins"] == 40 and row["upper"] < 0 < row["skill"]
    both = table.filter((pl.col("target") == ALL) & (pl.col("model") == "hmm"))
    assert set(both["metric"]) == {"log_score"} and (both["upper"] < 0).all()


def test_coverage_and_pit_show_a_too_narrow_forecast() -> None:
    scores = _evaluation(model_sd=0.3, seed=2)
    cover = coverage_table(scores).filter(pl.col("model") == "hmm")
    assert (cover["cover90"] < 0.6).all()  # a 90% interval a third of the right width
    hist = pit_histogram(scores).filter((pl.col("model") == "hmm") & (pl.col("lead") == 1))
    shares = hist.sort("bin")["share"].to_numpy()
    assert shares[0] + shares[-1] > 0.4  # U-shaped: outcomes fall in the tails


def test_headline_differs_between_two_evaluations() -> None:
    good = headline(skill_table(_evaluation(model_sd=1.0, seed=3)))
    bad = headline(skill_table(_evaluation(model_sd=8.0, seed=3)))
    assert good != bad
    assert "6 months ahead the model beats persistence on tariff (CRPS" in good
    assert "12 months ahead the model beats persistence on tariff" in good
    assert "6 months ahead the model does worse than persistence on tariff" in bad
    assert "40 monthly origins" in good
    empty = skill_table(_evaluation(1.0, seed=4).filter(pl.col("lead") == 1))
    assert "no scored forecasts" in headline(empty)


def test_references_from_a_synthetic_ar1_window() -> None:
    rng = np.random.default_rng(5)
    y = np.empty(600)
    y[0] = 0.0
    for t in range(1, y.size):
        y[t] = 0.8 * y[t - 1] + rng.normal()
    y[-1] = 4.0
    window = y[:, None]
    normal = rng.standard_normal(20_000)
    ar1 = reference_draws("ar1", window, (1, 12), normal)[:, 0]
    assert ar1[0].mean() == pytest.approx(0.8 * 4.0, abs=0.15)
    assert ar1[1].std() == pytest.approx(np.sqrt((1 - 0.8**24) / (1 - 0.64)), rel=0.1)
    persistence = reference_draws("persistence", window, (1,), normal)[0, 0]
    assert persistence.mean() == pytest.approx(4.0, abs=0.05)
    climatology = reference_draws("climatology", window, (1,), normal)[0, 0]
    assert climatology.mean() == pytest.approx(np.mean(y), abs=0.05)
    # a series that ended two months before the origin forecasts 1 month as 3 months ahead
    gap = np.vstack([window, [[np.nan], [np.nan]]])
    late = reference_draws("ar1", gap, (1,), normal)[0, 0]
    assert late.mean() == pytest.approx(0.8**3 * 4.0, abs=0.15)
