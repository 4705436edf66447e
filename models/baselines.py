"""Reference forecasts of the monthly pathway label, for skill scores in the backtest.

Why these three: a model that cannot beat *uniform* has learnt nothing; one that cannot beat
*climatology* has learnt only how often each pathway occurs; one that cannot beat *persistence*
has learnt only that pathways last. Each baseline sees exactly what the model sees at an origin
— the labels of the months before it — and nothing after.

All share one signature, :data:`Baseline`: ``labels_before_origin`` is the (T,) label series
of the training window (0=DC, 1=SE, 2=MC, -1 = unlabelled month, which is skipped) and
``horizons`` the months ahead (>= 1); the result is ``(len(horizons), 3)`` probabilities in
state order DC, SE, MC. None of them depends on the horizon: they are deliberately flat, a
horizon-aware reference would already be a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from models.data import N_STATES, NO_LABEL

Baseline = Callable[[np.ndarray, Sequence[int]], np.ndarray]

P_STAY = 0.8  # persistence: probability that the last labelled pathway continues


def _known_labels(labels_before_origin: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    """The labelled months of the window, after checking the arguments every baseline takes."""
    labels = np.asarray(labels_before_origin)
    if labels.ndim != 1 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError("labels_before_origin: expected a 1-D integer array")
    if not np.all(np.isin(labels, (NO_LABEL, *range(N_STATES)))):
        raise ValueError("labels_before_origin: values must be -1, 0=DC, 1=SE or 2=MC")
    if len(horizons) == 0 or min(horizons) < 1:
        raise ValueError("horizons: need at least one horizon, each >= 1 month")
    return labels[labels != NO_LABEL].astype(int)


def _repeat(probs: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    return np.tile(probs, (len(horizons), 1))


def uniform(labels_before_origin: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    """1/3 on each pathway: the no-knowledge reference."""
    _known_labels(labels_before_origin, horizons)
    return _repeat(np.full(N_STATES, 1.0 / N_STATES), horizons)


def climatology(labels_before_origin: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    """Label frequencies of the training window with add-one (Laplace) smoothing.

    ``p_k = (n_k + 1) / (n + 3)`` with ``n_k`` the labelled months of pathway k and ``n`` all
    labelled months. Why smoothing: a pathway never seen before the origin would otherwise get
    probability 0 and an unbounded log score the first time it occurs; with no labels at all
    the formula gives the uniform forecast.
    """
    known = _known_labels(labels_before_origin, horizons)
    counts = np.bincount(known, minlength=N_STATES)
    return _repeat((counts + 1.0) / (known.size + N_STATES), horizons)


def persistence(
    labels_before_origin: np.ndarray, horizons: Sequence[int], p_stay: float = P_STAY
) -> np.ndarray:
    """The most recent labelled pathway gets ``p_stay``, the other two ``(1 - p_stay) / 2`` each.

    Why not probability 1: a certain forecast has an infinite (floored) log score on its first
    miss, so it would be beaten by any hedge. ``p_stay`` (default 0.8) is a fixed reference
    value, not fitted to the data. Without any label before the origin it falls back to uniform.
    """
    if not 0.0 <= p_stay <= 1.0:
        raise ValueError(f"p_stay: must be in [0, 1], got {p_stay}")
    known = _known_labels(labels_before_origin, horizons)
    if known.size == 0:
        return uniform(labels_before_origin, horizons)
    probs = np.full(N_STATES, (1.0 - p_stay) / (N_STATES - 1))
    probs[known[-1]] = p_stay
    return _repeat(probs, horizons)


BASELINES: dict[str, Baseline] = {
    "uniform": uniform,
    "climatology": climatology,
    "persistence": persistence,
}
