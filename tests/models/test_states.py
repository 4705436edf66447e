"""Regime probabilities from posterior draws: well-formed, thinned on request, consistent."""

from __future__ import annotations

import numpy as np

from models.states import state_probabilities


def test_per_draw_probabilities_are_distributions(fitted) -> None:
    probs = state_probabilities(fitted.model, max_draws=100)
    n_months = fitted.data.n_months
    assert probs.filtered.shape == probs.smoothed.shape == (100, n_months, 3)
    for arr in (probs.filtered, probs.smoothed):
        assert np.all(arr >= 0)
        np.testing.assert_allclose(arr.sum(axis=-1), 1.0, atol=1e-9)
    # nothing comes after the last month: smoothing cannot change it
    np.testing.assert_allclose(probs.smoothed[:, -1], probs.filtered[:, -1], atol=1e-12)
    assert np.all(np.isfinite(probs.loglik)) and np.all(probs.loglik < 0)
    np.testing.assert_array_equal(probs.months, fitted.data.months)


def test_all_draws_when_unthinned(fitted) -> None:
    probs = state_probabilities(fitted.model, max_draws=None)
    assert probs.filtered.shape[0] == fitted.config.sampler.chains * fitted.config.sampler.draws
