"""AR(1) driver paths: the fit recovers known parameters, paths start where the data end and
stay stationary, innovations have the stated law (Gaussian, or contiguous blocks of the
historical ones under the bootstrap), and interactions are products of parts."""

from __future__ import annotations

import numpy as np
import pytest

from models.driver_paths import (
    DEFAULT_BLOCK_MONTHS,
    MAX_PHI,
    AR1Drivers,
    DriverLayout,
    base_drivers,
    check_driver_paths,
    fit_ar1,
    standard_normal,
)
from models.drivers import overlap


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
    fit = fit_ar1(history, ("W_US", "W_CN"), method="bootstrap", block_months=6)
    innov = fit.innovations(np.random.default_rng(5), n_paths=50, steps=14)
    assert innov.shape == (14, 2, 50)
    rows = fit.residuals.astype(np.float32)
    for path in range(50):
        # every month's pair of innovations is one residual row (co-movement kept) ...
        idx = [int(np.flatnonzero((rows == innov[h, :, path]).all(axis=1))[0]) for h in range(14)]
        # ... and rows run consecutively within each 6-month block
        assert all(idx[h] == idx[h - 1] + 1 for h in range(14) if h % 6)


def skewed_history(n: int, seed: int) -> np.ndarray:
    """A SYNTHETIC 3-driver AR(1) history with skewed, correlated innovations (centred
    exponentials plus a common factor): a law the Gaussian AR(1) cannot reproduce."""
    rng = np.random.default_rng(seed)
    common = rng.exponential(1.0, n) - 1.0
    e = 0.6 * (rng.exponential(1.0, (n, 3)) - 1.0) + 0.5 * common[:, None]
    phi, x = np.array([0.9, 0.6, 0.3]), np.zeros((n, 3))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def recovered_innovations(fit: AR1Drivers, paths: np.ndarray) -> np.ndarray:
    """(steps, K, n) innovations that produced ``paths`` (steps, K, n), by inverting the AR(1)."""
    mean, phi = fit.mean[:, None], fit.phi[:, None]
    previous = np.concatenate([np.broadcast_to(fit.last[:, None], paths[:1].shape), paths[:-1]])
    return (paths - mean) - phi * (previous - mean)


def test_bootstrap_paths_are_made_of_contiguous_historical_blocks_of_whole_months() -> None:
    block, steps = 5, 23
    fit = fit_ar1(skewed_history(240, seed=7), ("W_US", "W_CN", "INTL"), "bootstrap", block)
    paths = fit.sample(np.random.default_rng(8), n_paths=40, steps=steps).astype(float)
    innov = recovered_innovations(fit, paths)
    for path in range(40):
        # Each month's innovations are one historical month, every driver together ...
        distance = np.abs(fit.residuals[None] - innov[:, None, :, path]).max(axis=2)
        rows = distance.argmin(axis=1)
        assert distance[np.arange(steps), rows].max() < 1e-4  # float32 paths
        # ... and each block of `block` months is one contiguous stretch of history.
        for lo in range(0, steps, block):
            chunk = rows[lo : lo + block]
            assert np.array_equal(chunk, chunk[0] + np.arange(len(chunk)))
        starts = rows[::block]
        assert starts.max() <= fit.residuals.shape[0] - block  # complete blocks only


def test_bootstrap_is_seeded() -> None:
    fit = fit_ar1(skewed_history(240, seed=7), ("W_US", "W_CN", "INTL"), "bootstrap")
    assert fit.block_months == DEFAULT_BLOCK_MONTHS
    first = fit.sample(np.random.default_rng(3), n_paths=100, steps=30)
    assert np.array_equal(first, fit.sample(np.random.default_rng(3), n_paths=100, steps=30))
    assert not np.array_equal(first, fit.sample(np.random.default_rng(4), n_paths=100, steps=30))


def test_bootstrap_paths_match_the_historys_mean_spread_correlation_and_skew() -> None:
    history = skewed_history(600, seed=9)
    names = ("W_US", "W_CN", "INTL")
    boot = fit_ar1(history, names, "bootstrap").sample(np.random.default_rng(1), 20_000, 60)
    gauss = fit_ar1(history, names, "ar1").sample(np.random.default_rng(1), 20_000, 60)
    far = boot[-1].astype(float)  # 60 months out: the starting point is forgotten
    sd = history.std(axis=0)
    assert np.all(np.abs(far.mean(axis=1) - history.mean(axis=0)) < 0.1 * sd)
    assert np.allclose(far.std(axis=1), sd, rtol=0.1)
    assert np.allclose(np.corrcoef(far), np.corrcoef(history.T), atol=0.08)

    def skew(x: np.ndarray) -> np.ndarray:
        z = (x - x.mean(axis=-1, keepdims=True)) / x.std(axis=-1, keepdims=True)
        return (z**3).mean(axis=-1)

    # The bootstrap keeps the history's skew (INTL, the least persistent driver, shows it
    # most); Gaussian innovations lose it.
    assert abs(skew(far)[2] - skew(history.T)[2]) < 0.25 < skew(history.T)[2]
    assert abs(skew(gauss[-1].astype(float))[2]) < 0.1


@pytest.mark.parametrize(
    ("method", "block", "message"),
    [("boot", 6, "driver_paths: expected one of ar1, bootstrap"), ("bootstrap", 0, "block_months")],
)
def test_unknown_method_or_block_length_is_refused(method: str, block: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_driver_paths(method, block)
    with pytest.raises(ValueError, match=message):
        fit_ar1(skewed_history(100, seed=1), ("W_US", "W_CN", "INTL"), method, block)


def test_layout_recomputes_interactions_from_parts() -> None:
    names = ("W_US", "W_US_x_W_CN", "INTL")
    base = base_drivers(names)
    assert base == ("W_US", "W_CN", "INTL")
    layout = DriverLayout.build(base, names)
    assert layout.model_rows == (0, 3, 2) and layout.n_rows == 4
    x = np.zeros((5, layout.n_rows, 7))
    x[:, :3] = np.random.default_rng(6).normal(size=(5, 3, 7))
    layout.fill_interactions(x)
    # the same overlap as the history's (models.drivers), not a product of z-scores
    np.testing.assert_allclose(x[:, 3], overlap(x[:, 0], x[:, 1]), rtol=1e-12)
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
