"""How fast :func:`models.simulate.simulate` turns a posterior into pathway paths, on one core.

A forecast is 1000 posterior draws x 1000 paths x 31 months (July 2026 to January 2029) per
scenario, and a sweep runs grids of scenarios against one posterior, so path-months per second
is the number that matters. The vectorised simulator is compared, in the same run, with the
straightforward version: a Python loop over paths and months doing the same work with NumPy
(the same AR(1) driver draws, interaction, softmax and categorical draw per path-month).

Inputs are SYNTHETIC (posterior-like arrays around the default priors, drivers fitted on a
simulated AR(1) history) but the shocks are the shipped calendar plus the tariff escalation
scenario. Thread pools are pinned to one thread before NumPy loads (``OMP_NUM_THREADS`` and
friends); the machine may be shared, so the 1-minute load average is reported with the
timings. Run ``python -m benchmarks.simulate``; the last line printed is one JSON object.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from models.driver_paths import AR1Drivers, DriverLayout, base_drivers, fit_ar1  # noqa: E402
from models.hmm import alpha_prior_mean  # noqa: E402
from models.scenarios import load_calendar, load_scenario, shock_matrix  # noqa: E402
from models.simulate import simulate  # noqa: E402

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"
DRIVERS = ("W_US", "W_CN", "W_US_x_W_CN", "INTL")
ORIGIN = "2026-06"
HORIZON = 31


def synthetic_inputs(n_draws: int, seed: int = 0) -> dict:
    """SYNTHETIC posterior-like draws and AR(1) drivers fitted on a simulated history."""
    rng = np.random.default_rng(seed)
    alpha = alpha_prior_mean(4.0)[None] + rng.normal(0, 0.5, (n_draws, 3, 2))
    signs = np.array([0.3, 0.3, 0.3, -0.3])[None, :, None]
    beta = signs + rng.normal(0, 0.3, (n_draws, len(DRIVERS), 2))
    p0 = rng.dirichlet([1.0, 2.0, 6.0], size=n_draws)
    base = base_drivers(DRIVERS)
    history = np.zeros((200, len(base)))
    for t in range(1, 200):
        history[t] = 0.9 * history[t - 1] + rng.normal(0, 0.45, len(base))
    months = np.datetime64(ORIGIN, "M") + np.arange(1, HORIZON + 1)
    shocks = shock_matrix(
        load_scenario(SCENARIOS / "tariff_escalation.yaml"),
        load_calendar(SCENARIOS / "calendar.yaml"),
        months,
        base,
    )
    drivers = fit_ar1(history, base)
    return {"alpha": alpha, "beta": beta, "p0": p0, "drivers": drivers, "shocks": shocks}


def naive(inputs: dict, n_draws: int, n_paths: int, seed: int) -> np.ndarray:
    """The straightforward simulator: one path and one month at a time. (D, H, 3) shares."""
    rng = np.random.default_rng(seed)
    drivers: AR1Drivers = inputs["drivers"]
    layout = DriverLayout.build(drivers.names, DRIVERS)
    beta_rows = layout.expand_beta(inputs["beta"])
    counts = np.zeros((n_draws, HORIZON, 3))
    for d in range(n_draws):
        for _ in range(n_paths):
            state = rng.choice(3, p=inputs["p0"][d])
            level = drivers.last.copy()  # AR(1) state, before shocks
            x = np.empty(layout.n_rows)
            x[: len(level)] = level
            for h in range(HORIZON):
                layout.fill_interactions(x[:, None])
                logits = np.concatenate([[0.0], inputs["alpha"][d, state] + x @ beta_rows[d]])
                p = np.exp(logits - logits.max())
                state = rng.choice(3, p=p / p.sum())
                counts[d, h, state] += 1
                e = drivers.chol @ rng.standard_normal(len(level))
                level = drivers.mean + drivers.phi * (level - drivers.mean) + e
                x[: len(level)] = level + inputs["shocks"][h]
    return counts / n_paths


def _timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(n_draws: int = 1000, n_paths: int = 1000, naive_paths: int = 200) -> dict:
    """Best-of-3 wall time of the full run, the naive loop on 5 draws, and peak memory."""
    inputs = synthetic_inputs(n_draws)
    load_before = os.getloadavg()[0]

    def run(drivers: AR1Drivers) -> None:
        simulate(
            inputs["alpha"], inputs["beta"], inputs["p0"], DRIVERS, drivers, inputs["shocks"],
            HORIZON, n_paths, seed=1, origin=ORIGIN,
        )  # fmt: skip

    seconds = _timed(lambda: run(inputs["drivers"]), repeats=3)
    bootstrap = replace(inputs["drivers"], method="bootstrap")
    bootstrap_seconds = _timed(lambda: run(bootstrap), repeats=1)
    naive_draws = 5
    naive_seconds = _timed(lambda: naive(inputs, naive_draws, naive_paths, seed=1), repeats=1)
    tracemalloc.start()
    run(inputs["drivers"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    steps = n_draws * n_paths * HORIZON
    naive_rate = naive_draws * naive_paths * HORIZON / naive_seconds
    return {
        "simulate_draws": n_draws,
        "simulate_paths": n_paths,
        "simulate_months": HORIZON,
        "simulate_seconds": seconds,
        "simulate_path_steps_per_s": steps / seconds,
        "simulate_bootstrap_seconds": bootstrap_seconds,
        "naive_path_steps": naive_draws * naive_paths * HORIZON,
        "naive_path_steps_per_s": naive_rate,
        "speedup_vs_naive": steps / seconds / naive_rate,
        "simulate_peak_mb": peak / 2**20,
        "threads": {v: os.environ[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "load_avg_1min_before": load_before,
        "load_avg_1min_after": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
