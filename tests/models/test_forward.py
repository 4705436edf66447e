"""The scaled forward pass: NumPy reference against brute force, PyTensor against NumPy, and
finite gradients far past the -745 log-likelihood where a log-space scan used to give NaN."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from models.forward import forward_numpy, forward_pytensor, smooth_numpy

S = 3


def random_hmm(n_months: int, seed: int, emis_loc: float = -3.0):
    rng = np.random.default_rng(seed)
    log_init = np.log(rng.dirichlet(np.ones(S)))
    log_trans = np.log(rng.dirichlet(np.full(S, 2.0), size=(n_months, S)))
    log_emis = rng.normal(emis_loc, 2.0, size=(n_months, S))
    return log_init, log_trans, log_emis


def brute_force(log_init, log_trans, log_emis):
    """log P(y) and smoothed marginals by enumerating every state path."""
    n_months = log_emis.shape[0]
    paths = np.array(list(itertools.product(range(S), repeat=n_months)))
    logp = log_init[paths[:, 0]] + log_emis[0, paths[:, 0]]
    for t in range(1, n_months):
        logp += log_trans[t, paths[:, t - 1], paths[:, t]] + log_emis[t, paths[:, t]]
    total = np.logaddexp.reduce(logp)
    weights = np.exp(logp - total)
    marginals = np.stack([np.bincount(paths[:, t], weights, S) for t in range(n_months)])
    return total, marginals


def test_numpy_forward_and_smoother_match_enumeration() -> None:
    log_init, log_trans, log_emis = random_hmm(6, seed=0)
    total, marginals = brute_force(log_init, log_trans, log_emis)
    loglik, filtered = forward_numpy(log_init, log_trans, log_emis)
    assert loglik == pytest.approx(total, abs=1e-10)
    np.testing.assert_allclose(smooth_numpy(filtered, log_trans), marginals, atol=1e-10)
    # the filtered distribution of the last month is the smoothed one
    np.testing.assert_allclose(filtered[-1], marginals[-1], atol=1e-10)
    # and month 0's filtered distribution is the enumeration over month 0's data only
    _, first = brute_force(log_init, log_trans[:1], log_emis[:1])
    np.testing.assert_allclose(filtered[0], first[0], atol=1e-12)


def test_numpy_forward_batches_over_leading_dims() -> None:
    items = [random_hmm(30, seed=s) for s in range(3)]
    stacked = [np.stack(parts) for parts in zip(*items, strict=True)]
    loglik, filtered = forward_numpy(*stacked)
    for i, item in enumerate(items):
        one_ll, one_filtered = forward_numpy(*item)
        assert loglik[i] == pytest.approx(one_ll, abs=1e-10)
        np.testing.assert_allclose(filtered[i], one_filtered, atol=1e-12)


def compiled_forward(mode: str | None, n_months: int):
    """Forward pass and its PyTensor gradient compiled in ``mode``.

    Both PyTensor's default mode and JAX (what the numpyro sampler runs) are tested. JAX needs
    static shapes, as the model has (its inputs are constants); the default mode compiles once
    for every length.
    """
    return _compiled(mode, n_months if mode == "JAX" else None)


@functools.cache
def _compiled(mode: str | None, n_months: int | None):
    log_init = pt.tensor("log_init", shape=(S,))
    log_trans = pt.tensor("log_trans", shape=(n_months, S, S))
    log_emis = pt.tensor("log_emis", shape=(n_months, S))
    loglik, filtered = forward_pytensor(log_init, log_trans, log_emis)
    grads = pytensor.grad(loglik, [log_trans, log_emis])
    fn = pytensor.function([log_init, log_trans, log_emis], [loglik, filtered, *grads], mode=mode)
    return lambda *inputs: [np.asarray(out) for out in fn(*inputs)]


MODES = pytest.mark.parametrize("mode", ["FAST_COMPILE", "JAX"], ids=["python-mode", "jax-mode"])


@MODES
@pytest.mark.parametrize("n_months", [2, 50, 400])
def test_pytensor_forward_equals_numpy(mode: str | None, n_months: int) -> None:
    inputs = random_hmm(n_months, seed=n_months)
    loglik, filtered, *_ = compiled_forward(mode, n_months)(*inputs)
    ref_loglik, ref_filtered = forward_numpy(*inputs)
    assert float(loglik) == pytest.approx(ref_loglik, rel=1e-12)
    np.testing.assert_allclose(filtered, ref_filtered, atol=1e-12)


@MODES
def test_gradients_finite_far_below_exp_underflow(mode: str | None) -> None:
    log_init, log_trans, log_emis = random_hmm(400, seed=11, emis_loc=-6.0)
    loglik, _, grad_trans, grad_emis = compiled_forward(mode, 400)(log_init, log_trans, log_emis)
    assert loglik < -745 * 2, "the check only means something well past exp underflow"
    assert np.all(np.isfinite(grad_trans)) and np.all(np.isfinite(grad_emis))
    # d loglik / d log_emis[t, s] is the smoothed probability of state s at month t
    _, filtered = forward_numpy(log_init, log_trans, log_emis)
    np.testing.assert_allclose(grad_emis, smooth_numpy(filtered, log_trans), atol=1e-9)
    # and a central finite difference agrees for a transition entry deep in the series
    eps = 1e-3  # loglik ~ -1e3, so smaller steps drown in round-off
    bumped = [log_trans.copy(), log_trans.copy()]
    bumped[0][300, 1, 2] += eps
    bumped[1][300, 1, 2] -= eps
    numeric = (
        forward_numpy(log_init, bumped[0], log_emis)[0]
        - forward_numpy(log_init, bumped[1], log_emis)[0]
    ) / (2 * eps)
    assert grad_trans[300, 1, 2] == pytest.approx(numeric, rel=1e-4)
