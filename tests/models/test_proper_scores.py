"""Proper scores against closed forms and hand-computed values; the Diebold–Mariano test on
identical, clearly different and autocorrelated losses. Random inputs are SYNTHETIC, drawn
with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.proper_scores import (
    PROB_FLOOR,
    brier_binary,
    crps,
    diebold_mariano,
    log_score_binary,
    log_score_counts,
    log_score_kde,
    newey_west_variance,
)


def _crps_normal(y: np.ndarray, mu: float, sd: float) -> np.ndarray:
    z = (y - mu) / sd
    return sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def test_crps_of_normal_draws_matches_the_closed_form() -> None:
    rng = np.random.default_rng(1)
    y = np.array([-2.0, 0.0, 0.7, 3.5])
    draws = rng.normal(1.0, 2.0, size=(4, 40_000))
    np.testing.assert_allclose(crps(draws, y), _crps_normal(y, 1.0, 2.0), rtol=0.02)


def test_crps_by_hand_and_in_any_shape() -> None:
    # draws {0, 2}, y = 1: E|X - y| = 1, E|X - X'| = (0 + 2 + 2 + 0) / 4 = 1 -> 1 - 0.5 = 0.5
    assert crps(np.array([0.0, 2.0]), np.array(1.0)) == pytest.approx(0.5)
    batch = np.random.default_rng(2).normal(size=(3, 5, 50))
    y = np.zeros((3, 5))
    flat = crps(batch.reshape(15, 50), y.ravel())
    np.testing.assert_allclose(crps(batch, y).ravel(), flat)
    assert np.isnan(crps(np.array([[0.0, 1.0]]), np.array([np.nan]))[0])


def test_kde_log_score_is_close_to_the_normal_log_density() -> None:
    rng = np.random.default_rng(3)
    y = np.array([-1.0, 0.0, 1.5])
    score = log_score_kde(rng.normal(0.0, 1.0, size=(3, 20_000)), y)
    # the kernel widens the density by about h^2 / 2: a small, known bias in the tails
    np.testing.assert_allclose(score, -stats.norm.logpdf(y), atol=0.1)


def test_kde_log_score_sees_both_modes_of_a_mixture() -> None:
    rng = np.random.default_rng(4)
    bimodal = np.concatenate([rng.normal(-3, 0.5, 5000), rng.normal(3, 0.5, 5000)])
    at_mode, in_trough = log_score_kde(np.stack([bimodal, bimodal]), np.array([3.0, 0.0]))
    assert at_mode < in_trough - 5


def test_count_log_score_uses_the_share_of_draws_with_a_floor() -> None:
    draws = np.array([[0, 1, 1, 2]])
    assert log_score_counts(draws, np.array([1]))[0] == pytest.approx(-np.log(0.5))
    assert log_score_counts(draws, np.array([7]))[0] == pytest.approx(np.log(5))
    with pytest.raises(ValueError, match="whole numbers"):
        log_score_counts(np.array([[0.5, 1.0]]), np.array([1]))


def test_binary_scores_by_hand() -> None:
    p, happened = np.array([0.8, 0.8, 0.5, 1.0]), np.array([1, 0, 1, 0])
    np.testing.assert_allclose(brier_binary(p, happened), [0.04, 0.64, 0.25, 1.0])
    np.testing.assert_allclose(
        log_score_binary(p, happened),
        [-np.log(0.8), -np.log(0.2), np.log(2), -np.log(PROB_FLOOR)],
    )
    with pytest.raises(ValueError, match="outcome"):
        brier_binary(np.array([0.5]), np.array([2]))


def test_dm_on_identical_forecasts_is_zero() -> None:
    loss = np.random.default_rng(5).gamma(2.0, size=120)
    dm = diebold_mariano(loss, loss.copy(), horizon=6)
    assert dm.mean_diff == 0 and dm.statistic == 0 and dm.p_value == pytest.approx(1.0)


def test_dm_finds_a_clearly_better_forecast_and_not_a_noisy_tie() -> None:
    rng = np.random.default_rng(6)
    ref = rng.gamma(2.0, size=200)
    better = diebold_mariano(ref - 0.5 + rng.normal(0, 0.2, 200), ref, horizon=1)
    assert better.upper < 0 and better.p_value < 1e-6
    tie = diebold_mariano(ref + rng.normal(0, 1.0, 200), ref, horizon=1)
    assert tie.lower < 0 < tie.upper


def test_newey_west_by_hand_and_wider_for_overlapping_horizons() -> None:
    d = np.array([1.0, -1.0, 2.0, 0.0])  # mean 0.5, e = [0.5, -1.5, 1.5, -0.5]
    gamma0 = (0.25 + 2.25 + 2.25 + 0.25) / 4
    gamma1 = (0.5 * -1.5 + -1.5 * 1.5 + 1.5 * -0.5) / 4
    assert newey_west_variance(d, 0) == pytest.approx(gamma0)
    assert newey_west_variance(d, 1) == pytest.approx(gamma0 + 2 * 0.5 * gamma1)
    # a moving average of 12 shocks, as 12-month losses from monthly origins are
    shocks = np.random.default_rng(7).normal(size=400)
    overlapping = np.convolve(shocks, np.ones(12), mode="valid")
    naive = diebold_mariano(overlapping, np.zeros_like(overlapping), horizon=1)
    hac = diebold_mariano(overlapping, np.zeros_like(overlapping), horizon=12)
    assert hac.std_error > 2 * naive.std_error
