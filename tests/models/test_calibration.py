"""Simulation-based calibration of the transition parameters: the sampler's log density is the
HMM's transition formula, the rank test detects miscalibration, and at the real panel's number
of regime switches the ranks are uniform. Simulated paths are SYNTHETIC (drawn from the
priors on the real panel's drivers)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytensor
import pytensor.tensor as pt
import pytest

from flows.panel import build_panel
from models.calibration import (
    TransitionPosterior,
    calibrate,
    rank_uniformity,
    simulate_path,
    switches,
)
from models.config import ModelConfig, from_yaml
from models.drivers import model_data
from models.hmm import log_transitions, prior_transition_draws
from tests.conftest import DATA_DIR

CONFIG = from_yaml(DATA_DIR / "model.yaml")


@pytest.fixture(scope="module")
def drivers(bundled_tables: dict[str, pl.DataFrame]) -> np.ndarray:
    """The real panel's drivers, 2009-01 on, as the publication config builds them."""
    panel = build_panel(bundled_tables).frame
    data, _ = model_data(
        panel, CONFIG.series, CONFIG.drivers, dt.date(2009, 1, 1), None, CONFIG.composites
    )
    return data.drivers


def test_sampler_density_is_the_hmm_transition_formula(drivers: np.ndarray) -> None:
    from numpyro.infer.util import log_density

    from models.calibration import _path_model

    rng = np.random.default_rng(3)
    alpha, beta = prior_transition_draws(CONFIG, CONFIG.drivers, 1, rng)
    states = simulate_path(alpha[0], beta[0], drivers, rng)
    args = TransitionPosterior(CONFIG, CONFIG.drivers, draws=10).model_args(states, drivers)
    params = {"alpha": alpha[0], "beta": beta[0]}
    joint, trace = log_density(_path_model, args, {}, params)
    path = float(trace["path"]["fn"].log_factor)
    # the HMM's own (PyTensor) transition matrices, read along the path
    log_trans = log_transitions(pt.constant(alpha[0]), pt.constant(beta[0]), drivers)
    matrices = pytensor.function([], log_trans, mode="FAST_COMPILE")()  # no C compiler run
    expected = matrices[np.arange(1, len(states)), states[:-1], states[1:]].sum()
    assert path == pytest.approx(expected, rel=1e-6)  # JAX computes in float32
    assert float(joint) < path  # plus the (negative) log prior densities


def test_switches_and_simulated_paths(drivers: np.ndarray) -> None:
    assert switches(np.array([0, 0, 1, 1, 2, 0])) == 3
    rng = np.random.default_rng(0)
    sticky = np.array([[-9.0, -9.0], [9.0, 0.0], [0.0, 9.0]])
    states = simulate_path(sticky, np.zeros((4, 2)), drivers, rng)
    assert states.shape == (drivers.shape[0],) and switches(states) == 0


def test_rank_test_detects_piled_ranks() -> None:
    rng = np.random.default_rng(1)
    uniform = rng.integers(0, 100, size=(400, 3))
    piled = rng.integers(0, 10, size=(400, 3))  # ranks all near 0: posterior too high
    assert rank_uniformity(uniform, 99, 10).min() > 0.001
    assert rank_uniformity(piled, 99, 10).max() < 1e-10
    with pytest.raises(ValueError, match="bins: 7 does not divide the 100 possible ranks"):
        rank_uniformity(uniform, 99, 7)


def test_only_normal_priors_are_supported() -> None:
    beta = {**CONFIG.priors.beta, "INTL": {"dist": "StudentT", "nu": 3, "mu": -0.3, "sigma": 0.3}}
    other = ModelConfig.model_validate({**CONFIG.model_dump(mode="json"), "priors": {"beta": beta}})
    with pytest.raises(ValueError, match=r"Normal priors, not for \['INTL'\]"):
        TransitionPosterior(other, other.drivers, draws=10)


@pytest.mark.slow
def test_calibrated_at_the_real_number_of_switches(drivers: np.ndarray, fitted_db: dict) -> None:
    from flows.warehouse import connect

    with connect(fitted_db["db"], read_only=True) as con:
        regimes = con.sql(
            "SELECT month, arg_max(pathway, smoothed) AS state FROM regime_probabilities "
            "GROUP BY month ORDER BY month"
        ).pl()
    path = regimes["state"].replace_strict({"DC": 0, "SE": 1, "MC": 2}).to_numpy()
    n_switches = switches(path)
    assert 1 <= n_switches <= 40 and len(path) == drivers.shape[0]
    names = CONFIG.drivers
    result = calibrate(CONFIG, drivers, names, n_switches, replications=8, draws=99, seed=2)
    assert result.ranks.shape == (8, 14) and result.ranks.max() <= 99
    assert result.uniformity(bins=4).min() > 0.001
    # the same test fails a posterior fitted with priors that are not the simulation's
    shifted = {n: {"dist": "Normal", "mu": p.params["mu"] + 1.0, "sigma": 0.3}
               for n, p in CONFIG.priors.beta.items()}  # fmt: skip
    wrong = ModelConfig.model_validate(
        {**CONFIG.model_dump(mode="json"), "priors": {"beta": shifted}}
    )
    biased = calibrate(
        CONFIG, drivers, names, n_switches, replications=8, draws=99, seed=2, fit_config=wrong
    )
    assert biased.uniformity(bins=4)[6:].max() < 0.001  # every driver effect
