"""Which driver moved a scenario: its change from the baseline in P(pathway at the horizon),
split by driver (pure: no Prefect, no DuckDB).

A scenario differs from the baseline only through its shocks, an (H, K) matrix over the base
drivers (``W_US``, ``W_CN``, ``INTL``). For each driver ``k`` the scenario is re-simulated
with column ``k`` switched to the scenario's shocks and every other column held at the
baseline's; driver ``k``'s part is that run's change from the baseline. The interaction
remainder is the total change minus the drivers' parts, so the parts always sum to the total:
it is what the drivers do only together (the win-set overlap ``W_US x W_CN`` is recomputed
from its shocked parts, and the transition logits are not additive in probability).

Why one seed for every run (common random numbers): each switched run then has exactly the
baseline's innovations and uniforms, so its difference from the baseline is the switched
shocks' effect and not Monte Carlo noise. A driver the scenario does not shift has a switched
matrix equal to the baseline's and a part of exactly zero; a scenario that shifts one driver
gives that driver its whole move and a zero remainder. Runs are computed per posterior draw,
so each part carries the spread of its change across draws.

Cost: one simulation per driver the scenario shifts (a switched matrix equal to the baseline's
or the scenario's reuses that run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from models.data import STATES
from models.forecast import ForecastInputs, simulate_shocks

INTERACTION = "interaction"
TOTAL = "total"
_QUANTILES = (0.05, 0.95)

# Per-draw P(pathway at the horizon), (D, 3), of one shock matrix (H, K_base).
HorizonRun = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Attribution:
    """One scenario's change from the baseline in P(pathway at the horizon), per draw."""

    drivers: tuple[str, ...]
    parts: np.ndarray  # (D, K + 1, 3): each driver's part, then the interaction remainder
    total: np.ndarray  # (D, 3): scenario minus baseline

    @property
    def names(self) -> tuple[str, ...]:
        """Row labels of ``parts``: the drivers, then the interaction remainder."""
        return (*self.drivers, INTERACTION)

    def to_frame(self) -> pl.DataFrame:
        """Rows ``part, pathway, mean, q05, q95``: each driver, ``interaction``, ``total``."""
        values = np.concatenate([self.parts, self.total[:, None]], axis=1)  # (D, K + 2, 3)
        labels = (*self.names, TOTAL)
        low, high = np.quantile(values, _QUANTILES, axis=0)
        mean = values.mean(axis=0)
        return pl.DataFrame(
            {
                "part": [label for label in labels for _ in STATES],
                "pathway": list(STATES) * len(labels),
                "mean": mean.ravel(),
                "q05": low.ravel(),
                "q95": high.ravel(),
            }
        )


def attribute(
    run: HorizonRun,
    scenario: np.ndarray,
    baseline: np.ndarray,
    drivers: tuple[str, ...],
    known: Mapping[bytes, np.ndarray] | None = None,
) -> Attribution:
    """Split ``scenario``'s move from ``baseline`` (both (H, K) shock matrices, columns in
    ``drivers`` order) by driver. ``run`` must simulate with one fixed seed; ``known`` maps
    :func:`shock_key` of already simulated matrices to their per-draw horizon probabilities
    (the forecast's own runs of the scenario and the baseline), so they are not run again."""
    scenario, baseline = np.asarray(scenario, float), np.asarray(baseline, float)
    if scenario.shape != baseline.shape or scenario.shape[1:] != (len(drivers),):
        raise ValueError(
            f"shocks: scenario {scenario.shape} and baseline {baseline.shape} must both be "
            f"(H, {len(drivers)}) for drivers {list(drivers)}"
        )
    cache = dict(known or {})

    def horizon_probs(shocks: np.ndarray) -> np.ndarray:
        key = shock_key(shocks)
        if key not in cache:
            cache[key] = np.asarray(run(shocks), float)
        return cache[key]

    base = horizon_probs(baseline)
    total = horizon_probs(scenario) - base
    parts = []
    for k in range(len(drivers)):
        switched = baseline.copy()
        switched[:, k] = scenario[:, k]
        parts.append(horizon_probs(switched) - base)
    parts.append(total - np.sum(parts, axis=0))
    return Attribution(tuple(drivers), np.stack(parts, axis=1), total)


def shock_key(shocks: np.ndarray) -> bytes:
    """A shock matrix's identity for reusing its run (the exact float64 bytes and shape)."""
    shocks = np.ascontiguousarray(shocks, dtype=float)
    return repr(shocks.shape).encode() + shocks.tobytes()


def scenario_attribution(
    inputs: ForecastInputs,
    scenario: np.ndarray,
    baseline: np.ndarray,
    n_paths: int,
    seed: int,
    known: Mapping[bytes, np.ndarray] | None = None,
) -> Attribution:
    """:func:`attribute` with the forecast's simulator: ``n_paths`` paths per draw and the
    forecast's ``seed``, so the runs share the scenario forecasts' random numbers."""

    def run(shocks: np.ndarray) -> np.ndarray:
        return simulate_shocks(inputs, shocks, n_paths, seed).horizon_probs

    return attribute(run, scenario, baseline, inputs.drivers.names, known)
