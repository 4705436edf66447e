"""Every forecaster's predictive draws of the observables at one backtest origin.

Why one function per kind: the regime models (with and without drivers) go through
:mod:`models.observables` from a posterior, the references through
:mod:`models.observable_baselines` from the window; both come out as ``(leads, series, N)``
draws, so :func:`models.evaluation.score_forecast` scores them all the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models import backtest as bt
from models.fitted import FittedModel
from models.observable_baselines import REFERENCES, reference_draws
from models.observables import (
    HORIZONS,
    TransitionDraws,
    emissions_from_posterior,
    observable_forecast,
)


def regime_model_draws(
    model: FittedModel,
    n_paths: int,
    seed: int,
    leads: Sequence[int] = HORIZONS,
) -> np.ndarray:
    """(leads, series, draws x paths) for a fit on data ending at the origin: regime paths
    from each draw's filtered probabilities of the origin month, drivers from AR(1) paths
    fitted on the window (one per draw and path)."""
    draws = bt.posterior_draws(model)
    data = model.data
    n, steps = draws.p0.shape[0], max(leads)
    drivers = None
    if draws.beta is not None:
        paths = bt.driver_paths(data, n * n_paths, steps, seed)
        drivers = paths.reshape(n, n_paths, steps, -1)
    forecast = observable_forecast(
        data.months[-1],
        TransitionDraws(draws.alpha, draws.beta, draws.p0),
        emissions_from_posterior(model),
        drivers,
        n_paths,
        seed,
        tuple(leads),
        until=None,
    )
    return forecast.pooled()


def reference_forecasts(
    window: np.ndarray, leads: Sequence[int], n_draws: int, seed: int
) -> dict[str, np.ndarray]:
    """(leads, series, n_draws) for each reference, with shared normal draws."""
    normal = np.random.default_rng(seed).standard_normal(n_draws)
    return {name: reference_draws(name, window, tuple(leads), normal) for name in REFERENCES}


def agreement(
    fast: FittedModel,
    nuts: FittedModel,
    observed6: np.ndarray,
    n_paths: int,
    seed: int,
) -> dict[str, float | None]:
    """How far the fast posterior's answers are from NUTS's on the same data: the largest
    difference in posterior-mean filtered state probabilities (all months, and the origin
    month the forecast starts from), and the 6-month CRPS of each series observed then
    (``observed6`` (series,), NaN where unobserved)."""
    from models import proper_scores as ps
    from models.states import state_probabilities

    a = state_probabilities(fast, max_draws=None).mean_filtered
    b = state_probabilities(nuts, max_draws=500).mean_filtered
    out: dict[str, float | None] = {
        "max_abs_filtered_diff": float(np.abs(a - b).max()),
        "max_abs_origin_diff": float(np.abs(a[-1] - b[-1]).max()),
        "crps6_fast": None,
        "crps6_nuts": None,
        "max_abs_crps6_diff": None,
    }
    seen = np.isfinite(observed6)
    if seen.any():
        crps = [
            ps.crps(
                regime_model_draws(model, n_paths, seed, (6,))[0][seen],
                observed6[seen],
            )
            for model in (fast, nuts.thinned(500))
        ]
        out["crps6_fast"], out["crps6_nuts"] = float(crps[0].mean()), float(crps[1].mean())
        out["max_abs_crps6_diff"] = float(np.abs(crps[0] - crps[1]).max())
    return out
