"""Shared fixtures for the model tests: one synthetic data set and one compiled fit per session.

``configure()`` runs at import, before any test module imports PyTensor or JAX, so compiled
modules land in the project cache and numpyro gets one host device per chain.
"""

from __future__ import annotations

import pytest

from models.runtime import configure

configure()

from models.config import ModelConfig  # noqa: E402
from models.fit import FitResult, fit  # noqa: E402
from models.simulate_data import SyntheticTruth, simulate_synthetic  # noqa: E402

RECOVERY_MONTHS = 240


@pytest.fixture(scope="session")
def synthetic() -> tuple:
    """SYNTHETIC data (240 months, 2 drivers, 2 series, 30% labelled) and its known truth."""
    return simulate_synthetic(RECOVERY_MONTHS, seed=1)


@pytest.fixture(scope="session")
def synthetic_data(synthetic):
    return synthetic[0]


@pytest.fixture(scope="session")
def synthetic_truth(synthetic) -> SyntheticTruth:
    return synthetic[1]


@pytest.fixture(scope="session")
def fast_config(synthetic_data) -> ModelConfig:
    """Fast settings from the data-quantile start: the shared fit serves the I/O, states and
    checks tests; starts from prior draws are exercised by the recovery test."""
    config = ModelConfig(
        series=synthetic_data.series_names,
        drivers=synthetic_data.driver_names,
        start=str(synthetic_data.months[0]),
    ).fast()
    sampler = config.sampler.model_copy(update={"init": "data_quantiles"})
    return config.model_copy(update={"sampler": sampler})


@pytest.fixture(scope="session")
def fitted(synthetic_data, fast_config) -> FitResult:
    """The shared (fast-settings) fit of a test run, for the I/O, states and checks tests
    (the recovery test fits its own truth, which the priors do not give away)."""
    return fit(synthetic_data, fast_config)
