"""Scoring rules against hand-computed values, closed forms against sampling, and the episode
bootstrap's reproducibility and coverage. Random inputs are SYNTHETIC, drawn with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.scoring import (
    LOG_FLOOR,
    block_bootstrap_diff,
    brier,
    crps_gaussian,
    crps_sample,
    gaussian_mixture_logpdf,
    log_score,
    pit_gaussian_mixture,
    pit_sample,
    reliability_table,
    rps,
    skill_score,
)

FORECAST = np.array([[0.2, 0.3, 0.5]])
SE = np.array([1])


def test_rps_by_hand() -> None:
    # cumulative forecast F = [0.2, 0.5, (1)], outcome SE: O = [0, 1, (1)]
    # (0.2 - 0)^2 + (0.5 - 1)^2 = 0.04 + 0.25 = 0.29; / (K - 1) = 2 -> 0.145
    np.testing.assert_allclose(rps(FORECAST, SE), [0.145])


def test_rps_is_ordinal_and_brier_is_not() -> None:
    probs = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    dc = np.array([0, 0, 0])
    # outcome DC, O = [1, 1]: all on SE -> F = [0, 1] -> (1 + 0) / 2 = 0.5
    #                         all on MC -> F = [0, 0] -> (1 + 1) / 2 = 1.0; all on DC -> 0
    np.testing.assert_allclose(rps(probs, dc), [0.5, 1.0, 0.0])
    # Brier: a certain miss costs 1 + 1 = 2 whichever wrong state it names
    np.testing.assert_allclose(brier(probs, dc), [2.0, 2.0, 0.0])


def test_brier_by_hand() -> None:
    # (0.2 - 0)^2 + (0.3 - 1)^2 + (0.5 - 0)^2 = 0.04 + 0.49 + 0.25 = 0.78
    np.testing.assert_allclose(brier(FORECAST, SE), [0.78])
    # uniform: (1/3)^2 + (2/3)^2 + (1/3)^2 = 6/9
    np.testing.assert_allclose(brier(np.full((1, 3), 1 / 3), SE), [2 / 3])


def test_log_score_by_hand_and_floor() -> None:
    # -log(0.3) = 1.2039728
    np.testing.assert_allclose(log_score(FORECAST, SE), [1.2039728043259361])
    certain_miss = np.array([[1.0, 0.0, 0.0]])
    # -log(1e-12) = 12 log 10 = 27.631021
    np.testing.assert_allclose(log_score(certain_miss, SE), [-np.log(LOG_FLOOR)])
    np.testing.assert_allclose(log_score(certain_miss, SE)[0], 27.631021115928547)


@pytest.mark.parametrize(
    ("probs", "outcomes", "match"),
    [
        (FORECAST, np.array([-1]), "unlabelled"),
        (FORECAST, np.array([1.0]), "integer"),
        (np.array([[0.5, 0.5, 0.5]]), SE, "sum to 1"),
        (np.array([[0.5, 0.5]]), SE, "shape"),
    ],
)
def test_categorical_scores_reject_bad_input(probs, outcomes, match) -> None:
    with pytest.raises(ValueError, match=match):
        rps(probs, outcomes)


def test_gaussian_mixture_logpdf_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    n = 50
    weights = rng.dirichlet(np.ones(3), size=n)
    means = np.array([-1.0, 0.0, 2.0])  # per state, shared across forecasts
    sds = np.array([0.5, 1.0, 1.5])
    y = rng.normal(0, 2, size=n)
    expected = np.log(np.sum(weights * stats.norm.pdf(y[:, None], means, sds), axis=1))
    np.testing.assert_allclose(gaussian_mixture_logpdf(y, weights, means, sds), expected)


def test_gaussian_mixture_logpdf_far_tail_and_zero_weight() -> None:
    weights = np.array([[0.3, 0.7, 0.0]])
    means, sds = np.array([0.0, 1.0, 50.0]), np.ones(3)
    # y = 50: the densities of the weighted states underflow to 0, so a naive log gives -inf;
    # the SE state (mean 1) dominates: log 0.7 + norm.logpdf(50, 1, 1), and the MC state,
    # centred on y, has weight 0 and must add nothing
    got = gaussian_mixture_logpdf(np.array([50.0]), weights, means, sds)
    np.testing.assert_allclose(got, np.log(0.7) + stats.norm.logpdf(50.0, 1.0, 1.0))


def test_crps_gaussian_by_hand() -> None:
    # z = 0: sd * (0 + 2 phi(0) - 1/sqrt(pi)) = sd * (sqrt(2) - 1) / sqrt(pi) = 0.2336950 sd
    np.testing.assert_allclose(
        crps_gaussian(np.array([3.0, 3.0]), np.array([3.0, 3.0]), np.array([1.0, 2.0])),
        [0.23369497725510913, 2 * 0.23369497725510913],
    )


def test_crps_sample_by_hand_and_brute_force() -> None:
    # draws {0, 1}, y = 0: E|X - y| = 0.5; E|X - X'| over 4 pairs = (0 + 1 + 1 + 0) / 4 = 0.5
    # CRPS = 0.5 - 0.5 * 0.5 = 0.25
    np.testing.assert_allclose(crps_sample(np.array([0.0]), np.array([[1.0, 0.0]])), [0.25])
    rng = np.random.default_rng(1)
    draws, y = rng.normal(size=(4, 30)), rng.normal(size=4)
    brute = np.abs(draws - y[:, None]).mean(axis=1) - 0.5 * np.abs(
        draws[:, :, None] - draws[:, None, :]
    ).mean(axis=(1, 2))
    np.testing.assert_allclose(crps_sample(y, draws), brute)


def test_crps_sample_converges_to_closed_form() -> None:
    rng = np.random.default_rng(2)
    mean, sd = np.array([0.0, 1.0, -2.0, 5.0]), np.array([1.0, 0.5, 2.0, 3.0])
    y = np.array([0.0, 2.0, -1.0, -4.0])
    d = 20_000
    draws = rng.normal(mean[:, None], sd[:, None], size=(4, d))
    # Monte Carlo error from the estimator's influence function psi(x) = |x - y| - E|x - X|,
    # E|x - X| = sd (z (2 Phi(z) - 1) + 2 phi(z)) for X ~ N(mean, sd), z = (x - mean) / sd
    z = (draws - mean[:, None]) / sd[:, None]
    e_abs = sd[:, None] * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z))
    se = np.std(np.abs(draws - y[:, None]) - e_abs, axis=1) / np.sqrt(d)
    bias = 0.5 * sd * 2 / np.sqrt(np.pi) / d  # D^2 divisor: 1/(2D) of E|X - X'| = 2 sd/sqrt(pi)
    err = np.abs(crps_sample(y, draws) - crps_gaussian(y, mean, sd))
    assert np.all(err < 4 * se + bias), (err, se)


def test_pit_uniform_when_well_specified_and_not_when_overconfident() -> None:
    # SYNTHETIC: each forecast is N(m, s); the observation and the draws come from it
    rng = np.random.default_rng(3)
    n, d = 2000, 200
    m, s = rng.normal(0, 3, size=n), rng.uniform(0.5, 2.0, size=n)
    y = rng.normal(m, s)
    draws = rng.normal(m[:, None], s[:, None], size=(n, d))
    assert stats.kstest(pit_sample(y, draws), "uniform").pvalue > 0.01
    overconfident = rng.normal(m[:, None], 0.5 * s[:, None], size=(n, d))
    assert stats.kstest(pit_sample(y, overconfident), "uniform").pvalue < 1e-6
    assert np.isnan(pit_sample(np.array([np.nan]), draws[:1]))[0]


def test_pit_gaussian_mixture_uniform_when_well_specified() -> None:
    # SYNTHETIC: state drawn from the forecast weights, then y from that state's Gaussian
    rng = np.random.default_rng(4)
    n = 3000
    weights = rng.dirichlet(np.ones(3), size=n)
    means, sds = np.array([-2.0, 0.0, 3.0]), np.array([1.0, 0.5, 2.0])
    state = (rng.random(n)[:, None] > np.cumsum(weights, axis=1)).sum(axis=1)
    y = rng.normal(means[state], sds[state])
    assert stats.kstest(pit_gaussian_mixture(y, weights, means, sds), "uniform").pvalue > 0.01
    wrong = weights[:, ::-1]  # states' probabilities swapped DC <-> MC
    assert stats.kstest(pit_gaussian_mixture(y, wrong, means, sds), "uniform").pvalue < 1e-6


def test_reliability_table_by_hand() -> None:
    probs = np.array([[1.0, 0.0, 0.0], [0.05, 0.25, 0.7], [0.1, 0.85, 0.05], [0.3, 0.05, 0.65]])
    outcomes = np.array([0, 2, 1, 1])
    table = reliability_table(probs, outcomes, n_bins=5)  # bins of width 0.2, p = 1 -> last
    np.testing.assert_allclose(table.edges, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    # DC: 1.0 -> bin 4; 0.05, 0.1 -> bin 0; 0.3 -> bin 1
    # SE: 0.0, 0.05 -> bin 0; 0.25 -> bin 1; 0.85 -> bin 4
    # MC: 0.0, 0.05 -> bin 0; 0.7, 0.65 -> bin 3
    np.testing.assert_array_equal(table.count, [[2, 1, 0, 0, 1], [2, 1, 0, 0, 1], [2, 0, 0, 2, 0]])
    nan = np.nan
    np.testing.assert_allclose(
        table.mean_forecast,
        [
            [0.075, 0.3, nan, nan, 1.0],  # (0.05 + 0.1) / 2
            [0.025, 0.25, nan, nan, 0.85],  # (0.0 + 0.05) / 2
            [0.025, nan, nan, 0.675, nan],  # (0.7 + 0.65) / 2
        ],
    )
    np.testing.assert_allclose(
        table.observed,
        [
            [0.0, 0.0, nan, nan, 1.0],  # bin 0: outcomes MC, SE; bin 1: SE; bin 4: DC
            [0.5, 0.0, nan, nan, 1.0],  # bin 0: outcomes DC, SE -> 1 of 2 is SE
            [0.0, nan, nan, 0.5, nan],  # bin 3: outcomes MC, SE -> 1 of 2 is MC
        ],
    )


def test_skill_score() -> None:
    assert skill_score(0.1, 0.2) == pytest.approx(0.5)
    assert skill_score(0.3, 0.2) == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="ref_score"):
        skill_score(0.1, 0.0)


def _toy_scores(rng: np.random.Generator, true_diff: float, n_episodes: int = 30, per: int = 12):
    """SYNTHETIC paired scores: a shared episode effect (sd 1) dominates forecast noise (0.2)."""
    episodes = np.repeat(np.arange(n_episodes), per)
    effect = rng.normal(0, 1, size=n_episodes)[episodes]
    ref = rng.uniform(0.2, 0.6, size=episodes.size)
    model = ref + true_diff + effect + rng.normal(0, 0.2, size=episodes.size)
    return model, ref, episodes


def test_block_bootstrap_reproducible_by_seed() -> None:
    model, ref, episodes = _toy_scores(np.random.default_rng(5), true_diff=-0.1)
    a = block_bootstrap_diff(model, ref, episodes, seed=7)
    assert a == block_bootstrap_diff(model, ref, episodes, seed=7)
    assert a != block_bootstrap_diff(model, ref, episodes, seed=8)
    assert a.n_episodes == 30 and a.level == 0.9
    assert a.lower < a.mean_diff < a.upper
    np.testing.assert_allclose(a.mean_diff, np.mean(model - ref))


def test_block_bootstrap_covers_true_difference_and_forecast_resampling_does_not() -> None:
    rng = np.random.default_rng(6)
    true_diff, reps = -0.1, 200
    covered_episodes = covered_forecasts = 0
    for rep in range(reps):
        model, ref, episodes = _toy_scores(rng, true_diff)
        by_episode = block_bootstrap_diff(model, ref, episodes, n_boot=500, seed=rep)
        covered_episodes += by_episode.lower <= true_diff <= by_episode.upper
        # each forecast its own episode: ignores the shared effect, so intervals are too narrow
        naive = block_bootstrap_diff(model, ref, np.arange(model.size), n_boot=500, seed=rep)
        covered_forecasts += naive.lower <= true_diff <= naive.upper
    # nominal 0.9; binomial sd over 200 reps ≈ 0.02, percentile intervals with 30 episodes
    # run a little short
    assert 0.8 <= covered_episodes / reps <= 0.96
    assert covered_forecasts / reps < 0.6


def test_block_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        block_bootstrap_diff(np.zeros(3), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        block_bootstrap_diff(np.array([np.nan]), np.zeros(1), np.zeros(1))
