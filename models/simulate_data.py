"""SYNTHETIC data simulated from the pathway model with known parameters.

Why: the only way to show the sampler, the forward pass and the state reconstruction are right
is to fit data whose true regimes and parameters are known. Nothing here describes the real
world; it is used by the recovery tests and the sampler benchmark only, never by a forecast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.data import N_STATES, NO_LABEL, ModelData
from models.hmm import alpha_prior_mean


def _default_beta() -> np.ndarray:
    return np.array([[0.5, 0.7], [-0.6, -0.4]])  # W_US pushes to SE/MC, INTL away


def _default_mu() -> np.ndarray:
    return np.array([[2.0, 0.6, -0.8], [-1.0, 0.4, 1.2]])  # tension; a cooperation series


@dataclass(frozen=True)
class SyntheticTruth:
    """Known parameters (data units) and the simulated regime path."""

    alpha: np.ndarray = field(default_factory=lambda: alpha_prior_mean(3.5) + 0.2)  # (S, 2)
    beta: np.ndarray = field(default_factory=_default_beta)  # (K, 2)
    mu: np.ndarray = field(default_factory=_default_mu)  # (M, S)
    sigma: np.ndarray = field(default_factory=lambda: np.full((2, N_STATES), 0.45))  # (M, S)
    confusion: np.ndarray = field(
        default_factory=lambda: np.full((N_STATES, N_STATES), 0.075) + 0.775 * np.eye(N_STATES)
    )
    # (C, S) mean events per month in each state; used for the counts a simulation asks for
    count_rate: np.ndarray = field(default_factory=lambda: np.zeros((0, N_STATES)))
    states: np.ndarray | None = None  # (T,) filled in by simulate_synthetic


def _ar1_standardised(rng: np.random.Generator, n: int, k: int, rho: float) -> np.ndarray:
    x = np.zeros((n, k))
    x[0] = rng.normal(size=k)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=k)
    return (x - x.mean(axis=0)) / x.std(axis=0)


def simulate_synthetic(
    n_months: int = 240,
    *,
    truth: SyntheticTruth | None = None,
    driver_names: tuple[str, ...] = ("W_US", "INTL"),
    series_names: tuple[str, ...] = ("tension", "cooperation"),
    start: str = "2009-01",
    label_share: float = 0.3,
    missing_share: float = 0.1,
    driver_rho: float = 0.8,
    seed: int = 0,
    count_names: tuple[str, ...] = (),
    counts_from: float = 0.0,
) -> tuple[ModelData, SyntheticTruth]:
    """Simulate a SYNTHETIC panel: AR(1) drivers, a regime path, Gaussian series, noisy labels,
    and Poisson counts (``truth.count_rate``) that exist only from the ``counts_from`` share of
    the months on (earlier months are structural gaps, NaN)."""
    truth = truth or SyntheticTruth()
    rng = np.random.default_rng(seed)
    k, m = truth.beta.shape[0], truth.mu.shape[0]
    if len(driver_names) != k or len(series_names) != m:
        raise ValueError("driver_names / series_names must match the truth's beta / mu rows")
    if len(count_names) != truth.count_rate.shape[0]:
        raise ValueError("count_names must match the truth's count_rate rows")
    drivers = _ar1_standardised(rng, n_months, k, driver_rho)
    states = np.empty(n_months, dtype=np.int64)
    states[0] = rng.integers(N_STATES)
    for t in range(1, n_months):
        logits = np.concatenate([[0.0], truth.alpha[states[t - 1]] + drivers[t - 1] @ truth.beta])
        p = np.exp(logits - logits.max())
        states[t] = rng.choice(N_STATES, p=p / p.sum())
    noise = rng.normal(size=(n_months, m))
    series = truth.mu[:, states].T + truth.sigma[:, states].T * noise
    series[rng.random((n_months, m)) < missing_share] = np.nan
    labels = np.full(n_months, NO_LABEL, dtype=np.int64)
    for t in np.flatnonzero(rng.random(n_months) < label_share):
        labels[t] = rng.choice(N_STATES, p=truth.confusion[states[t]])
    counts = rng.poisson(truth.count_rate[:, states].T).astype(float)
    counts[: round(counts_from * n_months)] = np.nan
    months = np.datetime64(start, "M") + np.arange(n_months)
    data = ModelData(
        months, drivers, driver_names, series, series_names, labels, counts, count_names
    )
    return data, SyntheticTruth(
        truth.alpha, truth.beta, truth.mu, truth.sigma, truth.confusion, truth.count_rate, states
    )
