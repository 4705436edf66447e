"""The series described given the pathways (a cut): they never move the pathways, the paths
drawn per posterior draw follow the counts and labels, and each series' AR(1) given the
pathway is recovered from those paths. The data are SYNTHETIC (models.simulate_data, with the
series replaced by AR(1) series whose intercept the true pathway sets)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from models.config import ConfigError, ModelConfig
from models.data import STATES, ModelData
from models.fitted import FittedModel
from models.prepared import prepare
from models.series_given_states import ar1_parameters, sample_paths, with_series_given_states
from models.simulate_data import SyntheticTruth, simulate_synthetic
from models.states import state_probabilities

COUNTS = {"cooperation": "poisson", "dialogue": "poisson", "restrictive": "poisson"}
HIGHEST = {"dialogue": "MC", "restrictive": "DC", "cooperation": "SE"}
RATE = np.array([[0.1, 1.5, 0.2], [0.2, 0.5, 2.5], [3.0, 0.8, 0.3]])  # rows as COUNTS
DRAWS = 200
# The true AR(1) of the two series given the pathway (DC, SE, MC): tension is pushed up in
# decoupling and down in managed competition, the second series the other way round; the
# first returns to its pathway's level (rho 0.7), the second drifts (rho 1, a random walk).
# rho 0.7 lies outside the prior's central 50% (1 +- 0.34) and the intercepts' signs differ.
INTERCEPT = np.array([[0.6, 0.0, -0.6], [-0.1, 0.05, 0.2]])
RHO = np.array([0.7, 1.0])
STEP_SD = np.array([0.2, 0.15])


@pytest.fixture(scope="module")
def cut() -> tuple[ModelData, ModelConfig, SyntheticTruth]:
    data, truth = simulate_synthetic(
        160, truth=SyntheticTruth(count_rate=RATE), count_names=tuple(COUNTS), seed=8
    )
    rng = np.random.default_rng(9)
    walks = np.zeros((data.n_months, 2))
    for t in range(1, data.n_months):
        noise = rng.normal(0.0, STEP_SD)
        walks[t] = INTERCEPT[:, truth.states[t]] + RHO * walks[t - 1] + noise
    walks[40:44, 1] = np.nan  # a gap: the months after it are not paired with it
    data = ModelData(
        data.months,
        data.drivers,
        data.driver_names,
        walks,
        data.series_names,
        data.labels,
        data.counts,
        data.count_names,
    )
    config = ModelConfig(
        series=data.series_names,
        drivers=data.driver_names,
        counts=COUNTS,
        count_highest=HIGHEST,
        series_given_states=True,
    )
    return data, config, truth


def _true_posterior(data: ModelData, truth: SyntheticTruth) -> xr.DataTree:
    """DRAWS copies of the true transition, label and count parameters (no series parameters:
    the cut adds them)."""

    def copies(value: np.ndarray, dims: tuple[str, ...]):
        value = np.broadcast_to(value, (1, DRAWS, *value.shape))
        return (("chain", "draw", *dims), value.copy())

    posterior = xr.Dataset(
        {
            "alpha": copies(truth.alpha, ("origin", "dest")),
            "beta": copies(truth.beta, ("driver", "dest")),
            "confusion": copies(truth.confusion, ("state", "timeline_label")),
            "count_log_rate": copies(np.log(RATE), ("count_series", "state")),
        },
        coords={"state": list(STATES), "count_series": list(data.count_names)},
    )
    return xr.DataTree.from_dict({"posterior": posterior})


def test_series_never_move_the_pathways(cut) -> None:
    data, config, truth = cut
    idata = _true_posterior(data, truth)
    scrambled = ModelData(
        data.months,
        data.drivers,
        data.driver_names,
        np.random.default_rng(0).permutation(data.series),
        data.series_names,
        data.labels,
        data.counts,
        data.count_names,
    )
    a = state_probabilities(FittedModel.of(idata, data, config), max_draws=20).smoothed
    b = state_probabilities(FittedModel.of(idata, scrambled, config), max_draws=20).smoothed
    np.testing.assert_array_equal(a, b)


def test_paths_follow_counts_and_ar1_is_recovered(cut) -> None:
    data, config, truth = cut
    prep = prepare(data, config)
    rng = np.random.default_rng(3)
    paths = sample_paths(_true_posterior(data, truth)["posterior"].to_dataset(), prep, config, rng)
    assert paths.shape == (DRAWS, data.n_months)
    agree = (paths == truth.states[None, :]).mean()
    assert agree > 0.8, agree
    a, rho, sigma = ar1_parameters(paths, prep, config, rng)
    # back to data units: y = scale * z + center, so a_data = scale * a + center * (1 - rho)
    a_data = a * prep.scale[None, :, None] + (prep.center * (1 - rho))[:, :, None]
    for name, est, true in (
        ("intercept", a_data, INTERCEPT),
        ("rho", rho, RHO),
        ("sd", sigma * prep.scale[None, :], STEP_SD),
    ):
        centre, spread = est.mean(axis=0), est.std(axis=0)
        assert np.all(np.abs(centre - true) < 4 * spread + 0.02), (name, centre, true)
    assert np.all(rho.std(axis=0) < 0.05)  # the data, not the prior (sd 0.5), set rho


def test_posterior_gains_the_ar1_reproducibly(cut) -> None:
    data, config, truth = cut
    prep = prepare(data, config)
    tree = with_series_given_states(_true_posterior(data, truth), prep, config, seed=1)
    post = tree["posterior"].to_dataset()
    assert post["ar_intercept"].dims == ("chain", "draw", "series", "state")
    assert post["ar_rho"].dims == post["ar_sigma"].dims == ("chain", "draw", "series")
    assert np.all(post["ar_sigma"].values > 0)
    again = with_series_given_states(_true_posterior(data, truth), prep, config, seed=1)
    np.testing.assert_array_equal(post["ar_rho"].values, again["posterior"]["ar_rho"].values)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"count_highest": {}}, "count_highest"),
        ({"ordered_means": {"cooperation_series": "MC_highest"}}, "ordered_means"),
        ({"emission_sd": "per_state"}, "per_series"),
    ],
)
def test_cut_config_errors_name_the_field(change: dict, field: str) -> None:
    raw = {
        "series": ["tension", "cooperation_series"],
        "counts": COUNTS,
        "count_highest": HIGHEST,
        "series_given_states": True,
        **change,
    }
    with pytest.raises(ConfigError, match=field):
        ModelConfig.from_dict(raw)
