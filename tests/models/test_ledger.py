"""The ledger's pure parts: horizons, stored quantile draws, the scores of a resolved entry,
the model's and the reference forecasters' draws, and the track record's summaries."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from models import ledger, observables, reference_forecasts, track_record
from models.scoring import crps_gaussian


def test_horizons_are_1_3_6_12_months_and_the_term_end() -> None:
    found = ledger.horizons(dt.date(2025, 8, 1))
    assert found == [
        ("1m", dt.date(2025, 9, 1)), ("3m", dt.date(2025, 11, 1)),
        ("6m", dt.date(2026, 2, 1)), ("12m", dt.date(2026, 8, 1)),
        ("2029-01", dt.date(2029, 1, 1)),
    ]  # fmt: skip
    assert [label for label, _ in ledger.horizons(dt.date(2029, 3, 1))] == ["1m", "3m", "6m", "12m"]


def test_quantile_draws_keep_the_distribution() -> None:
    sample = np.random.default_rng(1).normal(2.0, 3.0, 20_000)
    kept = ledger.quantile_draws(sample, 200)
    assert kept.shape == (200,) and np.all(np.diff(kept) >= 0)
    assert kept.mean() == pytest.approx(2.0, abs=0.1)
    assert kept.std() == pytest.approx(3.0, rel=0.05)
    assert ledger.summary(sample)["q50"] == pytest.approx(2.0, abs=0.1)


def test_quantity_scores_match_closed_forms_for_a_normal() -> None:
    draws = stats.norm.ppf((np.arange(2000) + 0.5) / 2000)  # quantile draws of N(0, 1)
    for y in (-1.5, 0.0, 0.7):
        found = ledger.quantity_scores(y, draws)
        assert found["crps"] == pytest.approx(crps_gaussian(np.array([y]), 0, 1)[0], abs=2e-3)
        assert found["log_score"] == pytest.approx(-stats.norm.logpdf(y), abs=0.05)
        assert found["pit"] == pytest.approx(stats.norm.cdf(y), abs=1e-3)


def test_question_scores() -> None:
    assert ledger.question_scores(0.8, True) == pytest.approx(
        {"brier": 0.04, "log_score": -np.log(0.8)}
    )
    assert ledger.question_scores(0.8, False)["brier"] == pytest.approx(0.64)
    with pytest.raises(ValueError, match="probabilities must lie in"):
        ledger.question_scores(1.2, True)


def test_the_random_walk_starts_from_the_last_observed_value() -> None:
    values = np.array([1.0, 2.0, 3.0, np.nan] + [4.0] * 20 + [np.nan, np.nan])
    draws = reference_forecasts.random_walk(values, 1, 500, seed=0)
    # last observed is 4.0, three months before the target: three-month changes are 0 or more
    assert draws is not None and np.all(draws >= 4.0) and np.median(draws) == 4.0
    assert reference_forecasts.random_walk(np.full(5, np.nan), 1, 10, 0) is None
    clim = reference_forecasts.climatology(values, 1000, seed=0)
    assert clim is not None and set(np.unique(clim)) <= {1.0, 2.0, 3.0, 4.0}


def test_model_draws_follow_the_regimes_and_switch_drivers_off() -> None:
    """Synthetic two-regime emissions (means 0 and 10) with sticky transitions: starting in
    DC, one month ahead most draws stay near 0; a driver effect pushing into MC moves them."""
    n = 50
    emission = observables.SeriesEmission(
        "s", "gaussian", {"mu": np.tile([0.0, 0.0, 10.0], (n, 1)), "sigma": np.full((n, 3), 0.1)}
    )
    alpha = np.tile(np.array([[-3.0, -3.0], [-3.0, -3.0], [-6.0, 3.0]]), (n, 1, 1))
    p0 = np.tile([1.0, 0.0, 0.0], (n, 1))
    still = observables.TransitionDraws(alpha, None, p0)
    origin = dt.date(2025, 8, 1)
    calm = ledger.model_draws(still, (emission,), None, origin, 3, 1000, seed=1)["s"]
    assert calm.shape == (3, 1000)
    assert np.mean(calm[0] > 5) < 0.1
    pushed = observables.TransitionDraws(alpha, np.tile([[0.0, 8.0]], (n, 1, 1)), p0)
    paths = np.ones((20, 3, 1))  # one driver at +1 for 20 paths
    moved = ledger.model_draws(pushed, (emission,), paths, origin, 3, 1000, seed=1)["s"]
    assert moved.shape == (3, n * 20)
    assert np.mean(moved[0] > 5) > 0.9


def resolutions(rows: list[dict]) -> pl.DataFrame:
    defaults = {"run_id": "r", "horizon": "", "crps": None, "brier": None, "log_score": None,
                "pit": None, "forecast": None, "outcome": None}  # fmt: skip
    return pl.DataFrame([defaults | r for r in rows], infer_schema_length=None)


def test_cumulative_scores_compare_forecasters_on_common_entries_only() -> None:
    frame = resolutions([
        {"kind": "question", "item": "a", "forecaster": "model", "brier": 0.1, "log_score": 0.3},
        {"kind": "question", "item": "a", "forecaster": "climatology", "brier": 0.2,
         "log_score": 0.5},
        # the model does not answer b: the climatology's score on it is left out of the table
        {"kind": "question", "item": "b", "forecaster": "climatology", "brier": 0.9,
         "log_score": 2.0},
    ])  # fmt: skip
    table = track_record.cumulative_scores(frame)
    brier = dict(table.filter(pl.col("metric") == "brier").select("forecaster", "mean").rows())
    assert brier == pytest.approx({"model": 0.1, "climatology": 0.2})


def test_reliability_and_pit_histogram() -> None:
    frame = resolutions(
        [{"kind": "question", "item": str(i), "forecaster": "model", "forecast": p,
          "outcome": o} for i, (p, o) in enumerate([(0.05, False), (0.08, True), (0.95, True)])]
        + [{"kind": "quantity", "item": "s", "horizon": str(i), "forecaster": "model",
            "pit": p} for i, p in enumerate([0.01, 0.5, 0.99, 1.0])]
    )  # fmt: skip
    table = track_record.reliability(frame)
    assert table["n"].to_list() == [2, 1]
    assert table["observed"].to_list() == [0.5, 1.0]
    assert track_record.pit_histogram(frame).tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 2]
