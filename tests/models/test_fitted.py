"""A fitted model is one value: after the fit, nothing that reads it prepares the data again."""

from __future__ import annotations

import numpy as np

from models.backtest import posterior_draws
from models.checks import predictive_checks
from models.data import ModelData
from models.forecast import forecast_inputs
from models.observables import emissions_from_posterior
from models.states import state_probabilities


def test_readers_of_a_fit_never_prepare_again(fitted, monkeypatch) -> None:
    """Preparing the data starts by selecting the config's sub-panel (``ModelData.select``),
    however ``prepare`` was imported: refusing that call catches any reader that prepares."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the data were selected and prepared again after the fit")

    monkeypatch.setattr(ModelData, "select", refuse)
    model = fitted.model
    probs = state_probabilities(model, max_draws=50)
    checks = predictive_checks(model, draws=20)
    inputs = forecast_inputs(model, max_draws=20)
    draws = posterior_draws(model)
    emissions = emissions_from_posterior(model)
    assert probs.filtered.shape[1] == model.data.n_months
    assert checks.draws == 20 and inputs.n_draws == 20
    assert draws.p0.shape[0] == model.posterior.sizes["chain"] * model.posterior.sizes["draw"]
    assert [e.name for e in emissions] == list(model.data.series_names)


def test_thinning_keeps_evenly_spaced_draws_in_chain_order(fitted) -> None:
    model = fitted.model
    alpha = model.posterior["alpha"].values  # (chain, draw, origin, dest)
    flat = alpha.reshape(-1, *alpha.shape[2:])
    kept = model.thinned(7).posterior["alpha"].values
    keep = np.unique(np.linspace(0, flat.shape[0] - 1, 7).round().astype(int))
    assert kept.shape == (1, 7, *alpha.shape[2:])
    np.testing.assert_array_equal(kept[0], flat[keep])
    assert model.thinned(None).posterior.sizes["draw"] == flat.shape[0]
