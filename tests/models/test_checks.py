"""Posterior predictive checks on the session's SYNTHETIC fit (a well-specified model, so the
checks must pass), plus hand-made paths and mixtures whose answers are known."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import special, stats

from models.checks import (
    STATISTICS,
    label_check,
    mixture_quantiles,
    path_statistics,
    predictive_checks,
    simulate_paths,
)
from models.fit import prior_predictive
from models.states import StateProbabilities, state_probabilities

DRAWS = 300


@pytest.fixture(scope="module")
def prior(synthetic_data, fast_config):
    return prior_predictive(synthetic_data, fast_config, draws=300)


@pytest.fixture(scope="module")
def checks(fitted, prior):
    return predictive_checks(fitted.model, draws=DRAWS, prior=prior)


def test_path_statistics_count_completed_spells_only() -> None:
    # spells: DC x2 (censored), SE x3, MC x2, DC x1 (censored)
    stats_ = path_statistics(np.array([0, 0, 1, 1, 1, 2, 2, 0]))
    expected = [3, 2.5, np.nan, 3, 2]
    np.testing.assert_array_equal(stats_, expected)
    assert dict(zip(STATISTICS, path_statistics(np.zeros(10, int)), strict=True))["switches"] == 0


def test_simulated_paths_follow_the_transition_matrix() -> None:
    matrix = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.02, 0.28, 0.7]])
    log_trans = np.log(np.broadcast_to(matrix, (400, 300, 3, 3)))
    paths = simulate_paths(log_trans, np.random.default_rng(0))
    prev, nxt = paths[:, :-1].ravel(), paths[:, 1:].ravel()
    counts = np.zeros((3, 3))
    np.add.at(counts, (prev, nxt), 1)
    np.testing.assert_allclose(counts / counts.sum(axis=1, keepdims=True), matrix, atol=0.01)
    again = simulate_paths(log_trans, np.random.default_rng(0))
    np.testing.assert_array_equal(paths, again)


def test_mixture_quantiles_are_exact() -> None:
    levels = np.array([0.05, 0.3, 0.95])
    # one draw, one state: the quantiles of Normal(1, 2)
    q = mixture_quantiles(np.ones((1, 1, 1)), np.array([[1.0]]), np.array([[2.0]]), levels)
    np.testing.assert_allclose(q[:, 0], stats.norm(1, 2).ppf(levels), atol=1e-9)
    # two draws, two states, pooled: the mixture CDF at each quantile is its level
    weights = np.array([[[0.5, 0.5]], [[0.2, 0.8]]])  # (draws, months, states)
    mu, sigma = np.array([[-3.0, 3.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [0.5, 2.0]])
    q = mixture_quantiles(weights, mu, sigma, levels)[:, 0]
    cdf = (weights[:, 0, :, None] * stats.norm(mu[..., None], sigma[..., None]).cdf(q)).sum(1)
    np.testing.assert_allclose(cdf.mean(axis=0), levels, atol=1e-9)


def test_switch_distribution_covers_the_synthetic_truth(checks, synthetic_truth) -> None:
    regimes = checks.to_frames()["ppc_regimes"]
    switches = regimes.filter(pl.col("statistic") == "switches")
    posterior = switches.filter(pl.col("predictive") == "posterior").row(0, named=True)
    true_switches = int((np.diff(synthetic_truth.states) != 0).sum())
    assert posterior["q05"] <= true_switches <= posterior["q95"]
    # the model is the data's own: the most-likely path's statistics are not surprising
    found = regimes.filter(pl.col("predictive") == "posterior")
    assert found["statistic"].to_list() == list(STATISTICS)
    assert found["p_value"].min() > 0.05, found
    assert (found["n_replicates"] > 0.9 * DRAWS).all()
    prior_row = switches.filter(pl.col("predictive") == "prior").row(0, named=True)
    assert prior_row["n_replicates"] == 300 and prior_row["observed"] == posterior["observed"]


def test_series_coverage_near_nominal(checks) -> None:
    # ~210 observed months per series: binomial sd of a 90% coverage is 0.02. The smoothed
    # weights have seen each month, which nudges coverage up (measured 0.92-0.93 here), so
    # accept 0.85..0.97, i.e. about -2.5 / +3.5 binomial sd.
    summary = checks.to_frames()["ppc_series"]
    assert summary["series"].to_list() == ["tension", "cooperation"]
    for row in summary.iter_rows(named=True):
        assert 0.85 <= row["coverage"] <= 0.97, row
        assert row["n_observed"] > 200


def test_log_density_is_in_data_units(fitted) -> None:
    # One draw: compare with the density built from mu_data / sigma_data (already in data
    # units) and that draw's smoothed probabilities, without the checks' standardisation.
    one = predictive_checks(fitted.model, draws=1)
    posterior = fitted.idata["posterior"].to_dataset().isel(chain=[0], draw=[0])
    weights = state_probabilities(fitted.model.with_posterior(posterior)).smoothed[0]
    mu, sigma = posterior["mu_data"].values[0, 0], posterior["sigma_data"].values[0, 0]
    y = fitted.data.series
    for m in range(y.shape[1]):
        dens = stats.norm(mu[m], sigma[m]).logpdf(y[:, m, None])
        expected = special.logsumexp(dens, b=weights, axis=1)
        np.testing.assert_allclose(one.series.log_density[:, m], expected, rtol=1e-9)
    assert np.isnan(one.series.log_density[np.isnan(y)]).all()


def test_frames_are_tidy(checks, fitted) -> None:
    frames = checks.to_frames()
    months = frames["ppc_series_months"]
    n_months, n_series = fitted.data.series.shape
    assert months.height == n_months * n_series
    assert months.schema["month"] == pl.Date
    missing = months.filter(pl.col("observed").is_null())
    assert missing.height == int(np.isnan(fitted.data.series).sum())
    assert missing["inside"].is_null().all() and missing["log_density"].is_null().all()
    assert (months["lower"] < months["upper"]).all()
    summary = checks.summary()
    assert summary["ppc_draws"] == DRAWS
    assert summary["tension_coverage"] == frames["ppc_series"]["coverage"][0]
    assert "prior_switches_q50" in summary


def test_seeded_and_reproducible(fitted, checks, prior) -> None:
    again = predictive_checks(fitted.model, draws=DRAWS, prior=prior)
    for name, frame in checks.to_frames().items():
        assert again.to_frames()[name].equals(frame), name
    other = predictive_checks(fitted.model, draws=DRAWS, seed=1)
    assert not np.array_equal(other.regimes.replicated, checks.regimes.replicated)
    assert other.to_frames()["ppc_series"].equals(checks.to_frames()["ppc_series"])


def test_label_check_scores_labelled_months_only() -> None:
    months = np.arange("2020-01", "2020-05", dtype="datetime64[M]")
    smoothed = np.array(
        [  # two draws, four months
            [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]],
            [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4]],
        ]
    )
    probs = StateProbabilities(months, smoothed, smoothed, np.zeros(2))
    check = label_check(probs, np.array([0, -1, 1, 2]))  # DC, none, SE, MC
    np.testing.assert_allclose(check.probability, [0.7, 0.2, 0.4])
    frame = check.to_frame()
    assert frame["signal"].to_list() == ["DC", "SE", "MC"]
    assert frame["agrees"].to_list() == [True, False, True]
    assert check.summary() == pytest.approx(
        {"labels_n": 3, "labels_agreement": 2 / 3, "labels_mean_probability": 1.3 / 3}
    )
