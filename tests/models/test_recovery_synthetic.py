"""SYNTHETIC recovery: fit data simulated from the model with known parameters and check that
the regimes and the parameters come back. The data are not real; see models.simulate_data."""

from __future__ import annotations

import numpy as np

from models.states import state_probabilities

# posterior variable (data units) <- attribute of SyntheticTruth
PARAMETERS = {
    "alpha": "alpha",
    "beta": "beta",
    "mu_data": "mu",
    "sigma_data": "sigma",
    "confusion": "confusion",
}


def test_regimes_recovered_from_smoothed_probabilities(fitted, synthetic_truth) -> None:
    probs = state_probabilities(fitted.idata, fitted.data, fitted.config)
    accuracy = float((probs.most_likely() == synthetic_truth.states).mean())
    assert accuracy >= 0.95, f"only {accuracy:.1%} of months in the right regime"
    np.testing.assert_allclose(probs.smoothed.sum(axis=-1), 1.0, atol=1e-9)
    # the synthetic path really switches, so this is not a one-regime trivial fit
    assert np.bincount(synthetic_truth.states, minlength=3).min() >= 20


def test_true_parameters_inside_94_percent_intervals(fitted, synthetic_truth) -> None:
    posterior = fitted.idata["posterior"]
    inside, missed = 0, []
    total = 0
    for name, attr in PARAMETERS.items():
        draws = posterior[name].values.reshape(-1, *posterior[name].shape[2:])
        lower, upper = np.quantile(draws, [0.03, 0.97], axis=0)
        truth = getattr(synthetic_truth, attr)
        assert truth.shape == lower.shape, name
        hit = (truth >= lower) & (truth <= upper)
        inside += int(hit.sum())
        total += hit.size
        missed += [f"{name}{idx}" for idx in zip(*np.nonzero(~hit), strict=True)]
    assert inside / total >= 0.80, f"{inside}/{total} inside; missed {missed}"


def test_fast_fit_sampled_cleanly(fitted) -> None:
    d = fitted.diagnostics
    assert d.divergences == 0
    assert d.max_rhat < 1.05
    assert min(d.min_ess_bulk, d.min_ess_tail) > 100
    assert (d.chains, d.draws) == (2, 500)
