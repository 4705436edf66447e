"""Proper scoring rules for backtests: regime forecasts against timeline labels, and predictive
distributions against the observed series.

Why proper scores: a forecaster minimises its expected score only by reporting what it believes,
so a model cannot win the backtest by hedging or by being overconfident. Why several: the RPS
respects the ordinal order DC < SE < MC (calling MC when DC happened costs more than calling
SE), the Brier score treats the three pathways as unordered, and the log score punishes a
confident miss without bound (floored here), which is what one wants to notice in a forecaster
that rules a pathway out.

Conventions: categorical forecasts are ``(N, 3)`` probabilities in state order DC, SE, MC and
outcomes are ``(N,)`` integers 0=DC, 1=SE, 2=MC; unlabelled months (-1) must be dropped by the
caller, since there is nothing to score. Every function returns one score per forecast, so the
caller can average over any grouping and bootstrap by episode (:func:`block_bootstrap_diff`).
Orientation: RPS, Brier, log score and CRPS are *lower is better*; the log predictive density
is *higher is better*. A NaN observation (a missing month) gives a NaN score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from models.data import N_STATES

LOG_FLOOR = 1e-12  # probability floor of the log score: caps one miss at -log(1e-12) ≈ 27.6


def _categorical(probs: np.ndarray, outcomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validated (N, 3) probabilities and their one-hot outcomes."""
    probs = np.asarray(probs, dtype=float)
    outcomes = np.asarray(outcomes)
    if probs.ndim != 2 or probs.shape[1] != N_STATES:
        raise ValueError(f"probs: expected shape (N, {N_STATES}), got {probs.shape}")
    if outcomes.shape != (probs.shape[0],) or not np.issubdtype(outcomes.dtype, np.integer):
        raise ValueError(f"outcomes: expected integer array of shape ({probs.shape[0]},)")
    if np.any((outcomes < 0) | (outcomes >= N_STATES)):
        raise ValueError("outcomes: must be 0=DC, 1=SE or 2=MC; drop unlabelled (-1) months")
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("probs: each row must be non-negative and sum to 1")
    return probs, np.eye(N_STATES)[outcomes]


def rps(probs: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
    """Ranked probability score per forecast; lower is better, range [0, 1].

    ``RPS = 1/(K-1) * sum_{k=1}^{K-1} (F_k - O_k)^2`` with ``F_k``, ``O_k`` the cumulative
    forecast and outcome over the ordered states DC < SE < MC (K = 3). The last cumulative term
    is always 1 - 1 = 0 and is left out; dividing by K-1 = 2 puts a certain, fully wrong
    forecast (all mass on DC when MC happened) at exactly 1.
    """
    probs, onehot = _categorical(probs, outcomes)
    cum_diff = np.cumsum(probs - onehot, axis=1)[:, :-1]
    return np.sum(cum_diff**2, axis=1) / (N_STATES - 1)


def brier(probs: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
    """Multi-class Brier score per forecast; lower is better, range [0, 2].

    ``BS = sum_k (p_k - o_k)^2``, not divided by K: 0 for certainty on the outcome, 2 for
    certainty on a wrong state, 2/3 for the uniform forecast. Ignores the ordinal order.
    """
    probs, onehot = _categorical(probs, outcomes)
    return np.sum((probs - onehot) ** 2, axis=1)


def log_score(probs: np.ndarray, outcomes: np.ndarray, floor: float = LOG_FLOOR) -> np.ndarray:
    """Negative log probability of the outcome per forecast; lower is better, range [0, -log floor].

    ``LS = -log(max(p_y, floor))``. The floor keeps one zero-probability miss from making the
    mean infinite (and the model comparison meaningless); with 1e-12 one such miss costs ≈ 27.6.
    """
    probs, _ = _categorical(probs, outcomes)
    p_outcome = probs[np.arange(probs.shape[0]), outcomes]
    return -np.log(np.maximum(p_outcome, floor))


def gaussian_mixture_logpdf(
    y: np.ndarray, weights: np.ndarray, means: np.ndarray, sds: np.ndarray
) -> np.ndarray:
    """Log predictive density of ``y`` under a Gaussian mixture; higher is better.

    ``log p(y) = log sum_s w_s N(y; mu_s, sd_s)``: the HMM's predictive for an observed series
    mixes the per-state emission Gaussians by the forecast state probabilities. ``y`` is (N,),
    ``weights`` (N, S); ``means`` and ``sds`` are (N, S) or (S,). Computed with logsumexp so
    far tails do not underflow to -inf.
    """
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore"):  # a zero-weight state contributes nothing: log 0 = -inf
        log_w = np.log(np.asarray(weights, dtype=float))
    log_comp = stats.norm.logpdf(y[:, None], loc=means, scale=sds)
    return special.logsumexp(log_w + log_comp, axis=1)


def pit_gaussian_mixture(
    y: np.ndarray, weights: np.ndarray, means: np.ndarray, sds: np.ndarray
) -> np.ndarray:
    """Probability integral transform ``F(y) = sum_s w_s Phi((y - mu_s) / sd_s)``, shapes as in
    :func:`gaussian_mixture_logpdf`. Uniform on [0, 1] when the forecasts are calibrated."""
    y = np.asarray(y, dtype=float)
    return np.sum(weights * stats.norm.cdf(y[:, None], loc=means, scale=sds), axis=1)


def pit_sample(y: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """PIT from predictive draws: the fraction of the (N, D) draws at or below each of the (N,)
    observations. Uniform on [0, 1] (up to 1/D) when the forecasts are calibrated."""
    y = np.asarray(y, dtype=float)
    pit = np.mean(np.asarray(draws) <= y[:, None], axis=1)
    return np.where(np.isnan(y), np.nan, pit)


def crps_gaussian(y: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Closed-form CRPS of a Gaussian forecast; lower is better, in the units of ``y``.

    ``CRPS = sd * (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi))``, ``z = (y - mean) / sd``
    (Gneiting & Raftery 2007). Unlike the log density it grows only linearly in a miss.
    """
    y, mean, sd = (np.asarray(a, dtype=float) for a in (y, mean, sd))
    z = (y - mean) / sd
    return sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def crps_sample(y: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """CRPS from predictive draws, energy form; lower is better.

    ``CRPS = E|X - y| - 1/2 E|X - X'|`` with the expectations over the D draws of each row of
    ``draws`` (N, D), including X = X' pairs (divisor D^2): this is the exact CRPS of the
    empirical distribution of the draws, slightly above the true value by O(1/D). ``E|X - X'|``
    comes from the sorted draws, ``2/D^2 sum_i (2i - D - 1) x_(i)``, so the cost is D log D,
    not D^2.
    """
    y = np.asarray(y, dtype=float)
    x = np.sort(np.asarray(draws, dtype=float), axis=1)
    d = x.shape[1]
    abs_err = np.mean(np.abs(x - y[:, None]), axis=1)
    rank_weights = 2 * np.arange(1, d + 1) - d - 1
    spread = 2 * (x @ rank_weights) / d**2
    return abs_err - 0.5 * spread


@dataclass(frozen=True)
class ReliabilityTable:
    """Per class (rows DC, SE, MC) and forecast-probability bin (columns): the mean forecast
    probability, the observed frequency of the class, and the number of forecasts. Empty bins
    have count 0 and NaN means. A calibrated forecaster has ``observed`` ≈ ``mean_forecast``."""

    edges: np.ndarray  # (n_bins + 1,) bin edges on [0, 1]
    mean_forecast: np.ndarray  # (3, n_bins)
    observed: np.ndarray  # (3, n_bins)
    count: np.ndarray  # (3, n_bins) int


def reliability_table(
    probs: np.ndarray, outcomes: np.ndarray, n_bins: int = 10
) -> ReliabilityTable:
    """Reliability of categorical forecasts, one-vs-rest per class, in equal-width bins.

    Bins are ``[i/n, (i+1)/n)`` with a probability of exactly 1 in the last bin. Equal widths
    (not quantile bins) keep tables comparable across models and origins.
    """
    probs, onehot = _categorical(probs, outcomes)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.minimum((probs * n_bins).astype(int), n_bins - 1)  # (N, 3)
    count = np.zeros((N_STATES, n_bins), dtype=int)
    sum_p = np.zeros((N_STATES, n_bins))
    sum_o = np.zeros((N_STATES, n_bins))
    for k in range(N_STATES):
        count[k] = np.bincount(bins[:, k], minlength=n_bins)
        sum_p[k] = np.bincount(bins[:, k], weights=probs[:, k], minlength=n_bins)
        sum_o[k] = np.bincount(bins[:, k], weights=onehot[:, k], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ReliabilityTable(edges, sum_p / count, sum_o / count, count)


def skill_score(score: float, ref_score: float) -> float:
    """``1 - score / ref_score`` for mean scores that are lower-is-better with 0 = perfect
    (RPS, Brier, log score, CRPS): 1 is perfect, 0 is no better than the reference, negative is
    worse. Not meaningful for the log predictive density, which has no zero point."""
    if ref_score == 0:
        raise ValueError("ref_score: the reference is already perfect (0); skill is undefined")
    return 1.0 - score / ref_score


@dataclass(frozen=True)
class BootstrapDiff:
    """Mean of ``model - reference`` per-forecast scores and its bootstrap interval."""

    mean_diff: float
    lower: float
    upper: float
    level: float
    n_episodes: int


def block_bootstrap_diff(
    model_scores: np.ndarray,
    ref_scores: np.ndarray,
    episodes: np.ndarray,
    n_boot: int = 2000,
    level: float = 0.9,
    seed: int = 0,
) -> BootstrapDiff:
    """Mean score difference with a percentile interval from resampling whole episodes.

    Why episodes and not forecasts: forecasts from one origin (all its horizons) share the same
    information and the same realised path, so their errors are strongly correlated; resampling
    them one by one would pretend there are many independent tests and give intervals far too
    narrow. Each replicate draws the episodes (e.g. origins) with replacement and averages the
    difference over all forecasts of the drawn episodes, so large episodes weigh as they do in
    the point estimate. For lower-is-better scores a negative difference favours the model.
    Same seed and inputs give the same interval.
    """
    diff = np.asarray(model_scores, dtype=float) - np.asarray(ref_scores, dtype=float)
    episodes = np.asarray(episodes)
    if diff.ndim != 1 or episodes.shape != diff.shape:
        raise ValueError("model_scores, ref_scores and episodes must be 1-D of the same length")
    if diff.size == 0:
        raise ValueError("scores: nothing to bootstrap (no forecasts)")
    if not np.all(np.isfinite(diff)):
        raise ValueError("scores: NaN or inf; drop unscored forecasts before bootstrapping")
    _, episode_idx = np.unique(episodes, return_inverse=True)
    sums = np.bincount(episode_idx, weights=diff)
    counts = np.bincount(episode_idx).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, sums.size, size=(n_boot, sums.size))
    replicates = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    alpha = (1.0 - level) / 2
    lower, upper = np.quantile(replicates, [alpha, 1.0 - alpha])
    return BootstrapDiff(float(diff.mean()), float(lower), float(upper), level, int(sums.size))
