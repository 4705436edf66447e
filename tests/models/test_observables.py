"""Predictive draws of the observables: back-transformed emissions, regime paths that follow
the transition matrices, leads to January 2029, and the posterior/path variance split.
Posteriors here are SYNTHETIC (hand-set parameters, or the shared fit of synthetic data)."""

from __future__ import annotations

import numpy as np
import pytest

from models.observables import (
    FAMILIES,
    SeriesEmission,
    TransitionDraws,
    emission_draws,
    emissions_from_posterior,
    leads_for,
    observable_forecast,
    simulate_states,
)

STICKY = 12.0  # stay logit: the regime practically never leaves its state


def _transitions(n_draws: int, p0: np.ndarray, stay: float = STICKY) -> TransitionDraws:
    origin, dest = np.arange(3)[:, None], np.arange(1, 3)[None, :]
    alpha = stay * ((origin == dest).astype(float) - (origin == 0))
    return TransitionDraws(np.broadcast_to(alpha, (n_draws, 3, 2)).copy(), None, p0)


def _series(mu: np.ndarray, sigma: np.ndarray, center=10.0, scale=2.0) -> SeriesEmission:
    return SeriesEmission("tension", "gaussian", {"mu": mu, "sigma": sigma}, center, scale)


def test_gaussian_draws_are_back_transformed_to_data_units() -> None:
    n = 4
    in_dc = np.tile([1.0, 0.0, 0.0], (n, 1))
    mu = np.tile([1.0, 0.0, -1.0], (n, 1))
    f = observable_forecast(
        np.datetime64("2020-06"),
        _transitions(n, in_dc),
        [_series(mu, np.full((n, 3), 0.5))],
        None,
        n_paths=5000,
        seed=1,
    )
    pooled = f.pooled()[0, 0]  # lead 1, the only series
    # z ~ N(1, 0.5) in DC -> 10 + 2 z ~ N(12, 1)
    assert pooled.mean() == pytest.approx(12.0, abs=0.03)
    assert pooled.std() == pytest.approx(1.0, abs=0.03)
    q05, q50, q95 = f.quantiles()[:, 0, 0]
    assert q50 == pytest.approx(12.0, abs=0.05) and q95 - q05 == pytest.approx(3.29, abs=0.1)


def test_ar1_draws_run_from_the_last_value_along_the_path() -> None:
    """A series that is an AR(1) given the pathway: from its last value (z = 1) it runs 3
    months without a pathway (the mean intercept, 0) and then in DC (intercept 0.5), with
    rho 0.8 and sd 0.1; data units are 10 + 2 z."""
    n, paths, rho, sd = 4, 4000, 0.8, 0.1
    in_dc = np.tile([1.0, 0.0, 0.0], (n, 1))
    ar1 = SeriesEmission(
        "tariff",
        "gaussian_ar1",
        {"a": np.tile([0.5, 0.0, -0.5], (n, 1)), "rho": np.full(n, rho), "sigma": np.full(n, sd)},
        10.0,
        2.0,
        last=1.0,
        gap=3,
    )
    f = observable_forecast(
        np.datetime64("2020-06"), _transitions(n, in_dc), [ar1], None, paths, seed=2,
        horizons=(1, 6), until=None,
    )  # fmt: skip
    for k, lead in enumerate((1, 6)):
        mean = rho ** (3 + lead) + 0.5 * sum(rho**i for i in range(lead))
        var = sd**2 * sum(rho ** (2 * i) for i in range(3 + lead))
        draws = f.pooled()[k, 0]
        assert draws.mean() == pytest.approx(10 + 2 * mean, abs=0.02)
        assert draws.std() == pytest.approx(2 * np.sqrt(var), rel=0.05)


def test_emissions_read_the_fits_standardisation(fitted, synthetic_data, fast_config) -> None:
    emissions = emissions_from_posterior(fitted.model)
    post = fitted.idata["posterior"].to_dataset()
    mu_data = post["mu_data"].values.reshape(-1, *post["mu_data"].shape[2:])
    assert [e.name for e in emissions] == list(synthetic_data.series_names)
    for m, e in enumerate(emissions):
        np.testing.assert_allclose(e.center + e.scale * e.params["mu"], mu_data[:, m])


def test_regime_paths_follow_the_transition_matrices() -> None:
    rng = np.random.default_rng(2)
    p0 = np.tile([0.0, 1.0, 0.0], (1, 1))
    t = _transitions(1, p0, stay=np.log(8.0))  # stay 8 / (8 + 1 + 1) = 0.8 from SE
    drivers = np.zeros((1, 20_000, 2, 0))
    states = simulate_states(t, drivers, rng)
    assert np.mean(states[0, :, 0] == 1) == pytest.approx(0.8, abs=0.01)
    # two months: 0.8^2 + 0.1 * 0.1 (via DC back) + 0.1 * 0.1 (via MC back)
    assert np.mean(states[0, :, 1] == 1) == pytest.approx(0.66, abs=0.012)


def test_drivers_move_the_regime_as_their_effects_say() -> None:
    n, paths = 2, 4000
    t = _transitions(n, np.tile([0.0, 1.0, 0.0], (n, 1)), stay=2.0)
    beta = np.zeros((n, 1, 2))
    beta[:, 0, 1] = 3.0  # the driver pushes toward MC
    high = np.full((n, paths, 3, 1), 1.0)
    up = simulate_states(TransitionDraws(t.alpha, beta, t.p0), high, np.random.default_rng(3))
    flat = simulate_states(TransitionDraws(t.alpha, beta, t.p0), 0 * high, np.random.default_rng(3))
    assert np.mean(up == 2) > np.mean(flat == 2) + 0.3


def test_leads_reach_january_2029_and_are_labelled() -> None:
    leads, labels = leads_for(np.datetime64("2025-12"))
    assert leads == (1, 3, 6, 12, 37) and labels[-1] == "2029-01" and labels[0] == "1m"
    assert leads_for(np.datetime64("2029-06"))[0] == (1, 3, 6, 12)


def test_posterior_and_path_uncertainty_are_kept_apart() -> None:
    n, paths = 50, 400
    in_dc = np.tile([1.0, 0.0, 0.0], (n, 1))
    same = np.tile([0.0, 0.0, 0.0], (n, 1))
    differ = np.random.default_rng(4).normal(0.0, 1.0, (n, 1)) * np.ones((1, 3))
    noisy, exact = np.full((n, 3), 1.0), np.full((n, 3), 1e-6)
    path_only = observable_forecast(
        np.datetime64("2020-01"),
        _transitions(n, in_dc),
        [_series(same, noisy, 0.0, 1.0)],
        None,
        paths,
        seed=5,
        horizons=(1,),
        until=np.datetime64("2019-01"),
    )
    posterior_only = observable_forecast(
        np.datetime64("2020-01"),
        _transitions(n, in_dc),
        [_series(differ, exact, 0.0, 1.0)],
        None,
        paths,
        seed=5,
        horizons=(1,),
        until=np.datetime64("2019-01"),
    )
    post, path = path_only.variance_split()
    assert path[0, 0] == pytest.approx(1.0, abs=0.05) and post[0, 0] < 0.01
    post, path = posterior_only.variance_split()
    assert post[0, 0] == pytest.approx(differ[:, 0].var()) and path[0, 0] < 1e-9
    spread = posterior_only.posterior_quantiles((0.0, 1.0))[:, 0, 0]
    np.testing.assert_allclose(spread, [differ.min(), differ.max()], atol=1e-5)


def test_an_unknown_family_is_named() -> None:
    e = SeriesEmission("events", "zipf", {})
    with pytest.raises(ValueError, match="'zipf' for 'events'"):
        emission_draws(e, np.zeros((1, 1, 1), dtype=np.int8), (1,), np.random.default_rng(0))
    assert "gaussian" in FAMILIES
