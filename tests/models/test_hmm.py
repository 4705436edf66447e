"""The PyMC graph computes what the NumPy mirror computes, with the structure the design asks
for: ordered tension means, sticky symmetric prior, data-informed starts, labels optional."""

from __future__ import annotations

import numpy as np
import pytest

from models.config import ModelConfig
from models.data import ModelData
from models.forward import forward_numpy
from models.hmm import alpha_prior_mean, build_model, initial_means
from models.prepared import prepare
from models.states import log_emissions_numpy, log_transitions_numpy


def random_point(model, seed: int) -> dict:
    """The initial point moved by a random, deliberately asymmetric amount in every entry."""
    rng = np.random.default_rng(seed)
    return {k: v + rng.normal(0, 0.5, size=np.shape(v)) for k, v in model.initial_point().items()}


def test_potential_equals_numpy_mirror(synthetic_data, fast_config) -> None:
    model = build_model(prepare(synthetic_data, fast_config), fast_config)
    names = ["alpha", "beta", "mu", "sigma", "confusion"]
    outs = model.replace_rvs_by_values([model.potentials[0], *(model[n] for n in names)])
    evaluate = model.compile_fn(outs, inputs=model.value_vars, mode="JAX", on_unused_input="ignore")
    prep = prepare(synthetic_data, fast_config)
    for seed in range(3):
        potential, alpha, beta, mu, sigma, confusion = evaluate(random_point(model, seed))
        assert not np.allclose(beta, beta.T[::-1].T)  # columns differ: transpositions would show
        loglik, _ = forward_numpy(
            np.full(3, -np.log(3)),
            log_transitions_numpy(alpha, beta, prep.data.drivers),
            log_emissions_numpy(mu, sigma, confusion, prep),
        )
        assert float(potential) == pytest.approx(loglik, rel=1e-10)


def test_tension_means_ordered_and_start_from_data(synthetic_data, fast_config) -> None:
    model = build_model(prepare(synthetic_data, fast_config), fast_config)
    (mu_values,) = model.replace_rvs_by_values([model["mu"]])
    evaluate = model.compile_fn(
        mu_values, inputs=model.value_vars, mode="JAX", on_unused_input="ignore"
    )
    for seed in range(5):
        mu = evaluate(random_point(model, seed))
        assert mu[0, 0] > mu[0, 1] > mu[0, 2]  # DC > SE > MC on the tension series
    start = evaluate(model.initial_point())
    np.testing.assert_allclose(start, initial_means(prepare(synthetic_data, fast_config)))


def test_initial_means_follow_quantiles_and_direction() -> None:
    n = 120
    rng = np.random.default_rng(3)
    tension = rng.normal(size=n)
    series = np.column_stack([tension, -tension + 0.1 * rng.normal(size=n), tension])
    data = ModelData(
        np.datetime64("2010-01", "M") + np.arange(n),
        np.zeros((n, 0)),
        (),
        series,
        ("tension", "coop", "same"),
        np.full(n, -1),
    )
    config = ModelConfig(series=("tension", "coop", "same"), drivers=(), start="2010-01")
    means = initial_means(prepare(data, config))
    assert means[0, 0] > means[0, 1] > means[0, 2]
    assert means[1, 0] < means[1, 1] < means[1, 2]  # cooperation is low in decoupling
    np.testing.assert_allclose(means[2], means[0])


def test_sticky_prior_is_symmetric_across_origins() -> None:
    mean = alpha_prior_mean(4.0)
    logits = np.column_stack([np.zeros(3), mean])  # DC is the reference destination
    stay_minus_move = [logits[i, i] - np.delete(logits[i], i) for i in range(3)]
    np.testing.assert_allclose(stay_minus_move, 4.0)


def test_no_labels_no_drivers_builds_homogeneous_model(synthetic_data) -> None:
    unlabelled = ModelData(
        synthetic_data.months,
        synthetic_data.drivers,
        synthetic_data.driver_names,
        synthetic_data.series,
        synthetic_data.series_names,
        np.full(synthetic_data.n_months, -1),
    )
    config = ModelConfig(series=("tension",), drivers=(), start="2009-01")
    model = build_model(prepare(unlabelled, config), config)
    names = {rv.name for rv in model.free_RVs}
    assert names == {"alpha", "mu_tension", "sigma_series"}
    per_state_config = config.model_copy(update={"emission_sd": "per_state"})
    per_state = build_model(prepare(unlabelled, per_state_config), per_state_config)
    assert {rv.name for rv in per_state.free_RVs} == {"alpha", "mu_tension", "sigma"}


def test_shared_emission_sd_is_the_same_in_every_state(synthetic_data) -> None:
    config = ModelConfig(series=("tension", "cooperation"), drivers=(), start="2009-01")
    model = build_model(prepare(synthetic_data, config), config)
    (sigma,) = model.replace_rvs_by_values([model["sigma"]])
    sigma = sigma.eval({model.rvs_to_values[model["sigma_series"]]: np.log([0.3, 0.7])})
    np.testing.assert_allclose(sigma, [[0.3] * 3, [0.7] * 3])
