"""AR(1) driver paths: the fit recovers known parameters, paths start where the data end and
stay stationary, innovations have the stated law, and interactions are products of parts."""

from __future__ import annotations

import numpy as np
import pytest

from models.driver_paths import (
    MAX_PHI,
    AR1Drivers,
    DriverLayout,
    base_drivers,
    fit_ar1,
    standard_normal,
)


def synthetic_ar1(n: int, phi: np.ndarray, mean: np.ndarray, cov: np.ndarray, seed: int):
    """A SYNTHETIC multivariate AR(1) series with known parameters (months in rows)."""
    rng = np.random.default_rng(seed)
    e = rng.multivariate_normal(np.zeros(len(phi)), cov, size=n)
    x = np.empty((n, len(phi)))
    x[0] = mean
    for t in range(1, n):
        x[t] = mean + phi * (x[t - 1] - mean) + e[t]
    return x


def known_drivers(last: np.ndarray, phi: float = 0.8, sigma: float = 0.5) -> AR1Drivers:
    k = len(last)
    return AR1Drivers(
        names=tuple(f"D{i}" for i in range(k)),
        mean=np.zeros(k),
        phi=np.full(k, phi),
        sigma=np.full(k, sigma),
        chol=sigma * np.eye(k),
        residuals=np.zeros((24, k)),
        last=np.asarray(last, dtype=float),
    )


def test_fit_recovers_phi_mean_and_residual_covariance_of_synthetic_series() -> None:
    phi, mean = np.array([0.8, 0.5]), np.array([0.5, -1.0])
    cov = np.array([[0.36, 0.12], [0.12, 0.25]])  # residual correlation 0.4
    fit = fit_ar1(synthetic_ar1(20_000, phi, mean, cov, seed=3), ("W_US", "INTL"))
    se_phi = np.sqrt((1 - phi**2) / 20_000)
    assert np.all(np.abs(fit.phi - phi) < 4 * se_phi)
    assert np.allclose(fit.mean, mean, atol=0.05)
    assert np.allclose(fit.sigma, np.sqrt(np.diag(cov)), rtol=0.03)
    assert np.allclose(fit.chol @ fit.chol.T, cov, atol=0.02)
    assert fit.residuals.shape == (19_999, 2)


def test_unit_root_is_clipped_to_a_stationary_phi() -> None:
    walk = np.cumsum(np.random.default_rng(0).normal(size=(2_000, 1)), axis=0)
    fit = fit_ar1(walk, ("W_CN",))
    assert fit.phi[0] == pytest.approx(MAX_PHI)
    assert fit.mean[0] == pytest.approx(walk.mean())


def test_paths_start_from_last_value_and_reach_the_stationary_law() -> None:
    drivers = known_drivers(last=np.array([2.0, -1.0]), phi=0.8, sigma=0.5)
    rng = np.random.default_rng(1)
    first = drivers.sample(rng, 40_000, steps=1)[0]
    se = 0.5 / np.sqrt(40_000)
    assert np.all(np.abs(first.mean(axis=1) - 0.8 * drivers.last) < 4 * se)
    far = drivers.sample(rng, 20_000, steps=60)[-1]
    stationary_sd = 0.5 / np.sqrt(1 - 0.8**2)
    assert np.all(np.abs(far.mean(axis=1)) < 4 * stationary_sd / np.sqrt(20_000))
    assert np.allclose(far.std(axis=1), stationary_sd, rtol=0.03)


def test_box_muller_normals_are_standard_normal() -> None:
    draws = standard_normal(np.random.default_rng(2), (1_000_001,))
    assert draws.shape == (1_000_001,) and draws.dtype == np.float32
    z = draws.astype(float)
    assert abs(z.mean()) < 4e-3 and abs(z.std() - 1) < 3e-3
    assert abs((z**4).mean() - 3) < 0.05  # normal kurtosis, not uniform-like
    assert abs(np.mean(z < -1.6448536) - 0.05) < 1e-3


def test_block_bootstrap_resamples_whole_residual_rows_in_consecutive_blocks() -> None:
    history = synthetic_ar1(300, np.array([0.7, 0.3]), np.zeros(2), np.eye(2), seed=4)
    fit = fit_ar1(history, ("W_US", "W_CN"), innovations="block_bootstrap", block_months=6)
    innov = fit.innovations(np.random.default_rng(5), n_paths=50, steps=14)
    assert innov.shape == (14, 2, 50)
    rows = fit.residuals.astype(np.float32)
    for path in range(50):
        # every month's pair of innovations is one residual row (co-movement kept) ...
        idx = [int(np.flatnonzero((rows == innov[h, :, path]).all(axis=1))[0]) for h in range(14)]
        # ... and rows run consecutively within each 6-month block
        assert all(idx[h] == idx[h - 1] + 1 for h in range(14) if h % 6)


def test_layout_recomputes_interactions_from_parts() -> None:
    names = ("W_US", "W_US_x_W_CN", "INTL")
    base = base_drivers(names)
    assert base == ("W_US", "W_CN", "INTL")
    layout = DriverLayout.build(base, names)
    assert layout.model_rows == (0, 3, 2) and layout.n_rows == 4
    x = np.zeros((5, layout.n_rows, 7))
    x[:, :3] = np.random.default_rng(6).normal(size=(5, 3, 7))
    layout.fill_interactions(x)
    assert np.array_equal(x[:, 3], x[:, 0] * x[:, 1])
    beta = np.arange(6.0).reshape(3, 2)
    expanded = layout.expand_beta(beta)
    assert np.array_equal(expanded[[0, 3, 2]], beta) and not expanded[1].any()


def test_layout_and_fit_reject_bad_driver_names() -> None:
    with pytest.raises(ValueError, match="not simulated"):
        DriverLayout.build(("W_US",), ("W_US_x_W_CN",))
    with pytest.raises(ValueError, match="interactions"):
        fit_ar1(np.random.default_rng(0).normal(size=(50, 1)), ("W_US_x_W_CN",))
    with pytest.raises(ValueError, match="history"):
        fit_ar1(np.zeros((50, 2)), ("W_US",))
