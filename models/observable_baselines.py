"""Reference forecasts of the observables, as predictive draws scored like the model's.

Why these three (besides the model without drivers, fitted like the model): a forecaster that
cannot beat *persistence* (a random walk from the last observed value) has learnt nothing
about where a series goes; one that cannot beat an *AR(1) per series* has learnt nothing a
single autoregression would not; one that cannot beat *climatology* (the expanding window's
mean and sd) has not even learnt the series' level. Each sees only the window before the origin.

All are Gaussian; the k in "k-month" is the months from the series' last observation to the
target (a series can end before the origin). Persistence's sd is the RMS of the window's
k-month changes (the stationary limit, sqrt(2) x the sd, when fewer than :data:`MIN_CHANGES`
exist). The AR(1) ``y_t = c + phi y_{t-1} + e`` is fitted by least squares on consecutive
observed months, with ``phi`` clipped to [-0.99, 0.99] so its k-step variance
``s^2 (1 - phi^2k) / (1 - phi^2)`` stays finite.
"""

from __future__ import annotations

import numpy as np

MIN_CHANGES = 12
PHI_LIMIT = 0.99
REFERENCES: tuple[str, ...] = ("persistence", "ar1", "climatology")


def _last_observed(y: np.ndarray) -> int:
    seen = np.flatnonzero(np.isfinite(y))
    if seen.size == 0:
        raise ValueError("series: no observed month in the window")
    return int(seen[-1])


def _persistence(y: np.ndarray, k: int) -> tuple[float, float]:
    last = _last_observed(y)
    change = y[k:] - y[:-k]
    change = change[np.isfinite(change)]
    if change.size >= MIN_CHANGES:
        return float(y[last]), float(np.sqrt(np.mean(change**2)))
    return float(y[last]), float(np.sqrt(2) * np.nanstd(y))


def _ar1(y: np.ndarray, k: int) -> tuple[float, float]:
    last = _last_observed(y)
    prev, now = y[:-1], y[1:]
    both = np.isfinite(prev) & np.isfinite(now)
    if both.sum() < MIN_CHANGES:
        return float(np.nanmean(y)), float(np.nanstd(y))
    slope = np.polyfit(prev[both], now[both], 1)[0]
    phi = float(np.clip(slope, -PHI_LIMIT, PHI_LIMIT))
    mean = float(np.mean(now[both] - phi * prev[both]))
    resid = now[both] - mean - phi * prev[both]
    s2 = float(np.mean(resid**2))
    level = mean / (1 - phi)
    forecast = level + phi**k * (y[last] - level)
    return float(forecast), float(np.sqrt(s2 * (1 - phi ** (2 * k)) / (1 - phi**2)))


def _climatology(y: np.ndarray, k: int) -> tuple[float, float]:
    return float(np.nanmean(y)), float(np.nanstd(y))


_RULES = {"persistence": _persistence, "ar1": _ar1, "climatology": _climatology}


def reference_draws(
    name: str, window: np.ndarray, leads: tuple[int, ...], normal: np.ndarray
) -> np.ndarray:
    """(leads, series, N) draws of reference ``name`` for the window ``(T, M)`` (NaN =
    missing); ``normal`` (N,) standard normal draws shared by all references, so their
    differences are not Monte Carlo noise."""
    rule = _RULES[name]
    t, m = window.shape
    out = np.empty((len(leads), m, normal.size))
    for j in range(m):
        y = window[:, j]
        gap = t - 1 - _last_observed(y)
        for i, lead in enumerate(leads):
            mean, sd = rule(y, lead + gap)
            out[i, j] = mean + max(sd, 1e-9) * normal
    return out
