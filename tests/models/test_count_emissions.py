"""Count emissions: the PyMC graph and the NumPy mirror agree with counts of both families, the
state a count identifies is highest on it by at least the configured ratio, months where a
count does not exist contribute nothing, and chains start from dispersed prior draws.
The data are SYNTHETIC (models.simulate_data)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.config import ConfigError, ModelConfig
from models.data import DataError, ModelData
from models.forward import forward_numpy
from models.hmm import build_model
from models.initial_points import prior_initvals
from models.prepared import prepare
from models.simulate_data import SyntheticTruth, simulate_synthetic
from models.states import log_emissions_numpy, log_transitions_numpy

# In name order, the order a config keeps its counts in (models/config.py).
COUNTS = {"cooperation": "poisson", "dialogue": "poisson", "restrictive": "negative_binomial"}
HIGHEST = {"dialogue": "MC", "restrictive": "DC", "cooperation": "SE"}
RATE = np.array([[0.1, 1.0, 0.2], [0.2, 0.5, 1.5], [3.0, 0.8, 0.4]])


@pytest.fixture(scope="module")
def counted() -> tuple[ModelData, ModelConfig]:
    data, _ = simulate_synthetic(
        120,
        truth=SyntheticTruth(count_rate=RATE),
        count_names=tuple(COUNTS),
        counts_from=0.25,
        seed=4,
    )
    config = ModelConfig(
        series=data.series_names,
        drivers=data.driver_names,
        counts=COUNTS,
        count_highest=HIGHEST,
    ).fast()
    return data, config


def _evaluate(model, names, potential: bool = True):
    wanted = [model.potentials[0]] if potential else []
    outs = model.replace_rvs_by_values([*wanted, *(model[n] for n in names)])
    return model.compile_fn(outs, inputs=model.value_vars, mode="JAX", on_unused_input="ignore")


def test_potential_equals_numpy_mirror_with_counts(counted) -> None:
    data, config = counted
    model = build_model(prepare(data, config), config)
    names = ["alpha", "beta", "mu", "sigma", "confusion", "count_log_rate", "count_shape"]
    evaluate = _evaluate(model, names)
    prep = prepare(data, config)
    rng = np.random.default_rng(11)
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in model.initial_point().items()}
        potential, alpha, beta, mu, sigma, confusion, log_rate, k = evaluate(point)
        shape = np.ones(len(COUNTS))
        shape[list(config.counts.values()).index("negative_binomial")] = k[0]  # name order
        log_emis = log_emissions_numpy(mu, sigma, confusion, prep, log_rate, shape)
        loglik, _ = forward_numpy(
            np.full(3, -np.log(3)), log_transitions_numpy(alpha, beta, prep.data.drivers), log_emis
        )
        assert float(potential) == pytest.approx(loglik, rel=1e-9)


def test_count_log_pmf_matches_scipy_and_skips_missing_months(counted) -> None:
    data, config = counted
    prep = prepare(data, config)
    log_rate = np.log(RATE) + 0.1
    shape = np.array([1.0, 3.5, 1.0])
    only_counts = log_emissions_numpy(
        np.zeros((2, 3)), np.ones((2, 3)), None, prep, log_rate, shape
    ) - log_emissions_numpy(np.zeros((2, 3)), np.ones((2, 3)), None, prep)
    y = data.counts
    lam = np.exp(log_rate)
    expected = np.zeros((data.n_months, 3))
    for c, family in enumerate(COUNTS.values()):
        for s in range(3):
            if family == "poisson":
                pmf = stats.poisson.logpmf(y[:, c], lam[c, s])
            else:  # scipy's nbinom(n, p) with mean lam: p = n / (n + lam)
                pmf = stats.nbinom.logpmf(y[:, c], shape[c], shape[c] / (shape[c] + lam[c, s]))
            expected[:, s] += np.where(np.isfinite(y[:, c]), pmf, 0.0)
    np.testing.assert_allclose(only_counts, expected, rtol=1e-10, atol=1e-10)
    gap = ~np.isfinite(y).any(axis=1)
    assert gap.sum() == 30 and np.all(only_counts[gap] == 0.0)


def test_identified_state_is_highest_by_the_least_ratio(counted) -> None:
    data, config = counted
    model = build_model(prepare(data, config), config)
    evaluate = _evaluate(model, ["count_rate"], potential=False)
    rng = np.random.default_rng(2)
    ratio = config.priors.count_min_ratio
    for _ in range(5):
        point = {k: v + rng.normal(0, 1.0, np.shape(v)) for k, v in model.initial_point().items()}
        (rate,) = evaluate(point)
        for c, name in enumerate(COUNTS):
            if name in HIGHEST:
                top = ("DC", "SE", "MC").index(HIGHEST[name])
                assert rate[c, top] >= ratio * np.delete(rate[c], top).max() * (1 - 1e-12)
    assert "mu_tension" not in model.named_vars  # labels come from the counts, not tension


def test_prior_starts_are_dispersed_and_respect_orderings(synthetic_data, fast_config) -> None:
    model = build_model(prepare(synthetic_data, fast_config), fast_config)
    starts = prior_initvals(model, 4, seed=5)
    tension = np.array([s["mu_tension"] for s in starts])
    assert np.all(np.diff(tension, axis=1) < 0)  # DC > SE > MC in every chain's start
    assert tension.std(axis=0).min() > 0.2  # the chains do not start together
    again = prior_initvals(model, 4, seed=5)
    np.testing.assert_array_equal(tension, [s["mu_tension"] for s in again])


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match="count_highest: 'x' is not one of counts"):
        ModelConfig.from_dict(
            {"series": ["t"], "counts": {"a": "poisson"}, "count_highest": {"x": "MC"}}
        )
    with pytest.raises(ConfigError, match="one count per state"):
        ModelConfig.from_dict(
            {
                "series": ["t"],
                "counts": {"a": "poisson", "b": "poisson"},
                "count_highest": {"a": "MC", "b": "MC"},
            }
        )
    with pytest.raises(ConfigError, match="mean_highest: 'u' is not one of series"):
        ModelConfig.from_dict({"series": ["t"], "mean_highest": {"u": "DC"}})


def test_count_that_never_happens_is_refused_naming_it(counted) -> None:
    data, config = counted
    empty = data.counts.copy()
    empty[:, 0] = np.where(np.isfinite(empty[:, 0]), 0.0, np.nan)  # cooperation
    bad = ModelData(
        data.months,
        data.drivers,
        data.driver_names,
        data.series,
        data.series_names,
        data.labels,
        empty,
        data.count_names,
    )
    with pytest.raises(DataError, match="counts: 'cooperation'"):
        prepare(bad, config)
    fractional = data.counts.copy()
    fractional[40, 0] = 0.5
    with pytest.raises(DataError, match="whole numbers"):
        ModelData(
            data.months,
            data.drivers,
            data.driver_names,
            data.series,
            data.series_names,
            data.labels,
            fractional,
            data.count_names,
        )
