"""Proper scores of predictive draws against observables, and a test of equal accuracy.

Why draws: the model's predictive for an observable is a mixture over posterior draws,
regime paths and emission noise (:mod:`models.observables`), with no closed form; every
score here is computed from samples of it, so a baseline given as draws is scored the same
way. Orientation: every score is *lower is better* (the log scores are negative logs), so a
skill difference ``model - reference`` below 0 always favours the model.

- CRPS: energy form ``E|X - y| - 1/2 E|X - X'|`` over the draws, the second term from the
  sorted draws (``n log n``, not ``n^2``); it is the exact CRPS of the empirical distribution.
- Log score, continuous: ``-log`` of a Gaussian kernel density estimate of the draws at the
  observation (Silverman's bandwidth). Why a KDE and not a Gaussian fitted to the draws: the
  predictive is a mixture over three regimes and is often bimodal (tariffs in decoupling
  against the other two), and a single Gaussian would score an outcome in one mode as if it
  were in the trough between them.
- Log score, counts: ``-log`` of the predictive pmf estimated as the share of draws equal to
  the observed count, floored at ``1 / (n + 1)`` so a count no draw reached costs a finite
  amount that shrinks as draws are added.
- Binary questions: Brier ``(p - o)^2`` and ``-log`` of the probability of what happened.
- Diebold–Mariano: mean loss difference with a Newey–West (Bartlett) long-run variance at lag
  ``h - 1``. Why: forecasts ``h`` months ahead from consecutive monthly origins share ``h - 1``
  months of the same realised path, so their loss differences are autocorrelated up to lag
  ``h - 1`` and an i.i.d. standard error would be too small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

PROB_FLOOR = 1e-6  # binary log score: caps one certain miss at -log(1e-6) ≈ 13.8


def _draws_and_obs(draws: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(draws, dtype=float)
    obs = np.asarray(y, dtype=float)
    if x.ndim < 1 or x.shape[-1] < 2:
        raise ValueError(f"draws: need at least 2 draws on the last axis, got shape {x.shape}")
    if obs.shape != x.shape[:-1]:
        raise ValueError(f"y: expected shape {x.shape[:-1]} (draws without the last axis)")
    return x, obs


def crps(draws: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of the draws ``(..., n)`` at the observations ``(...)``; NaN where ``y`` is NaN."""
    x, obs = _draws_and_obs(draws, y)
    n = x.shape[-1]
    x = np.sort(x, axis=-1)
    abs_err = np.mean(np.abs(x - obs[..., None]), axis=-1)
    rank_weights = 2.0 * np.arange(1, n + 1) - n - 1
    spread = 2.0 * (x @ rank_weights) / n**2
    return abs_err - 0.5 * spread


def kde_bandwidth(draws: np.ndarray) -> np.ndarray:
    """Silverman's rule ``0.9 min(sd, IQR / 1.34) n^(-1/5)`` per row, never below 1e-9 of the
    data's scale (a degenerate set of draws would otherwise give an infinite density)."""
    x = np.asarray(draws, dtype=float)
    sd = x.std(axis=-1, ddof=1)
    q75, q25 = np.quantile(x, [0.75, 0.25], axis=-1)
    spread = np.minimum(sd, (q75 - q25) / 1.34)
    spread = np.where(spread > 0, spread, sd)
    scale = np.maximum(np.abs(x).max(axis=-1), 1.0)
    return np.maximum(0.9 * spread * x.shape[-1] ** -0.2, 1e-9 * scale)


def log_score_kde(draws: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``-log`` of the Gaussian KDE of the draws ``(..., n)`` at ``y`` ``(...)``."""
    x, obs = _draws_and_obs(draws, y)
    h = kde_bandwidth(x)
    z = (obs[..., None] - x) / h[..., None]
    log_kernel = -0.5 * z**2 - 0.5 * np.log(2 * np.pi)
    log_density = special.logsumexp(log_kernel, axis=-1) - np.log(x.shape[-1]) - np.log(h)
    return np.where(np.isnan(obs), np.nan, -log_density)


def log_score_counts(draws: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``-log`` of the predictive pmf of integer draws ``(..., n)`` at the counts ``y``, the pmf
    being the share of draws equal to ``y`` floored at ``1 / (n + 1)``."""
    x, obs = _draws_and_obs(draws, y)
    if np.any(x != np.round(x)):
        raise ValueError("draws: count draws must be whole numbers")
    n = x.shape[-1]
    pmf = np.mean(x == obs[..., None], axis=-1)
    return np.where(np.isnan(obs), np.nan, -np.log(np.maximum(pmf, 1.0 / (n + 1))))


def _binary(p: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    prob = np.asarray(p, dtype=float)
    event = np.asarray(outcome)
    if prob.shape != event.shape:
        raise ValueError(f"outcome: expected shape {prob.shape}, got {event.shape}")
    if np.any((prob < 0) | (prob > 1)):
        raise ValueError("p: probabilities must lie in [0, 1]")
    if not np.all(np.isin(event, (0, 1))):
        raise ValueError("outcome: must be 0 (did not happen) or 1 (happened)")
    return prob, event.astype(float)


def brier_binary(p: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """``(p - o)^2`` per question: 0 for certainty on what happened, 1 for certainty on the
    other, 0.25 for 50%."""
    prob, event = _binary(p, outcome)
    return (prob - event) ** 2


def log_score_binary(p: np.ndarray, outcome: np.ndarray, floor: float = PROB_FLOOR) -> np.ndarray:
    """``-log`` of the probability given to what happened, floored at ``floor``."""
    prob, event = _binary(p, outcome)
    return -np.log(np.maximum(np.where(event == 1, prob, 1 - prob), floor))


@dataclass(frozen=True)
class DieboldMariano:
    """Mean loss difference ``model - reference`` with its HAC standard error and test.

    ``lower``/``upper`` bound the mean difference at ``level`` (Student t with ``n - 1``
    degrees of freedom); ``p_value`` is two-sided. Below 0 favours the model.
    """

    mean_diff: float
    std_error: float
    statistic: float
    p_value: float
    lower: float
    upper: float
    level: float
    n: int
    lag: int


def newey_west_variance(d: np.ndarray, lag: int) -> float:
    """Long-run variance of the series ``d`` with Bartlett weights ``1 - j / (lag + 1)``
    (never negative, unlike the truncated kernel)."""
    e = np.asarray(d, dtype=float) - np.mean(d)
    n = e.size
    var = float(e @ e) / n
    for j in range(1, min(lag, n - 1) + 1):
        var += 2.0 * (1.0 - j / (lag + 1)) * float(e[j:] @ e[:-j]) / n
    return max(var, 0.0)


def diebold_mariano(
    model_loss: np.ndarray, ref_loss: np.ndarray, horizon: int, level: float = 0.9
) -> DieboldMariano:
    """Diebold–Mariano test of equal expected loss for ``horizon``-step forecasts, with the
    losses ordered by origin; Newey–West variance at lag ``horizon - 1``."""
    a = np.asarray(model_loss, dtype=float)
    b = np.asarray(ref_loss, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError("model_loss, ref_loss: must be 1-D of the same length")
    if a.size < 2 or not np.all(np.isfinite(a - b)):
        raise ValueError("losses: need at least 2 finite pairs (drop unscored forecasts first)")
    if horizon < 1:
        raise ValueError(f"horizon: must be >= 1, got {horizon}")
    d = a - b
    n, lag = d.size, horizon - 1
    mean = float(d.mean())
    se = float(np.sqrt(newey_west_variance(d, lag) / n))
    # Identical losses give 0 (no evidence either way); a constant nonzero difference is certain.
    constant = 0.0 if mean == 0 else float(np.sign(mean) * np.inf)
    stat = mean / se if se > 0 else constant
    p_value = float(2 * stats.t.sf(abs(stat), df=n - 1))
    t = float(stats.t.ppf(0.5 + level / 2, df=n - 1))
    return DieboldMariano(mean, se, stat, p_value, mean - t * se, mean + t * se, level, n, lag)
