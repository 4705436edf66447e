"""Predictive draws of one observed series from its own history: the ledger's reference
forecasters, computed at publication time from the data known then.

Why these two: a forecast that cannot beat the *random walk* (the last value plus a change of
the size history shows over the same number of months) has learnt nothing about where the
series goes next; one that cannot beat *climatology* (any month of the series' history) has
learnt nothing about the present. Both are draws, like the model's, so every forecaster is
scored by the same rules (CRPS, log score) and answers the questions the same way.

Inputs are the series on a gap-free monthly spine (NaN = unobserved month); the spine's index
is the month, so a k-month change is a pair of values k rows apart. Pure numpy.
"""

from __future__ import annotations

import numpy as np

MIN_CHANGES = 12  # fewer observed k-month changes than this cannot describe their spread


def _observed(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError("values: expected the series as a 1-D array on a monthly spine")
    return np.flatnonzero(np.isfinite(values))


def random_walk(values: np.ndarray, months_ahead: int, n: int, seed: int) -> np.ndarray | None:
    """``n`` draws of the value ``months_ahead`` months after the spine's last month.

    The last observed value plus k-month changes resampled from history, where k counts from
    the last *observed* month (a series that ended earlier has further to go). With fewer than
    :data:`MIN_CHANGES` such changes, a Gaussian with the stationary spread ``sqrt(2)`` times
    the series' sd stands in. None when the series was never observed.
    """
    values = np.asarray(values, dtype=float)
    seen = _observed(values)
    if seen.size == 0 or months_ahead < 1:
        return None
    last = seen[-1]
    k = months_ahead + values.size - 1 - last
    rng = np.random.default_rng(seed)
    changes = values[k:] - values[:-k] if k < values.size else np.array([])
    changes = changes[np.isfinite(changes)]
    if changes.size >= MIN_CHANGES:
        return values[last] + rng.choice(changes, size=n)
    spread = np.sqrt(2) * np.std(values[seen]) if seen.size > 1 else 0.0
    return values[last] + rng.normal(0.0, spread, size=n)


def climatology(values: np.ndarray, n: int, seed: int) -> np.ndarray | None:
    """``n`` draws resampled from every observed month of the series (None if none)."""
    values = np.asarray(values, dtype=float)
    seen = _observed(values)
    if seen.size == 0:
        return None
    return np.random.default_rng(seed).choice(values[seen], size=n)
