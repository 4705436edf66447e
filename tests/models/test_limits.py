"""What a forecast or a sweep may ask for: the memory a simulation would need is known (and
checked) before any array is allocated, the horizon is bounded, and a grid file cannot lift
its own limits above their ceilings.

The posterior is the SYNTHETIC one of ``test_forecast.py`` (no sampling)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from models.driver_paths import DriverLayout, fit_ar1
from models.fitted import FittedModel
from models.forecast import (
    CEILING_POINTS,
    LATEST_HORIZON,
    GridError,
    MemoryBudgetError,
    byte_size,
    check_horizon,
    check_memory,
    forecast_inputs,
    load_grid,
)
from models.scenarios import ScenarioError
from models.simulate import peak_bytes, simulate
from tests.models.test_forecast import _set, synthetic, write_grid  # noqa: F401 (fixture)

DRIVERS = ("W_US", "W_CN", "W_US_x_W_CN", "INTL")
BASE = ("W_US", "W_CN", "INTL")


@pytest.mark.parametrize("method", ["ar1", "bootstrap"])
def test_the_estimate_covers_what_simulate_allocates(method: str) -> None:
    """The estimate is checked against NumPy's own allocations (traced): never below them,
    and not so far above that a reasonable run would be refused."""
    rng = np.random.default_rng(0)
    drivers = fit_ar1(rng.standard_normal((200, 3)).cumsum(0) * 0.1, BASE, method)
    draws, n_paths, horizon = 3, 40_000, 31
    alpha, beta = np.zeros((draws, 3, 2)), np.zeros((draws, 4, 2))
    p0 = np.full((draws, 3), 1 / 3)
    tracemalloc.start()
    try:
        simulate(alpha, beta, p0, DRIVERS, drivers, None, horizon, n_paths, seed=0)
        _, traced = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows = DriverLayout.build(BASE, DRIVERS).n_rows
    estimate = peak_bytes(draws, n_paths, horizon, len(BASE), rows)
    assert traced <= estimate <= 1.6 * traced, (traced, estimate)


def test_a_huge_number_of_paths_is_refused_with_what_it_would_need(synthetic) -> None:  # noqa: F811
    data, config, posterior = synthetic
    inputs = forecast_inputs(FittedModel.of(posterior, data, config), max_draws=60)
    with pytest.raises(MemoryBudgetError) as caught:
        check_memory(inputs, "2029-01", 10**12, 4 * 2**30, setting="WINSET_MEMORY_MB")
    message = str(caught.value)
    assert message.startswith("memory: 1,000,000,000,000 paths x 60 draws x 29 months would need")
    assert " TB, more than the budget of 4.0 GB (WINSET_MEMORY_MB); use fewer paths" in message
    need = check_memory(inputs, "2029-01", 1000, 4 * 2**30, concurrent=7)
    assert 0 < need < 4 * 2**30
    with pytest.raises(MemoryBudgetError, match=r"^memory: 7 simulations at once of 1,000 paths"):
        check_memory(inputs, "2029-01", 1000, need - 1, concurrent=7)


def test_byte_sizes_read_in_binary_units() -> None:
    assert [byte_size(n) for n in (512, 2048, 3 * 2**20, 4 * 2**30, 422 * 2**40)] == [
        "512 bytes", "2.0 KB", "3.0 MB", "4.0 GB", "422.0 TB",
    ]  # fmt: skip


def test_the_horizon_is_bounded() -> None:
    check_horizon(LATEST_HORIZON)
    with pytest.raises(ValueError, match=r"^horizon: 2100-01 is after 2031-01, the latest month"):
        check_horizon("2100-01")


def test_a_grid_file_cannot_lift_max_points_above_the_ceiling(tmp_path: Path) -> None:
    path = write_grid(tmp_path, _set("max_points", 10**6))
    with pytest.raises(GridError) as caught:
        load_grid(path)
    assert str(caught.value) == (
        f"{path}: max_points: 1,000,000 is above {CEILING_POINTS:,}, the most a grid file may "
        "set; pass --max-points 1000000 to allow it"
    )
    assert load_grid(path, max_points=10**6).max_points == 10**6  # the flag lifts it
    assert load_grid(write_grid(tmp_path, _set("max_points", CEILING_POINTS))).max_points == 1000


def test_the_command_line_limit_replaces_the_files(tmp_path: Path) -> None:
    path = write_grid(tmp_path)  # 5 x 3 points
    with pytest.raises(GridError, match=r"the grid has 5 x 3 = 15 points, more than max_points 4"):
        load_grid(path, max_points=4)
    with pytest.raises(GridError, match=r"max_refits: 30 is above 25.*--max-refits 30"):
        load_grid(write_grid(tmp_path, _set("max_refits", 30)))


def test_a_grid_file_horizon_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"\n  horizon: 2100-01 is after 2031-01, the latest"):
        load_grid(write_grid(tmp_path, _set("horizon", "2100-01")))
