"""Scaled forward algorithm (and a backward smoother) for hidden Markov models.

Why scaled and not log-space: ``logsumexp`` inside ``pytensor.scan`` produced NaN gradients once
the running log-likelihood passed about -745 (``exp`` underflows to 0 in the gradient's
intermediate terms), i.e. after roughly 130 months of real data. The scaled recursion carries the
*normalised* filtered distribution, which stays in [0, 1], and accumulates ``log`` of the
per-month normalising constants, so no quantity ever leaves double-precision range.

Conventions (the same in NumPy and PyTensor, so the reference can test the graph):

- ``log_init``  (..., S)      log P(state at month 0)
- ``log_trans`` (..., T, S, S) ``log_trans[t, i, j]`` = log P(state_t = j | state_{t-1} = i);
  ``log_trans[0]`` is ignored (month 0 uses ``log_init``)
- ``log_emis``  (..., T, S)    log density of month t's observations given state_t

The NumPy functions accept leading batch dimensions (e.g. posterior draws) so that state
probabilities for thousands of draws cost one loop over months, not one per draw.
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt


def _normalise(pred: np.ndarray, log_emis_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shift = log_emis_t.max(axis=-1, keepdims=True)
    unnorm = pred * np.exp(log_emis_t - shift)
    norm = unnorm.sum(axis=-1, keepdims=True)
    return unnorm / norm, (np.log(norm) + shift)[..., 0]


def forward_numpy(
    log_init: np.ndarray, log_trans: np.ndarray, log_emis: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reference forward pass: (total log-likelihood (...,), filtered probabilities (..., T, S))."""
    log_emis = np.asarray(log_emis, dtype=float)
    trans = np.exp(np.asarray(log_trans, dtype=float))
    n_months = log_emis.shape[-2]
    filtered = np.empty(np.broadcast_shapes(log_emis.shape, trans.shape[:-1]))
    state, loglik = _normalise(np.exp(np.asarray(log_init, dtype=float)), log_emis[..., 0, :])
    filtered[..., 0, :] = state
    for t in range(1, n_months):
        pred = np.einsum("...i,...ij->...j", state, trans[..., t, :, :])
        state, log_norm = _normalise(pred, log_emis[..., t, :])
        loglik = loglik + log_norm
        filtered[..., t, :] = state
    return loglik, filtered


def smooth_numpy(filtered: np.ndarray, log_trans: np.ndarray) -> np.ndarray:
    """Smoothed P(state_t | all months) from filtered probabilities (backward pass).

    Uses the filtered-to-smoothed recursion
    ``s_t(i) = f_t(i) * sum_j A_{t+1}(i, j) s_{t+1}(j) / p_{t+1}(j)`` with
    ``p_{t+1} = f_t A_{t+1}``, which needs no emission densities and stays in [0, 1].
    """
    filtered = np.asarray(filtered, dtype=float)
    trans = np.exp(np.asarray(log_trans, dtype=float))
    smoothed = np.empty_like(filtered)
    smoothed[..., -1, :] = filtered[..., -1, :]
    for t in range(filtered.shape[-2] - 2, -1, -1):
        a_next = trans[..., t + 1, :, :]
        pred = np.einsum("...i,...ij->...j", filtered[..., t, :], a_next)
        ratio = smoothed[..., t + 1, :] / np.maximum(pred, np.finfo(float).tiny)
        back = np.einsum("...ij,...j->...i", a_next, ratio)
        s = filtered[..., t, :] * back
        smoothed[..., t, :] = s / s.sum(axis=-1, keepdims=True)
    return smoothed


def _pt_normalise(pred: pt.TensorVariable, log_emis_t: pt.TensorVariable):
    shift = pt.max(log_emis_t)
    unnorm = pred * pt.exp(log_emis_t - shift)
    norm = pt.sum(unnorm)
    return unnorm / norm, pt.log(norm) + shift


def forward_pytensor(
    log_init: pt.TensorLike, log_trans: pt.TensorLike, log_emis: pt.TensorLike
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """The same scaled forward pass as a ``pytensor.scan`` graph (single sequence, no batch).

    Returns (total log-likelihood scalar, filtered probabilities (T, S)); both differentiable.
    Used as a ``pm.Potential`` so the discrete states are summed out exactly.
    """
    log_init = pt.as_tensor_variable(log_init)
    log_trans = pt.as_tensor_variable(log_trans)
    log_emis = pt.as_tensor_variable(log_emis)
    first, first_log_norm = _pt_normalise(pt.exp(log_init), log_emis[0])

    def step(log_trans_t, log_emis_t, prev):
        return _pt_normalise(pt.dot(prev, pt.exp(log_trans_t)), log_emis_t)

    (states, log_norms) = pytensor.scan(
        step,
        sequences=[log_trans[1:], log_emis[1:]],
        outputs_info=[first, None],
        return_updates=False,
    )
    filtered = pt.concatenate([first[None, :], states], axis=0)
    return first_log_norm + pt.sum(log_norms), filtered
