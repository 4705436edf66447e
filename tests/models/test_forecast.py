"""From a posterior to scenario forecasts, and sweep grid files: draws stay aligned across
alpha, beta and the start probabilities, results are seeded, shocks move the forecast the
theory-signed way, and every grid mistake is refused with its file and field.

The posterior here is SYNTHETIC: draws scattered around the known truth of a simulated panel
(no sampling), so these tests take a second."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from models.calendar_drivers import months_to_us_election
from models.config import ModelConfig
from models.data import STATES
from models.drivers import KnownPart
from models.fitted import FittedModel
from models.forecast import (
    Grid,
    GridError,
    forecast,
    forecast_inputs,
    load_grid,
    point_seed,
    prior_only,
    scenario_shocks,
    simulate_shocks,
)
from models.hmm import alpha_prior_mean
from models.prepared import prepare
from models.scenarios import ScenarioError, load_calendar, load_scenarios
from models.simulate_data import SyntheticTruth, simulate_synthetic
from models.states import state_probabilities

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "data" / "scenarios"
GRID = ROOT / "data" / "sweeps" / "tariff_taiwan.yaml"
DRIVERS = ("W_US", "W_CN", "W_US_x_W_CN", "INTL")
BETA = np.array([[0.5, 0.7], [0.4, 0.5], [0.1, 0.1], [-0.6, -0.4]])


@pytest.fixture(scope="module")
def synthetic():
    """SYNTHETIC panel ending 2026-08 with the real model's four drivers, a config for it and
    a 2 x 30 draw posterior around the truth (standardised means, as the model stores them)."""
    truth = SyntheticTruth(beta=BETA)
    data, truth = simulate_synthetic(212, truth=truth, driver_names=DRIVERS, seed=3)
    config = ModelConfig(series=data.series_names, drivers=DRIVERS, start="2009-01")
    prep = prepare(data, config)
    rng = np.random.default_rng(0)

    def draws(value: np.ndarray, sd: float) -> np.ndarray:
        return value[None, None] + rng.normal(0, sd, (2, 30, *value.shape))

    mu = (truth.mu - prep.center[:, None]) / prep.scale[:, None]
    sigma = np.abs(draws(truth.sigma / prep.scale[:, None], 0.02))
    confusion = draws(truth.confusion, 0.0)
    posterior = xr.Dataset(
        {
            "alpha": (("chain", "draw", "origin", "dest"), draws(truth.alpha, 0.3)),
            "beta": (("chain", "draw", "driver", "dest"), draws(BETA, 0.2)),
            "mu": (("chain", "draw", "series", "state"), draws(mu, 0.05)),
            "sigma": (("chain", "draw", "series", "state"), sigma),
            "confusion": (("chain", "draw", "state", "timeline_label"), confusion),
        },
        coords={"driver": list(DRIVERS), "origin": list(STATES), "dest": list(STATES[1:])},
    )
    return data, config, posterior


@pytest.fixture(scope="module")
def scenarios():
    calendar = load_calendar(SCENARIOS / "calendar.yaml")
    return {s.name: s for s in load_scenarios(SCENARIOS)}, calendar


def test_inputs_keep_each_draws_parameters_together(synthetic) -> None:
    data, config, posterior = synthetic
    model = FittedModel.of(posterior, data, config)
    inputs = forecast_inputs(model, max_draws=25)
    assert inputs.n_draws == 25 and inputs.p0.shape == (25, 3)
    flat_alpha = posterior["alpha"].values.reshape(60, 3, 2)
    keep = np.unique(np.linspace(0, 59, 25).round().astype(int))
    np.testing.assert_array_equal(inputs.alpha, flat_alpha[keep])
    np.testing.assert_array_equal(inputs.beta, posterior["beta"].values.reshape(60, 4, 2)[keep])
    # the same 25 draws, picked by state_probabilities' own indexing, not by the thinning
    expected = state_probabilities(model, max_draws=25).filtered[:, -1]
    np.testing.assert_allclose(inputs.p0, expected)
    np.testing.assert_allclose(inputs.p0.sum(axis=1), 1.0)
    assert inputs.drivers.names == ("W_US", "W_CN", "INTL")
    np.testing.assert_array_equal(inputs.drivers.last, data.drivers[-1, [0, 1, 3]])
    assert str(inputs.origin) == "2026-08"


def test_forecast_is_seeded_and_reaches_the_horizon(synthetic, scenarios) -> None:
    data, config, posterior = synthetic
    chosen = [scenarios[0]["baseline"], scenarios[0]["grand_bargain"]]
    args = (FittedModel.of(posterior, data, config), chosen, scenarios[1])
    first = forecast(*args, n_paths=200, seed=5, max_draws=20)
    again = forecast(*args, n_paths=200, seed=5, max_draws=20)
    other = forecast(*args, n_paths=200, seed=6, max_draws=20)
    base = first["baseline"]
    assert base.month_probs.shape == (20, 29, 3)
    assert str(base.months[0]) == "2026-09" and str(base.months[-1]) == "2029-01"
    np.testing.assert_allclose(base.month_probs.sum(axis=2), 1.0)
    for name in first:
        np.testing.assert_array_equal(first[name].month_probs, again[name].month_probs)
    assert not np.array_equal(base.month_probs, other["baseline"].month_probs)
    # Wider win-sets push away from decoupling (theory-signed effects of the synthetic truth).
    bargain = first["grand_bargain"].mean_probs[-1]
    assert bargain[0] < base.mean_probs[-1][0]


@pytest.mark.parametrize(
    ("horizon", "message"),
    [("2026-08", "is not after the last observed month 2026-08"), ("2029-13", "YYYY-MM")],
)
def test_a_bad_horizon_is_refused(synthetic, scenarios, horizon: str, message: str) -> None:
    data, config, posterior = synthetic
    with pytest.raises(ValueError, match=message):
        model = FittedModel.of(posterior, data, config)
        forecast(model, [scenarios[0]["baseline"]], scenarios[1], horizon)


def _sawtooth(data) -> KnownPart:
    """A SYNTHETIC known part of W_US: the real election countdown, scaled as in a composite."""
    countdown = months_to_us_election(data.months).astype(float)
    centre, sd, weight = countdown.mean(), countdown.std(), 0.5
    return KnownPart(
        driver="W_US",
        column="months_to_us_election",
        sign=1,
        centre=centre,
        sd=sd,
        weight=weight,
        history=(countdown - centre) / sd * weight,
        last_month=data.months[-1],
    )


def test_known_parts_are_projected_not_simulated(synthetic, scenarios) -> None:
    data, config, posterior = synthetic
    part = _sawtooth(data)
    drivers = data.drivers.copy()
    drivers[:, 0] += part.history
    with_countdown = replace(data, drivers=drivers)
    plain = forecast_inputs(FittedModel.of(posterior, data, config), max_draws=10)
    known = forecast_inputs(
        FittedModel.of(posterior, with_countdown, config), max_draws=10, known=(part,)
    )
    # the AR(1) is fitted on the driver without its known part: exactly the plain fit
    for field in ("mean", "phi", "sigma", "last"):
        np.testing.assert_allclose(getattr(known.drivers, field), getattr(plain.drivers, field))
    np.testing.assert_allclose(known.drivers.observed_last, with_countdown.drivers[-1, [0, 1, 3]])
    # the future countdown is an exact offset from the calendar, in W_US only
    offsets = known.known_offsets(29)
    np.testing.assert_allclose(offsets[:, 0], part.project(known.months_to("2029-01")))
    assert not offsets[:, 1:].any()
    assert offsets[2, 0] == offsets[:, 0].min()  # November 2026: 0 months to the vote
    # so a forecast with the countdown equals the plain one given that offset as a shock
    baseline, calendar = scenarios[0]["baseline"], scenarios[1]
    shocks = scenario_shocks(known, baseline, calendar, "2029-01")
    projected = simulate_shocks(known, shocks, n_paths=50, seed=4)
    # the plain inputs start from the observed W_US without the countdown: give it back
    start = replace(plain.drivers, known_last=known.drivers.known_last)
    by_hand = simulate_shocks(replace(plain, drivers=start, p0=known.p0), shocks + offsets, 50, 4)
    np.testing.assert_array_equal(projected.month_probs, by_hand.month_probs)
    ignored = simulate_shocks(known, shocks - offsets, n_paths=50, seed=4)
    assert not np.array_equal(projected.month_probs, ignored.month_probs)


def test_a_known_part_from_another_panel_is_refused(synthetic) -> None:
    data, config, posterior = synthetic
    part = replace(_sawtooth(data), last_month=np.datetime64("2026-07", "M"))
    with pytest.raises(ValueError, match="known: W_US's months_to_us_election ends 2026-07"):
        forecast_inputs(FittedModel.of(posterior, data, config), max_draws=10, known=(part,))


def test_prior_only_inputs_change_only_the_transition_parameters(synthetic, scenarios) -> None:
    data, config, posterior = synthetic
    inputs = forecast_inputs(FittedModel.of(posterior, data, config), max_draws=60)
    prior = prior_only(inputs, config, seed=8)
    assert prior.drivers is inputs.drivers and prior.p0 is inputs.p0
    assert prior.alpha.shape == inputs.alpha.shape and prior.beta.shape == inputs.beta.shape
    np.testing.assert_array_equal(prior_only(inputs, config, seed=8).beta, prior.beta)
    assert not np.array_equal(prior_only(inputs, config, seed=9).beta, prior.beta)
    # draws from the config's priors: intercepts around the sticky mean, effects around the
    # theory-signed means (60 draws: 4.5 standard errors of the mean)
    tol = 4.5 * config.priors.alpha_sd / np.sqrt(60)
    np.testing.assert_allclose(
        prior.alpha.mean(axis=0), alpha_prior_mean(config.priors.stay_logit), atol=tol
    )
    for k, name in enumerate(inputs.driver_names):
        spec = config.priors.beta[name].params
        assert np.abs(prior.beta[:, k].mean(axis=0) - spec["mu"]).max() < 4.5 * spec["sigma"] / 8
    # same seed, same driver paths and uniforms: with the posterior's own parameters put
    # back, the prior-only run reproduces the posterior run exactly
    shocks = scenario_shocks(inputs, scenarios[0]["baseline"], scenarios[1], "2029-01")
    back = replace(prior, alpha=inputs.alpha, beta=inputs.beta)
    np.testing.assert_array_equal(
        simulate_shocks(back, shocks, 40, 2).month_probs,
        simulate_shocks(inputs, shocks, 40, 2).month_probs,
    )
    assert not np.array_equal(
        simulate_shocks(prior, shocks, 40, 2).month_probs,
        simulate_shocks(inputs, shocks, 40, 2).month_probs,
    )


# --------------------------------------------------------------------------- grid files


def write_grid(folder: Path, change=None, text: str | None = None) -> Path:
    raw = yaml.safe_load(GRID.read_text())
    if change:
        change(raw)
    path = folder / "grid.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(raw, sort_keys=False))
    return path


def test_the_example_grid_expands_to_scaled_shocks() -> None:
    grid = load_grid(GRID)
    points = grid.points()
    assert len(points) == 15 and points[0] == {"tariff_shock": 0.0, "taiwan_tension": 0.0}
    assert points[-1] == {"tariff_shock": 2.0, "taiwan_tension": 2.0}
    shocks = grid.point_shocks({"tariff_shock": 2.0, "taiwan_tension": 0.5})
    assert [(s.driver, s.size) for s in shocks] == [("W_US", -2.0), ("W_CN", -1.5), ("INTL", 0.5)]


def test_grid_overrides_replace_values() -> None:
    grid = load_grid(GRID, ["tariff_shock=0,3", "taiwan_tension=1"])
    assert [p["tariff_shock"] for p in grid.points()] == [0.0, 3.0]
    assert {p["taiwan_tension"] for p in grid.points()} == {1.0}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["tarif_shock=1,2"], "--grid tarif_shock: not a parameter of .*tariff_shock, taiwan"),
        (["tariff_shock"], "expected NAME=V1,V2"),
        (["tariff_shock=1,x"], "expected NAME=V1,V2"),
        (["tariff_shock=1,1"], "--grid tariff_shock: .*distinct finite"),
        (["tariff_shock=nan"], "--grid tariff_shock: .*distinct finite"),
        ([f"tariff_shock={','.join(map(str, range(40)))}"], "max_points: the grid has 40 x 3"),
    ],
)
def test_bad_overrides_are_refused(overrides: list[str], message: str) -> None:
    with pytest.raises(GridError, match=message):
        load_grid(GRID, overrides)


def _set(path: str, value):
    def change(raw: dict) -> None:
        *parents, last = path.split(".")
        node = raw
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("max_points", 10), r"grid.yaml: max_points: the grid has 5 x 3 = 15 points"),
        (
            _set("parameters.tariff_shock.shocks.0.driver", "W_EU"),
            r"parameters.tariff_shock.shocks.0.driver: unknown driver 'W_EU'",
        ),
        (
            _set("parameters.taiwan_tension.shocks.0.duration_months", -2),
            r"parameters.taiwan_tension.shocks.0.duration_months: .*greater than 0",
        ),
        (
            _set("parameters.taiwan_tension.shocks.0.driver", "W_US_x_W_CN"),
            r"shocks.0.driver: 'W_US_x_W_CN' is an interaction",
        ),
        (_set("parameters.tariff_shock.values", []), r"parameters.tariff_shock.values: "),
        (_set("parameters", {}), r"grid.yaml: invalid grid\n  parameters: "),
        (_set("n_paths", 0), r"n_paths: .*greater than 0"),
        (_set("shocks", []), r"shocks: Extra inputs are not permitted"),
        (
            _set("parameters.taiwan_tension.shocks.0.start", "2030-01"),
            r"parameters.taiwan_tension.shocks.0.start: 2030-01 is after the horizon 2029-01",
        ),
    ],
)
def test_invalid_grid_files_name_file_and_field(tmp_path: Path, change, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_grid(write_grid(tmp_path, change))


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write_grid(tmp_path, text="description: x\nparameters: [a\n")
    with pytest.raises(ScenarioError, match=r"grid.yaml: line 3 not valid YAML"):
        load_grid(path)


def test_prior_axes_come_from_the_command_line_and_count_refits() -> None:
    grid = load_grid(
        GRID, ["taiwan_tension=0", "priors.stay_logit=3,5", "priors.beta.INTL.sigma=0.15,0.6"]
    )
    assert grid.prior_axes == ("priors.stay_logit", "priors.beta.INTL.sigma")
    assert len(grid.points()) == 5 * 1 * 2 * 2 and grid.refits == 4
    assert grid.settings()[:2] == [
        (("priors.stay_logit", 3.0), ("priors.beta.INTL.sigma", 0.15)),
        (("priors.stay_logit", 3.0), ("priors.beta.INTL.sigma", 0.6)),
    ]
    point = grid.points()[-1]
    assert [s.driver for s in grid.point_shocks(point)] == ["W_US", "W_CN", "INTL"]
    assert load_grid(GRID).refits == 0 and load_grid(GRID).settings() == [()]


def test_driver_path_options_replace_the_files() -> None:
    assert (load_grid(GRID).driver_paths, load_grid(GRID).block_months) == ("ar1", 6)
    grid = load_grid(GRID, driver_paths="bootstrap", block_months=12)
    assert (grid.driver_paths, grid.block_months) == ("bootstrap", 12)
    with pytest.raises(GridError, match=r"driver_paths: expected one of ar1, bootstrap, got 'x'"):
        load_grid(GRID, driver_paths="x")
    with pytest.raises(GridError, match=r"block_months: must be a whole number >= 1, got 0"):
        load_grid(GRID, driver_paths="bootstrap", block_months=0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["priors.stay_logitt=3"], r"--grid priors.stay_logitt: not a prior field; .*stay_logit"),
        (["prior.stay_logit=3"], r"--grid prior.stay_logit: not a parameter .*priors.<field>"),
        (["priors.stay_logit=3,3"], r"--grid priors.stay_logit: .*distinct finite"),
        (
            ["tariff_shock=1", "priors.stay_logit=1,2,3,4", "priors.alpha_sd=0.1,0.2,0.3"],
            r"max_refits: the prior axes \(priors.stay_logit, priors.alpha_sd\) ask for 4 x 3 = "
            r"12 fast refits, more than max_refits 9",
        ),
    ],
)
def test_bad_prior_axes_are_refused_with_their_name(overrides: list[str], message: str) -> None:
    with pytest.raises(GridError, match=message):
        load_grid(GRID, overrides)


SHOCK = {
    "driver": "INTL",
    "size": 1,
    "start": "2027-01",
    "duration_months": 1,
    "why": "a shock on a prior",
}


@pytest.mark.parametrize(
    ("name", "axis", "message"),
    [
        ("priors.stay_logit", {"values": [3, 5]}, None),
        (
            "priors.stay_logit",
            {"values": [3], "shocks": [SHOCK]},
            r"parameters: priors.stay_logit: a prior axis sets a prior value; it has no shocks",
        ),
        ("priors.stay_logitt", {"values": [3]}, r"parameters: priors.stay_logitt: not a prior"),
        ("oil_shock", {"values": [1]}, r"parameters: oil_shock: a scenario parameter needs shocks"),
    ],
)
def test_prior_axes_in_grid_files(
    tmp_path: Path, name: str, axis: dict, message: str | None
) -> None:
    path = write_grid(tmp_path, lambda raw: raw["parameters"].update({name: axis}))
    if message is None:
        assert load_grid(path).refits == 2 and len(load_grid(path).points()) == 30
    else:
        with pytest.raises(ScenarioError, match=message):
            load_grid(path)


def test_an_unknown_driver_path_method_in_a_grid_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"driver_paths: Input should be 'ar1' or 'bootstrap'"):
        load_grid(write_grid(tmp_path, _set("driver_paths", "garch")))


def test_point_seeds_are_fixed_and_distinct() -> None:
    seeds = [point_seed(7, i) for i in range(100)]
    assert seeds == [point_seed(7, i) for i in range(100)]
    assert len(set(seeds)) == 100 and point_seed(8, 0) != seeds[0]
    assert all(0 <= s < 2**63 for s in seeds)
    assert Grid.model_fields["max_points"].default == 100
