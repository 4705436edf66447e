"""Driver attribution of a scenario's move: a one-driver scenario's move is all that driver's,
the parts always sum to the total, the overlap effect shows up as the interaction remainder, and
runs the forecast already made are reused. Small simulations (2 draws, a 12-month horizon)."""

from __future__ import annotations

import numpy as np
import pytest

from models.attribution import INTERACTION, TOTAL, attribute, scenario_attribution, shock_key
from models.forecast import ForecastInputs, simulate_shocks
from tests.models.test_simulate import ALPHA, BASE, MODEL, P0, drivers

HORIZON, PATHS, SEED = 12, 2_000, 7


def inputs(beta_row=(0.5, 0.5, 0.0, -0.5)) -> ForecastInputs:
    """Two draws with the given effects of W_US, W_CN, their product and INTL on SE and MC."""
    beta = np.repeat(np.repeat(np.array(beta_row)[None, :, None], 2, axis=2), 2, axis=0)
    return ForecastInputs(ALPHA[:2], beta, P0[:2], MODEL, drivers(), np.datetime64("2026-08", "M"))


def shocks(**sizes: float) -> np.ndarray:
    out = np.zeros((HORIZON, len(BASE)))
    for driver, size in sizes.items():
        out[:, BASE.index(driver)] = size
    return out


CALENDAR = shocks(W_US=0.3)  # the baseline has the calendar's shocks too


def test_a_one_driver_scenario_moves_only_through_that_driver() -> None:
    model = inputs()
    scenario = CALENDAR + shocks(INTL=2.0)
    result = scenario_attribution(model, scenario, CALENDAR, PATHS, SEED)
    moved = result.total.mean(axis=0)
    assert moved[0] > 0.05  # tension pushes towards decoupling: a real move to attribute
    parts = dict(zip(result.names, result.parts.transpose(1, 0, 2), strict=True))
    np.testing.assert_allclose(parts["INTL"], result.total, atol=1e-12)
    for other in ("W_US", "W_CN", INTERACTION):
        np.testing.assert_allclose(parts[other], 0.0, atol=1e-12)


def test_parts_sum_to_the_total_and_each_is_its_own_switched_run() -> None:
    model = inputs()
    scenario = CALENDAR + shocks(W_US=1.5, W_CN=-2.0)
    result = scenario_attribution(model, scenario, CALENDAR, PATHS, SEED)
    np.testing.assert_allclose(result.parts.sum(axis=1), result.total, atol=1e-12)
    base = simulate_shocks(model, CALENDAR, PATHS, SEED).horizon_probs
    full = simulate_shocks(model, scenario, PATHS, SEED).horizon_probs
    np.testing.assert_allclose(result.total, full - base)
    only_cn = CALENDAR + shocks(W_CN=-2.0)  # W_US held at the baseline's (calendar) shocks
    alone = simulate_shocks(model, only_cn, PATHS, SEED).horizon_probs - base
    np.testing.assert_allclose(result.parts[:, BASE.index("W_CN")], alone)
    assert abs(result.parts[:, BASE.index("W_US")].mean(axis=0)[0]) > 0.01
    assert abs(alone.mean(axis=0)[0]) > 0.01


def test_an_overlap_effect_is_shared_by_both_win_sets() -> None:
    """Only the overlap acts. It rises with either win-set (4 logistic(W_US) logistic(W_CN) - 1,
    models/drivers.py), so each widening alone moves toward managed competition, and the
    parts with the remainder sum to the total."""
    model = inputs(beta_row=(0.0, 0.0, 1.0, 0.0))
    result = scenario_attribution(model, shocks(W_US=2.0, W_CN=2.0), shocks(), PATHS, SEED)
    mean = dict(zip(result.names, result.parts.mean(axis=0), strict=True))
    total = result.total.mean(axis=0)
    assert total[2] > 0.1  # a wide overlap favours managed competition
    assert mean["W_US"][2] > 0.2 * total[2] and mean["W_CN"][2] > 0.2 * total[2]
    assert abs(mean["INTL"][2]) < 1e-12
    np.testing.assert_allclose(result.parts.sum(axis=1), result.total, atol=1e-12)


def test_runs_the_forecast_made_are_reused() -> None:
    calls: list[bytes] = []

    def run(matrix: np.ndarray) -> np.ndarray:
        calls.append(shock_key(matrix))
        return np.full((2, 3), matrix.sum())

    scenario = shocks(W_US=1.0, W_CN=1.0)
    known = {shock_key(scenario): run(scenario), shock_key(CALENDAR): run(CALENDAR)}
    calls.clear()
    attribute(run, scenario, CALENDAR, BASE, known)
    # W_US switched equals neither known run; W_CN's does not either; INTL's is the baseline
    assert len(calls) == 2 and shock_key(CALENDAR) not in calls


def test_the_frame_has_every_part_and_the_total() -> None:
    result = scenario_attribution(
        inputs(), shocks(W_US=1.0, INTL=1.0), shocks(), n_paths=500, seed=1
    )
    frame = result.to_frame()
    assert frame.columns == ["part", "pathway", "mean", "q05", "q95"]
    assert frame["part"].unique(maintain_order=True).to_list() == [*BASE, INTERACTION, TOTAL]
    for pathway in ("DC", "SE", "MC"):
        rows = frame.filter(frame["pathway"] == pathway)
        parts = rows.filter(rows["part"] != TOTAL)["mean"].sum()
        assert parts == pytest.approx(rows.filter(rows["part"] == TOTAL)["mean"][0], abs=1e-12)
    # each draw's probabilities sum to one, so each part's changes sum to zero over pathways
    np.testing.assert_allclose(result.parts.sum(axis=2), 0.0, atol=1e-12)


def test_mismatched_shock_matrices_are_refused() -> None:
    with pytest.raises(ValueError, match=r"shocks: scenario \(12, 3\) and baseline \(11, 3\)"):
        attribute(lambda s: np.zeros((2, 3)), shocks(), shocks()[:11], BASE)
