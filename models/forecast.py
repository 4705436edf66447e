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

Driver paths (``driver_paths``): ``ar1`` draws Gaussian AR(1) innovations, ``bootstrap`` moving
blocks of the historical ones (:mod:`models.driver_paths` gives the reasons); both keep the
fitted mean reversion and start from the last observed month. The known part of a driver
(the election countdown in ``W_US``, :class:`models.drivers.KnownPart`) is not simulated: the
AR(1) is fitted on the driver without it, and every path gets it back exactly, projected from
the calendar (:meth:`ForecastInputs.known_offsets`), in every scenario and sweep point.

Prior-only forecasts (:func:`prior_only`): the same inputs with each draw's transition
intercepts and driver effects replaced by draws from their priors, and the same seed, so the
driver paths and uniforms are identical and the difference from the posterior forecast is
what the data taught about the dynamics. The starting probabilities stay the fitted ones:
where the relationship stands in the last observed month is read from the data, the question
is how it moves from there.

Sweep grids (:class:`Grid`, read by :func:`load_grid`) are scenario variants: a base scenario
plus parameters whose values scale stated shocks, and optionally prior axes
(``priors.<field>``, :mod:`models.prior_axes`) whose points come from refits of the model;
``flows/sweep.py`` documents the file.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, PositiveInt, ValidationError, field_validator

from models.driver_paths import (
    DEFAULT_BLOCK_MONTHS,
    AR1Drivers,
    DriverLayout,
    DriverPaths,
    base_drivers,
    check_driver_paths,
    fit_ar1,
)
from models.drivers import KnownPart
from models.prior_axes import Setting, check_prior_name, is_prior_axis, setting_of
from models.scenarios import (
    KNOWN_DRIVERS,
    Calendar,
    Scenario,
    ScenarioError,
    Shock,
    load_validated,
    shock_matrix,
)
from models.simulate import peak_bytes, simulate
from models.simulation_result import SimulationResult
from models.strict import StrictModel

if TYPE_CHECKING:
    from models.config import ModelConfig
    from models.fitted import FittedModel

DEFAULT_HORIZON = "2029-01"  # the month after the second Trump term ends (20 January 2029)
# Two years past the term: the calendar knows no events after it, and AR(1) driver paths that
# far out are their long-run means, so a later horizon only costs time and memory.
LATEST_HORIZON = "2031-01"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ForecastInputs:
    """What every scenario run shares: per-draw parameters, start probabilities, drivers."""

    alpha: np.ndarray  # (D, 3, 2) transition intercepts into SE and MC
    beta: np.ndarray  # (D, K, 2) driver effects, K = len(driver_names)
    p0: np.ndarray  # (D, 3) filtered probabilities of the origin month
    driver_names: tuple[str, ...]
    drivers: AR1Drivers  # fitted on the base drivers' history without their known parts
    origin: np.datetime64  # the last observed month (datetime64[M])
    known: tuple[KnownPart, ...] = ()  # parts of base drivers projected from the calendar

    @property
    def n_draws(self) -> int:
        return int(self.alpha.shape[0])

    def months_to(self, horizon: str) -> np.ndarray:
        """The forecast months origin + 1 .. ``horizon`` (datetime64[M])."""
        check_horizon(horizon)
        steps = int((np.datetime64(horizon, "M") - self.origin).astype(int))
        if steps < 1:
            raise ValueError(
                f"horizon: {horizon} is not after the last observed month {self.origin}"
            )
        return self.origin + np.arange(1, steps + 1)

    def known_offsets(self, steps: int) -> np.ndarray:
        """(steps, K_base) the known parts of the base drivers in months 1..steps."""
        months = self.origin + np.arange(1, steps + 1)
        out = np.zeros((steps, len(self.drivers.names)))
        for part in self.known:
            out[:, self.drivers.names.index(part.driver)] += part.project(months)
        return out


def check_horizon(horizon: str) -> None:
    """Refuse a horizon that is not a month as YYYY-MM or is after :data:`LATEST_HORIZON`,
    before anything is loaded or simulated."""
    if not isinstance(horizon, str) or not _MONTH.match(horizon):
        raise ValueError(f"horizon: expected a month as YYYY-MM, got {horizon!r}")
    if horizon > LATEST_HORIZON:
        raise ValueError(
            f"horizon: {horizon} is after {LATEST_HORIZON}, the latest month forecast (the term "
            f"ends in {DEFAULT_HORIZON}; later months would be the drivers' long-run means)"
        )


class MemoryBudgetError(ValueError):
    """A simulation that would need more memory than allowed; says how much it would need."""


def check_memory(
    inputs: ForecastInputs,
    horizon: str,
    n_paths: int,
    budget_bytes: int,
    *,
    concurrent: int = 1,
    n_draws: int | None = None,
    setting: str = "the memory budget",
) -> int:
    """The bytes ``concurrent`` simulations of ``n_paths`` paths to ``horizon`` would need at
    their peak (:func:`models.simulate.peak_bytes`); more than ``budget_bytes`` is refused
    before any array is allocated, naming the need, the budget and ``setting``. ``n_draws``
    replaces the inputs' draws (for simulations from posteriors not yet drawn)."""
    steps = len(inputs.months_to(horizon))
    layout = DriverLayout.build(inputs.drivers.names, inputs.driver_names)
    draws = inputs.n_draws if n_draws is None else n_draws
    one = peak_bytes(draws, n_paths, steps, len(inputs.drivers.names), layout.n_rows)
    need = concurrent * one
    if need > budget_bytes:
        runs = f"{concurrent} simulations at once of " if concurrent > 1 else ""
        raise MemoryBudgetError(
            f"memory: {runs}{n_paths:,} paths x {draws} draws x {steps} months would "
            f"need about {byte_size(need)}, more than the budget of {byte_size(budget_bytes)} "
            f"({setting}); use fewer paths"
        )
    return need


def byte_size(n_bytes: float) -> str:
    """'3,412 bytes', '4.0 GB', '422.1 TB': binary units, one decimal."""
    if n_bytes < 1024:
        return f"{n_bytes:,.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        n_bytes /= 1024
        if n_bytes < 1024:
            return f"{n_bytes:,.1f} {unit}"
    return f"{n_bytes / 1024:,.1f} TB"


def forecast_inputs(
    model: FittedModel,
    max_draws: int | None = 1000,
    driver_paths: DriverPaths = "ar1",
    block_months: int = DEFAULT_BLOCK_MONTHS,
    known: tuple[KnownPart, ...] = (),
) -> ForecastInputs:
    """The simulator's inputs from a fitted model (at most ``max_draws`` of its draws);
    ``driver_paths`` and ``block_months`` choose how future driver innovations are drawn;
    ``known`` (from :func:`models.drivers.model_data`) are the parts projected exactly."""
    # Imported here: sweep workers import this module to simulate, and the model's modules
    # bring PyMC (~5 s and ~150 MB per process) that simulating never needs.
    from models.states import state_probabilities

    kept = model.thinned(max_draws)
    thinned = kept.posterior
    used = model.data
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
    probs = state_probabilities(kept, max_draws=None)
    history = used.drivers[:, [used.driver_names.index(name) for name in base]]
    known_history = np.zeros_like(history)
    for part in known:
        if part.last_month != used.months[-1] or part.history.shape[0] < history.shape[0]:
            raise ValueError(
                f"known: {part.driver}'s {part.column} ends {part.last_month}, the data "
                f"{used.months[-1]}; build both from the same panel"
            )
        known_history[:, base.index(part.driver)] += part.history[-history.shape[0] :]
    drivers = fit_ar1(history - known_history, base, driver_paths, block_months)
    return ForecastInputs(
        alpha=thinned["alpha"].transpose("chain", "draw", "origin", "dest").values[0],
        beta=thinned["beta"].transpose("chain", "draw", "driver", "dest").values[0],
        p0=probs.filtered[:, -1],
        driver_names=used.driver_names,
        drivers=replace(drivers, known_last=known_history[-1]),
        origin=used.months[-1],
        known=tuple(known),
    )


def prior_only(inputs: ForecastInputs, config: ModelConfig, seed: int) -> ForecastInputs:
    """``inputs`` with every draw's ``alpha`` and ``beta`` drawn from the config's priors
    (module docstring); ``seed`` makes the prior draws reproducible."""
    from models.hmm import prior_transition_draws

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9E10]))
    alpha, beta = prior_transition_draws(config, inputs.driver_names, inputs.n_draws, rng)
    return replace(inputs, alpha=alpha, beta=beta)


def scenario_shocks(
    inputs: ForecastInputs, scenario: Scenario, calendar: Calendar, horizon: str
) -> np.ndarray:
    """(H, K_base) offsets of the calendar's and the scenario's shocks in the forecast months."""
    return shock_matrix(scenario, calendar, inputs.months_to(horizon), inputs.drivers.names)


def simulate_shocks(
    inputs: ForecastInputs, shocks: np.ndarray, n_paths: int, seed: int
) -> SimulationResult:
    """One Monte Carlo run: ``n_paths`` paths per posterior draw under ``shocks`` (H, K_base),
    with the drivers' known parts added exactly."""
    return simulate(
        inputs.alpha,
        inputs.beta,
        inputs.p0,
        inputs.driver_names,
        inputs.drivers,
        shocks + inputs.known_offsets(shocks.shape[0]),
        horizon=shocks.shape[0],
        n_paths=n_paths,
        seed=seed,
        origin=inputs.origin,
    )


def forecast(
    model: FittedModel,
    scenarios: Sequence[Scenario],
    calendar: Calendar,
    horizon: str = DEFAULT_HORIZON,
    n_paths: int = 1000,
    seed: int = 0,
    max_draws: int | None = 1000,
    driver_paths: DriverPaths = "ar1",
    block_months: int = DEFAULT_BLOCK_MONTHS,
    known: tuple[KnownPart, ...] = (),
) -> dict[str, SimulationResult]:
    """Every scenario's simulation to ``horizon``; ``n_paths`` is paths per posterior draw."""
    inputs = forecast_inputs(model, max_draws, driver_paths, block_months, known)
    return {
        s.name: simulate_shocks(
            inputs, scenario_shocks(inputs, s, calendar, horizon), n_paths, seed
        )
        for s in scenarios
    }


# --------------------------------------------------------------------------- sweep grids


class GridError(ScenarioError):
    """A grid file or ``--grid`` value that cannot be used; names the file and the field."""


DEFAULT_MAX_REFITS = 9  # a 3 x 3 prior grid: ~2.5 min of fast refits (~17 s each, 2 cores)
# The most a grid file may set ``max_points`` and ``max_refits`` to: a file is data, and data
# alone must not commit the machine to hours of work (10^6 points ran for minutes at 1.6 GB
# before failing). The command line's --max-points / --max-refits lift them deliberately.
CEILING_POINTS = 1_000
CEILING_REFITS = 25  # about 7 minutes of fast refits


class Parameter(StrictModel):
    """One grid axis: a scenario parameter (``shocks`` scaled by each value) or a prior axis
    (named ``priors.<field>``, no shocks: each value replaces that prior number)."""

    values: tuple[float, ...] = Field(min_length=1)
    shocks: tuple[Shock, ...] = Field((), description="size = offset per unit value")

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
    max_refits: PositiveInt = DEFAULT_MAX_REFITS  # distinct prior settings, one refit each
    driver_paths: DriverPaths = "ar1"
    block_months: PositiveInt = DEFAULT_BLOCK_MONTHS  # bootstrap block length
    parameters: dict[str, Parameter] = Field(min_length=1)

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, horizon: str) -> str:
        try:
            check_horizon(horizon)
        except ValueError as exc:  # pydantic names the field itself
            raise ValueError(str(exc).removeprefix("horizon: ")) from None
        return horizon

    @field_validator("parameters")
    @classmethod
    def _names(cls, parameters: dict[str, Parameter]) -> dict[str, Parameter]:
        for name, parameter in parameters.items():
            if is_prior_axis(name):
                check_prior_name(name)
                if parameter.shocks:
                    raise ValueError(f"{name}: a prior axis sets a prior value; it has no shocks")
            elif not name.isidentifier():
                raise ValueError(
                    f"{name!r}: a parameter name is letters, digits and _ "
                    "(or priors.<field> for a prior axis)"
                )
            elif not parameter.shocks:
                raise ValueError(f"{name}: a scenario parameter needs shocks")
        return parameters

    @property
    def prior_axes(self) -> tuple[str, ...]:
        return tuple(name for name in self.parameters if is_prior_axis(name))

    @property
    def refits(self) -> int:
        """Distinct prior settings, each one refit (0 without prior axes)."""
        axes = self.prior_axes
        return math.prod(len(self.parameters[n].values) for n in axes) if axes else 0

    def points(self) -> list[dict[str, float]]:
        """Every combination of values; the first parameter varies slowest."""
        names = list(self.parameters)
        values = [self.parameters[n].values for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]

    def settings(self) -> list[Setting]:
        """The distinct prior settings of the points, in first-seen order (``[()]`` if none)."""
        return list(dict.fromkeys(setting_of(point) for point in self.points()))

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


def load_grid(
    path: Path,
    overrides: list[str] | None = None,
    driver_paths: str | None = None,
    block_months: int | None = None,
    max_points: int | None = None,
    max_refits: int | None = None,
) -> Grid:
    """The validated grid file with ``--grid`` values (which may add prior axes) and the
    driver-path options applied; refuses grids with more points or refits than allowed.

    The file's ``max_points`` and ``max_refits`` may not exceed :data:`CEILING_POINTS` and
    :data:`CEILING_REFITS`; ``max_points`` / ``max_refits`` (the command line's) replace the
    file's limits and its ceilings."""
    path = Path(path)
    grid = load_validated(Grid, path, KNOWN_DRIVERS)
    grid = _apply_limits(grid, path, max_points, max_refits)
    parameters = dict(grid.parameters)
    for name, values in parse_overrides(overrides or []).items():
        if name not in parameters and not is_prior_axis(name):
            raise GridError(
                f"--grid {name}: not a parameter of {path} (parameters: {', '.join(parameters)}; "
                "a prior axis is named priors.<field>, e.g. priors.stay_logit)"
            )
        try:
            if is_prior_axis(name):
                check_prior_name(name)
            shocks = parameters[name].shocks if name in parameters else ()
            parameters[name] = Parameter(values=values, shocks=shocks)
        except ValidationError as exc:
            raise GridError(f"--grid {name}: {exc.errors()[0]['msg']}") from None
        except ValueError as exc:
            raise GridError(f"--grid {exc}") from None
    chosen_paths = driver_paths or grid.driver_paths
    chosen_block = grid.block_months if block_months is None else block_months
    try:
        check_driver_paths(chosen_paths, chosen_block)
    except ValueError as exc:
        raise GridError(f"{path}: {exc} (--driver-paths, --block-months)") from None
    update = {"parameters": parameters, "driver_paths": chosen_paths, "block_months": chosen_block}
    grid = grid.model_copy(update=update)
    sizes = [len(p.values) for p in parameters.values()]
    if math.prod(sizes) > grid.max_points:
        raise GridError(
            f"{path}: max_points: the grid has {' x '.join(map(str, sizes))} = "
            f"{math.prod(sizes)} points, more than max_points {grid.max_points}"
        )
    if grid.refits > grid.max_refits:
        refit_sizes = " x ".join(str(len(parameters[n].values)) for n in grid.prior_axes)
        raise GridError(
            f"{path}: max_refits: the prior axes ({', '.join(grid.prior_axes)}) ask for "
            f"{refit_sizes} = {grid.refits} fast refits, more than max_refits {grid.max_refits}"
        )
    for name, parameter in parameters.items():
        for i, shock in enumerate(parameter.shocks):
            if shock.start > grid.horizon:
                raise GridError(
                    f"{path}: parameters.{name}.shocks.{i}.start: {shock.start} is after the "
                    f"horizon {grid.horizon}, so the shock would change nothing"
                )
    return grid


def _apply_limits(grid: Grid, path: Path, max_points: int | None, max_refits: int | None) -> Grid:
    """The grid with the command line's limits, or its own if they are within the ceilings."""
    limits = (
        ("max_points", "--max-points", max_points, CEILING_POINTS),
        ("max_refits", "--max-refits", max_refits, CEILING_REFITS),
    )
    update = {}
    for field, flag, given, ceiling in limits:
        if given is not None:
            if given < 1:
                raise GridError(f"{flag}: expected a number above 0, got {given}")
            update[field] = given
        elif getattr(grid, field) > ceiling:
            asked = getattr(grid, field)
            raise GridError(
                f"{path}: {field}: {asked:,} is above {ceiling:,}, the most a grid file may "
                f"set; pass {flag} {asked} to allow it"
            )
    return grid.model_copy(update=update)


def point_seed(seed: int, point_id: int) -> int:
    """A seed for one grid point from the sweep seed and the point's index (63 bits)."""
    state = np.random.SeedSequence([seed, point_id]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))
