"""From a fitted posterior to scenario forecasts: the simulator's inputs, then one Monte Carlo
run per scenario (pure: no Prefect, no DuckDB).

Why the inputs are built once and shared: the filtered probabilities of the last observed
month (the starting point of every path) cost a forward pass over the whole history for each
posterior draw, while a scenario run only changes the driver shocks. So
:func:`forecast_inputs` thins the posterior to at most ``max_draws`` evenly spaced draws, runs
:func:`models.states.state_probabilities` on exactly those draws (so ``alpha``, ``beta`` and
``p0`` of draw ``d`` belong together), and fits the AR(1) driver process on the history the
model was fitted on; :func:`simulate_scenario` then costs one call of
:func:`models.simulate.simulate`.

Every scenario of one forecast uses the same seed (common random numbers): paths differ
between scenarios only through their shocks, so a scenario's difference from the baseline is
the shocks' effect and not Monte Carlo noise.

Sweep grids (:class:`Grid`, read by :func:`load_grid`) are scenario variants: a base scenario
plus parameters whose values scale stated shocks; ``flows/sweep.py`` documents the file.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, PositiveInt, ValidationError, field_validator

from models.driver_paths import AR1Drivers, base_drivers, fit_ar1
from models.scenarios import (
    KNOWN_DRIVERS,
    Calendar,
    Scenario,
    ScenarioError,
    Shock,
    StrictModel,
    load_validated,
    shock_matrix,
)
from models.simulate import simulate
from models.simulation_result import SimulationResult

if TYPE_CHECKING:
    import xarray as xr

    from models.config import ModelConfig
    from models.data import ModelData

DEFAULT_HORIZON = "2029-01"  # the month after the second Trump term ends (20 January 2029)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Posterior variables the transition and emission formulas need (confusion only with labels).
_VARIABLES = ("alpha", "beta", "mu", "sigma", "confusion")


@dataclass(frozen=True)
class ForecastInputs:
    """What every scenario run shares: per-draw parameters, start probabilities, drivers."""

    alpha: np.ndarray  # (D, 3, 2) transition intercepts into SE and MC
    beta: np.ndarray  # (D, K, 2) driver effects, K = len(driver_names)
    p0: np.ndarray  # (D, 3) filtered probabilities of the origin month
    driver_names: tuple[str, ...]
    drivers: AR1Drivers  # fitted on the base drivers' history
    origin: np.datetime64  # the last observed month (datetime64[M])

    @property
    def n_draws(self) -> int:
        return int(self.alpha.shape[0])

    def months_to(self, horizon: str) -> np.ndarray:
        """The forecast months origin + 1 .. ``horizon`` (datetime64[M])."""
        if not isinstance(horizon, str) or not _MONTH.match(horizon):
            raise ValueError(f"horizon: expected a month as YYYY-MM, got {horizon!r}")
        steps = int((np.datetime64(horizon, "M") - self.origin).astype(int))
        if steps < 1:
            raise ValueError(
                f"horizon: {horizon} is not after the last observed month {self.origin}"
            )
        return self.origin + np.arange(1, steps + 1)


def thin_posterior(posterior: xr.Dataset, max_draws: int | None) -> xr.Dataset:
    """At most ``max_draws`` evenly spaced draws over all chains, as one chain."""
    import xarray as xr

    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    count = n_draws if max_draws is None else min(n_draws, max_draws)
    if count < 1:
        raise ValueError(f"max_draws: must be >= 1, got {max_draws}")
    keep = np.unique(np.linspace(0, n_draws - 1, count).round().astype(int))
    variables = {}
    for name in _VARIABLES:
        if name in posterior:
            var = posterior[name].transpose("chain", "draw", ...)
            values = var.values.reshape(-1, *var.shape[2:])[keep][None]
            variables[name] = (var.dims, values, {})
    coords = {d: posterior.coords[d] for d in posterior.coords if d not in ("chain", "draw")}
    return xr.Dataset(variables, coords=coords)


def forecast_inputs(
    posterior: xr.DataTree | xr.Dataset,
    data: ModelData,
    config: ModelConfig,
    max_draws: int | None = 1000,
) -> ForecastInputs:
    """The simulator's inputs from a posterior, the data it was fitted on, and its config."""
    # Imported here: sweep workers import this module to simulate, and the model's modules
    # bring PyMC (~5 s and ~150 MB per process) that simulating never needs.
    import xarray as xr

    from models.fit import fitted_data
    from models.states import state_probabilities

    if isinstance(posterior, xr.DataTree):
        posterior = posterior["posterior"].to_dataset()
    thinned = thin_posterior(posterior, max_draws)
    used = fitted_data(data, config)
    base = base_drivers(used.driver_names)
    missing = [name for name in base if name not in used.driver_names]
    if missing:
        raise ValueError(
            f"drivers: the forecast simulates {missing} (parts of interactions), which the "
            f"model does not have as drivers of their own; add them to the config's drivers"
        )
    fitted = tuple(thinned["beta"].coords["driver"].values) if "beta" in thinned else ()
    if not fitted or fitted != used.driver_names:
        raise ValueError(
            f"posterior: has driver effects for {list(fitted)}, not for the config's drivers "
            f"{list(used.driver_names)}"
        )
    probs = state_probabilities(thinned, used, config, max_draws=None)
    history = used.drivers[:, [used.driver_names.index(name) for name in base]]
    return ForecastInputs(
        alpha=thinned["alpha"].transpose("chain", "draw", "origin", "dest").values[0],
        beta=thinned["beta"].transpose("chain", "draw", "driver", "dest").values[0],
        p0=probs.filtered[:, -1],
        driver_names=used.driver_names,
        drivers=fit_ar1(history, base),
        origin=used.months[-1],
    )


def scenario_shocks(
    inputs: ForecastInputs, scenario: Scenario, calendar: Calendar, horizon: str
) -> np.ndarray:
    """(H, K_base) offsets of the calendar's and the scenario's shocks in the forecast months."""
    return shock_matrix(scenario, calendar, inputs.months_to(horizon), inputs.drivers.names)


def simulate_shocks(
    inputs: ForecastInputs, shocks: np.ndarray, n_paths: int, seed: int
) -> SimulationResult:
    """One Monte Carlo run: ``n_paths`` paths per posterior draw under ``shocks`` (H, K_base)."""
    return simulate(
        inputs.alpha,
        inputs.beta,
        inputs.p0,
        inputs.driver_names,
        inputs.drivers,
        shocks,
        horizon=shocks.shape[0],
        n_paths=n_paths,
        seed=seed,
        origin=inputs.origin,
    )


def forecast(
    posterior: xr.DataTree | xr.Dataset,
    data: ModelData,
    config: ModelConfig,
    scenarios: Sequence[Scenario],
    calendar: Calendar,
    horizon: str = DEFAULT_HORIZON,
    n_paths: int = 1000,
    seed: int = 0,
    max_draws: int | None = 1000,
) -> dict[str, SimulationResult]:
    """Every scenario's simulation to ``horizon``; ``n_paths`` is paths per posterior draw."""
    inputs = forecast_inputs(posterior, data, config, max_draws)
    return {
        s.name: simulate_shocks(
            inputs, scenario_shocks(inputs, s, calendar, horizon), n_paths, seed
        )
        for s in scenarios
    }


# --------------------------------------------------------------------------- sweep grids


class GridError(ScenarioError):
    """A grid file or ``--grid`` value that cannot be used; names the file and the field."""


class Parameter(StrictModel):
    values: tuple[float, ...] = Field(min_length=1)
    shocks: tuple[Shock, ...] = Field(min_length=1, description="size = offset per unit value")

    @field_validator("values")
    @classmethod
    def _distinct(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if not all(math.isfinite(v) for v in values) or len(set(values)) != len(values):
            raise ValueError(f"expected distinct finite numbers, got {list(values)}")
        return values


class Grid(StrictModel):
    description: str = Field(min_length=10, description="what the sweep asks, in words")
    base_scenario: str = "baseline"
    n_paths: PositiveInt = 1000  # per posterior draw
    seed: int = Field(0, ge=0)
    horizon: str = Field(DEFAULT_HORIZON, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    max_draws: PositiveInt = 200
    max_points: PositiveInt = 100
    parameters: dict[str, Parameter] = Field(min_length=1)

    @field_validator("parameters")
    @classmethod
    def _names(cls, parameters: dict[str, Parameter]) -> dict[str, Parameter]:
        for name in parameters:
            if not name.isidentifier():
                raise ValueError(f"{name!r}: a parameter name is letters, digits and _")
        return parameters

    def points(self) -> list[dict[str, float]]:
        """Every combination of values; the first parameter varies slowest."""
        names = list(self.parameters)
        values = [self.parameters[n].values for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]

    def point_shocks(self, point: dict[str, float]) -> tuple[Shock, ...]:
        return tuple(
            shock.model_copy(update={"size": shock.size * value})
            for name, value in point.items()
            for shock in self.parameters[name].shocks
        )


def parse_overrides(overrides: list[str]) -> dict[str, tuple[float, ...]]:
    """``["NAME=V1,V2", ...]`` -> {NAME: (V1, V2)}; a malformed value names itself."""
    parsed = {}
    for text in overrides:
        name, sep, values = text.partition("=")
        try:
            numbers = tuple(float(v) for v in values.split(","))
        except ValueError:
            numbers = ()
        if not sep or not name.strip() or not numbers:
            raise GridError(f"--grid {text!r}: expected NAME=V1,V2,... with numbers")
        parsed[name.strip()] = numbers
    return parsed


def load_grid(path: Path, overrides: list[str] | None = None) -> Grid:
    """The validated grid file with ``--grid`` values applied; refuses oversize grids."""
    path = Path(path)
    grid = load_validated(Grid, path, KNOWN_DRIVERS)
    parameters = dict(grid.parameters)
    for name, values in parse_overrides(overrides or []).items():
        if name not in parameters:
            raise GridError(
                f"--grid {name}: not a parameter of {path} (parameters: {', '.join(parameters)})"
            )
        try:
            parameters[name] = Parameter(values=values, shocks=parameters[name].shocks)
        except ValidationError as exc:
            raise GridError(f"--grid {name}: {exc.errors()[0]['msg']}") from None
    grid = grid.model_copy(update={"parameters": parameters})
    sizes = [len(p.values) for p in parameters.values()]
    if math.prod(sizes) > grid.max_points:
        raise GridError(
            f"{path}: max_points: the grid has {' x '.join(map(str, sizes))} = "
            f"{math.prod(sizes)} points, more than max_points {grid.max_points}"
        )
    for name, parameter in parameters.items():
        for i, shock in enumerate(parameter.shocks):
            if shock.start > grid.horizon:
                raise GridError(
                    f"{path}: parameters.{name}.shocks.{i}.start: {shock.start} is after the "
                    f"horizon {grid.horizon}, so the shock would change nothing"
                )
    return grid


def point_seed(seed: int, point_id: int) -> int:
    """A seed for one grid point from the sweep seed and the point's index (63 bits)."""
    state = np.random.SeedSequence([seed, point_id]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))
