"""A fitted model is one value: after the fit, nothing that reads it prepares the data again."""

from __future__ import annotations

import models.fit
import models.fitted
import models.prepared
from models.backtest import posterior_draws
from models.checks import predictive_checks
from models.forecast import forecast_inputs
from models.observables import emissions_from_posterior
from models.states import state_probabilities


def test_readers_of_a_fit_never_prepare_again(fitted, monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("prepare() called again after the fit")

    for module in (models.prepared, models.fitted, models.fit):
        monkeypatch.setattr(module, "prepare", refuse)
    model = fitted.model
    probs = state_probabilities(model, max_draws=50)
    checks = predictive_checks(model, draws=20)
    inputs = forecast_inputs(model, max_draws=20)
    draws = posterior_draws(model)
    emissions = emissions_from_posterior(model)
    assert probs.filtered.shape[1] == model.data.n_months
    assert checks.draws == 20 and inputs.n_draws == 20
    assert draws.p0.shape == (model.n_draws, 3)
    assert [e.name for e in emissions] == list(model.data.series_names)
    # A thinned fit keeps the arrays, not a copy prepared anew.
    assert model.with_posterior(model.posterior.isel(draw=[0])).prepared is model.prepared
