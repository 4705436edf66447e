"""Regime probabilities per month from posterior draws, computed in NumPy after sampling.

Why after sampling and not as a Deterministic in the model: a (T, S) deterministic would be
stored for every draw and recomputed at every gradient step of NUTS; here it costs one batched
forward-backward pass over the draws we keep. The transition and emission formulas mirror
:mod:`models.hmm` (a test checks that the two give the same log-likelihood), and the data
arrays are the fit's own (:class:`models.fitted.FittedModel`).

The Monte Carlo stage starts each posterior draw from that draw's filtered probabilities of the
last observed month, so per-draw arrays are returned, not only means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from models.data import N_STATES
from models.fitted import FittedModel
from models.forward import forward_numpy, smooth_numpy
from models.hmm import count_log_pmf
from models.prepared import Prepared

_CHUNK = 250  # draws per batch: bounds memory of the (draws, T, M, S) emission array


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shift = x.max(axis=-1, keepdims=True)
    return x - shift - np.log(np.exp(x - shift).sum(axis=-1, keepdims=True))


def log_transitions_numpy(
    alpha: np.ndarray, beta: np.ndarray | None, drivers: np.ndarray
) -> np.ndarray:
    """(..., T, S, S) as :func:`models.hmm.log_transitions`; alpha (..., S, 2), beta (..., K, 2)."""
    n = drivers.shape[0]
    dest = np.broadcast_to(alpha[..., None, :, :], (*alpha.shape[:-2], n - 1, *alpha.shape[-2:]))
    if beta is not None:
        dest = dest + (drivers[:-1] @ beta)[..., :, None, :]
    logits = np.concatenate([np.zeros((*dest.shape[:-1], 1)), dest], axis=-1)
    log_trans = _log_softmax(logits)
    return np.concatenate([log_trans[..., :1, :, :], log_trans], axis=-3)


def log_emissions_numpy(
    mu: np.ndarray | None,
    sigma: np.ndarray | None,
    confusion: np.ndarray | None,
    prep: Prepared,
    count_log_rate: np.ndarray | None = None,
    count_shape: np.ndarray | None = None,
) -> np.ndarray:
    """(..., T, S) as :func:`models.hmm.log_emissions`; mu, sigma (..., M, S) standardised,
    count_log_rate (..., C, S), count_shape (..., C). ``mu`` None: the series are described
    given the states (a cut) and add nothing here."""
    log_emis = np.zeros((prep.y.shape[0], N_STATES))
    if mu is not None:
        z = (prep.y[:, :, None] - mu[..., None, :, :]) / sigma[..., None, :, :]
        logpdf = -0.5 * z**2 - np.log(sigma)[..., None, :, :] - 0.5 * np.log(2 * np.pi)
        log_emis = log_emis + np.sum(prep.mask[:, :, None] * logpdf, axis=-2)
    if confusion is not None:
        log_emis = log_emis + prep.label_onehot @ np.swapaxes(np.log(confusion), -1, -2)
    if count_log_rate is not None:
        log_emis = log_emis + count_log_pmf(np, count_log_rate, count_shape, prep)
    return log_emis


def count_draws(
    posterior: xr.Dataset, prep: Prepared, keep: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-draw count log rates (D, C, S) and shapes (D, C, 1.0 for Poisson counts)."""
    if not prep.has_counts:
        return None, None
    log_rate = _draws(posterior, "count_log_rate", keep)
    shape = np.ones(log_rate.shape[:-1])
    if prep.negative_binomial.any():
        shape[:, prep.negative_binomial] = _draws(posterior, "count_shape", keep)
    return log_rate, shape


@dataclass(frozen=True)
class StateProbabilities:
    """Per-draw regime probabilities, draws x months x states (DC, SE, MC)."""

    months: np.ndarray
    filtered: np.ndarray  # (D, T, S) P(state_t | months <= t)
    smoothed: np.ndarray  # (D, T, S) P(state_t | all months)
    loglik: np.ndarray  # (D,)

    @property
    def mean_filtered(self) -> np.ndarray:
        return self.filtered.mean(axis=0)

    @property
    def mean_smoothed(self) -> np.ndarray:
        return self.smoothed.mean(axis=0)

    def most_likely(self) -> np.ndarray:
        """(T,) index of the state with the highest posterior-mean smoothed probability."""
        return self.mean_smoothed.argmax(axis=-1)


def _draws(posterior: xr.Dataset, name: str, keep: np.ndarray) -> np.ndarray:
    values = posterior[name].values
    return values.reshape(-1, *values.shape[2:])[keep]


def state_probabilities(model: FittedModel, max_draws: int | None = 1000) -> StateProbabilities:
    """Filtered and smoothed probabilities for (at most ``max_draws``, evenly spaced) draws."""
    posterior, prep, config = model.posterior, model.prepared, model.config
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    count = n_draws if max_draws is None else min(n_draws, max_draws)
    keep = np.unique(np.linspace(0, n_draws - 1, count).round().astype(int))
    alpha = _draws(posterior, "alpha", keep)
    beta = _draws(posterior, "beta", keep) if prep.data.driver_names else None
    cut = config.series_given_states
    mu = None if cut else _draws(posterior, "mu", keep)
    sigma = None if cut else _draws(posterior, "sigma", keep)
    confusion = _draws(posterior, "confusion", keep) if prep.has_labels else None
    count_log_rate, count_shape = count_draws(posterior, prep, keep)
    log_init = np.full(N_STATES, -np.log(N_STATES))
    filtered, smoothed, loglik = [], [], []
    for lo in range(0, keep.size, _CHUNK):
        part = slice(lo, lo + _CHUNK)
        log_trans = log_transitions_numpy(
            alpha[part], None if beta is None else beta[part], prep.data.drivers
        )
        log_emis = log_emissions_numpy(
            None if mu is None else mu[part],
            None if sigma is None else sigma[part],
            None if confusion is None else confusion[part],
            prep,
            None if count_log_rate is None else count_log_rate[part],
            None if count_shape is None else count_shape[part],
        )
        ll, filt = forward_numpy(log_init, log_trans, log_emis)
        filtered.append(filt)
        smoothed.append(smooth_numpy(filt, log_trans))
        loglik.append(ll)
    return StateProbabilities(
        prep.data.months,
        np.concatenate(filtered),
        np.concatenate(smoothed),
        np.concatenate(loglik),
    )


def simulate_paths(log_trans: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(D, T) state paths from (D, T, S, S) log transitions; month 0 uniform as in the model."""
    trans = np.exp(log_trans)
    n_draws, n_months = trans.shape[:2]
    rows = np.arange(n_draws)
    path = np.empty((n_draws, n_months), dtype=np.int64)
    path[:, 0] = rng.integers(N_STATES, size=n_draws)
    for t in range(1, n_months):
        cdf = np.cumsum(trans[rows, t, path[:, t - 1]], axis=-1)
        path[:, t] = (rng.random((n_draws, 1)) > cdf).sum(axis=-1).clip(max=N_STATES - 1)
    return path
