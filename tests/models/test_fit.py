"""Fitting: reproducible from the seed, the health gate, and the prior predictive check."""

from __future__ import annotations

import numpy as np
import pytest

from models.config import HealthConfig, ModelConfig
from models.diagnostics import Diagnostics, summary_table
from models.fit import fit, prior_predictive
from models.simulate_data import simulate_synthetic


@pytest.fixture(scope="module")
def tiny():
    data, _ = simulate_synthetic(80, seed=4)
    config = ModelConfig(series=data.series_names, drivers=data.driver_names).fast()
    sampler = config.sampler.model_copy(update={"draws": 100, "tune": 100, "seed": 5})
    return data, config.model_copy(update={"sampler": sampler})


def posterior_means(result) -> dict[str, np.ndarray]:
    post = result.idata["posterior"]
    return {name: post[name].mean(("chain", "draw")).values for name in post.data_vars}


def test_same_seed_same_numbers_other_seed_other_numbers(tiny) -> None:
    data, config = tiny
    first, second = fit(data, config), fit(data, config)
    a, b = posterior_means(first), posterior_means(second)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert summary_table(first.idata) == summary_table(second.idata)
    reseeded = config.model_copy(update={"sampler": config.sampler.model_copy(update={"seed": 6})})
    c = posterior_means(fit(data, reseeded))
    assert not np.array_equal(a["alpha"], c["alpha"])


def test_summary_keeps_each_value_with_its_coordinates(fitted) -> None:
    rows = {row["name"]: row for row in summary_table(fitted.idata, ["alpha", "beta"])}
    beta = fitted.idata["posterior"]["beta"]
    for driver in beta["driver"].values:
        for dest in beta["dest"].values:
            expected = float(beta.sel(driver=driver, dest=dest).mean())
            assert rows[f"beta[{driver}, {dest}]"]["mean"] == pytest.approx(expected)


def diagnostics(**changes) -> Diagnostics:
    values = {
        "max_rhat": 1.004,
        "min_ess_bulk": 900.0,
        "min_ess_tail": 700.0,
        "divergences": 0,
        "min_bfmi": 0.8,
        "chains": 4,
        "draws": 1000,
        "thresholds": HealthConfig(),
    }
    return Diagnostics(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"max_rhat": 1.02}, "R-hat"),
        ({"max_rhat": float("inf")}, "R-hat"),
        ({"min_ess_bulk": 350.0}, "bulk ESS"),
        ({"min_ess_tail": 399.0}, "tail ESS"),
        ({"divergences": 1}, "divergences"),
        ({"min_bfmi": 0.2}, "BFMI"),
    ],
)
def test_health_gate(changes: dict, problem: str) -> None:
    assert diagnostics().healthy and diagnostics().problems() == []
    sick = diagnostics(**changes)
    assert not sick.healthy
    assert len(sick.problems()) == 1 and problem in sick.problems()[0]


def test_prior_persistence_is_sticky(synthetic_data, fast_config) -> None:
    summary = prior_predictive(synthetic_data, fast_config, draws=500).summary()
    assert 0.9 <= summary["persistence_median"] <= 0.98
    assert summary["persistence_q05"] >= 0.85
    # sticky but not frozen: some switches over 240 months in most prior paths
    assert 1 <= summary["switches_median"] <= 30
    assert sum(summary[f"share_{s}"] for s in ("DC", "SE", "MC")) == pytest.approx(1.0)
