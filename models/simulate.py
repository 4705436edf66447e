"""Monte Carlo of pathway paths from posterior draws: the forecast fan and its summaries.

For each posterior draw ``d`` and each of ``n_paths`` paths: the state of the origin month
(the last observed one) is drawn from that draw's filtered probabilities ``p0[d]``; the base
drivers follow their own stochastic AR(1) path (:mod:`models.driver_paths`) plus the
offsets in ``shocks`` (the scenario's and the calendar's shocks, and the exactly known parts
such as the election countdown); interactions are recomputed from the shocked parts; and
each month's state is drawn from the transition probabilities of :mod:`models.hmm` (logit 0
into DC, ``alpha[i, j] + drivers[t - 1] @ beta[:, j]`` into SE and MC). Month ``h`` (1..H after the
origin) uses the drivers of month ``h - 1``: month 1 the last observed values, as in the
model, so a shock dated in the last forecast month cannot act within the horizon.

Why this shape: every path of a chunk of draws advances together (NumPy over ``draws x
paths``), driver paths and all transition weights for the whole horizon are computed before
the month loop, and the loop itself draws categorical states by inverse CDF on unnormalised
weights (``exp`` taken once, no per-month softmax). Memory is bounded by the chunk of draws
(``chunk_size``); each draw has its own random stream (``SeedSequence(seed).spawn``), so
results do not depend on the chunking and the same seed gives the same numbers.
Only aggregates are kept (:class:`~models.simulation_result.SimulationResult`), never raw paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.data import N_STATES
from models.driver_paths import DTYPE, AR1Drivers, DriverLayout
from models.simulation_result import SimulationResult

PATHS_PER_CHUNK = 16_384  # default chunk: ~15 MB of work arrays at 31 months (timed best)
# Logit parts are clipped to +-40 before exp so float32 weights stay finite (exp(40)^2 * 3 <
# float32 max); this changes a transition probability only where it is already below e-40.
_LOG_CLIP = 40.0


def _check(
    alpha: np.ndarray,
    beta: np.ndarray,
    p0: np.ndarray,
    driver_names: tuple[str, ...],
    shocks: np.ndarray,
    horizon: int,
    n_paths: int,
) -> None:
    """Shape and value checks; messages name the argument."""
    d = alpha.shape[0]
    if alpha.shape != (d, N_STATES, N_STATES - 1):
        raise ValueError(f"alpha: expected shape (D, 3, 2), got {alpha.shape}")
    if beta.shape != (d, len(driver_names), N_STATES - 1):
        raise ValueError(f"beta: expected shape ({d}, {len(driver_names)}, 2), got {beta.shape}")
    if p0.shape != (d, N_STATES) or np.any(p0 < 0) or not np.allclose(p0.sum(axis=1), 1.0):
        raise ValueError(f"p0: expected ({d}, 3) rows of probabilities, got shape {p0.shape}")
    if not (np.all(np.isfinite(alpha)) and np.all(np.isfinite(beta))):
        raise ValueError("alpha, beta: must be finite")
    if horizon < 1 or n_paths < 1:
        raise ValueError(f"horizon and n_paths must be >= 1, got {horizon} and {n_paths}")
    if not np.all(np.isfinite(shocks)):
        raise ValueError("shocks: must be finite")


@dataclass
class _Workspace:
    """Work arrays for one chunk of draws, allocated once and reused (sliced) for every chunk:
    fresh multi-megabyte arrays per chunk would cost page faults on every first touch."""

    x: np.ndarray  # (C, H, rows, P) drivers: base levels then interactions
    uniform: np.ndarray  # (C, H + 1, P): start state, then one per month
    weight: np.ndarray  # (C, H, 2, P) exp of the drivers' SE / MC logit contributions
    states: np.ndarray  # (C, H, P) int8

    @classmethod
    def allocate(cls, chunk: int, horizon: int, rows: int, n_paths: int) -> _Workspace:
        return cls(
            np.empty((chunk, horizon, rows, n_paths), dtype=DTYPE),
            np.empty((chunk, horizon + 1, n_paths), dtype=DTYPE),
            np.empty((chunk, horizon, N_STATES - 1, n_paths), dtype=DTYPE),
            np.empty((chunk, horizon, n_paths), dtype=np.int8),
        )


def _chunk_states(
    alpha: np.ndarray,
    beta: np.ndarray,
    p0: np.ndarray,
    drivers: AR1Drivers,
    layout: DriverLayout,
    shocks: np.ndarray,
    streams: list[np.random.SeedSequence],
    work: _Workspace,
) -> np.ndarray:
    """(Dc, H, P) int8 states of months 1..H for one chunk of Dc draws (a view into ``work``)."""
    dc, horizon, k_base = alpha.shape[0], shocks.shape[0], len(drivers.names)
    n_paths = work.states.shape[-1]
    x, uniform, weight = work.x[:dc], work.uniform[:dc], work.weight[:dc]
    future = x[:, 1:, :k_base]  # months 1..H-1; month 0 is the last observed
    for i, stream in enumerate(streams):
        rng = np.random.Generator(np.random.PCG64(stream))
        rng.random(out=uniform[i], dtype=DTYPE)
        if horizon > 1:
            future[i] = drivers.innovations(rng, n_paths, horizon - 1)
    drivers.paths(future)
    future += shocks[: horizon - 1, :, None].astype(DTYPE)
    x[:, 0, :k_base] = drivers.observed_last.astype(DTYPE)[:, None]
    layout.fill_interactions(x)
    # Exp of the drivers' contribution to the SE and MC logits, all months at once.
    effects = np.swapaxes(layout.expand_beta(beta), 1, 2).astype(DTYPE)[:, None]  # (Dc,1,2,R)
    np.matmul(effects, x, out=weight)
    np.exp(np.clip(weight, -_LOG_CLIP, _LOG_CLIP, out=weight), out=weight)
    origin_weight = np.exp(np.clip(alpha, -_LOG_CLIP, _LOG_CLIP)).astype(DTYPE)  # (Dc, 3, 2)
    table_se = origin_weight[..., 0].ravel()
    table_mc = origin_weight[..., 1].ravel()
    offset = (N_STATES * np.arange(dc))[:, None]

    cum = np.cumsum(p0, axis=1).astype(DTYPE)
    # Inverse CDF with u in [0, 1): ">=" gives a state of probability 0 no paths at all.
    state = np.add(uniform[:, 0] >= cum[:, :1], uniform[:, 0] >= cum[:, 1:2], dtype=np.intp)
    states = work.states[:dc]
    for h in range(horizon):
        idx = offset + state
        w_se = table_se.take(idx) * weight[:, h, 0]
        w_mc = table_mc.take(idx) * weight[:, h, 1]
        below_mc = w_se + 1.0  # cumulative weight of DC and SE (DC's weight is 1)
        v = uniform[:, h + 1] * (below_mc + w_mc)
        state = np.add(v >= 1.0, v >= below_mc, dtype=np.intp)
        states[:, h] = state
    return states


def simulate(
    alpha: np.ndarray,
    beta: np.ndarray,
    p0: np.ndarray,
    driver_names: Sequence[str],
    drivers: AR1Drivers,
    shocks: np.ndarray | None,
    horizon: int,
    n_paths: int,
    seed: int,
    chunk_size: int | None = None,
    origin: str | np.datetime64 | None = None,
) -> SimulationResult:
    """Simulate ``n_paths`` pathway paths per posterior draw to ``horizon`` months.

    ``alpha`` (D, 3, 2), ``beta`` (D, K, 2) with K = ``len(driver_names)``, ``p0`` (D, 3) the
    filtered probabilities of the origin month; ``drivers`` the fitted base-driver process;
    ``shocks`` (horizon, len(drivers.names)) additive shocks in SD units for forecast months
    1..horizon (``None`` = none); ``chunk_size`` draws per batch (default: about
    :data:`PATHS_PER_CHUNK` paths); ``origin`` the last observed month, used to label months.
    """
    alpha, beta, p0 = (np.asarray(a, dtype=float) for a in (alpha, beta, p0))
    driver_names = tuple(driver_names)
    k_base = len(drivers.names)
    shocks = np.zeros((horizon, k_base)) if shocks is None else np.asarray(shocks, dtype=float)
    if shocks.shape != (horizon, k_base):
        raise ValueError(f"shocks: expected shape ({horizon}, {k_base}), got {shocks.shape}")
    _check(alpha, beta, p0, driver_names, shocks, horizon, n_paths)
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size: must be >= 1, got {chunk_size}")
    n_draws = alpha.shape[0]
    chunk = chunk_size or max(1, PATHS_PER_CHUNK // n_paths)
    streams = np.random.SeedSequence(seed).spawn(n_draws)
    layout = DriverLayout.build(drivers.names, driver_names)
    work = _Workspace.allocate(min(chunk, n_draws), horizon, layout.n_rows, n_paths)
    month_probs = np.empty((n_draws, horizon, N_STATES))
    months_in_state = np.empty((n_draws, N_STATES, horizon + 1), dtype=np.int64)
    first_dc = np.empty((n_draws, horizon + 1), dtype=np.int64)
    for lo in range(0, n_draws, chunk):
        part = slice(lo, min(lo + chunk, n_draws))
        states = _chunk_states(
            alpha[part], beta[part], p0[part], drivers, layout, shocks, streams[part], work
        )
        for s in range(N_STATES):
            in_s = (states == s).view(np.int8)
            month_probs[part, :, s] = in_s.sum(axis=2, dtype=np.int32) / n_paths
            months_in_state[part, s] = _per_draw_histogram(
                in_s.sum(axis=1, dtype=np.int32), horizon + 1
            )
        in_dc = states == 0
        first = np.where(in_dc.any(axis=1), in_dc.argmax(axis=1), horizon)  # horizon = never
        first_dc[part] = _per_draw_histogram(first, horizon + 1)
    months = None
    if origin is not None:
        months = np.datetime64(origin, "M") + np.arange(1, horizon + 1)
    return SimulationResult(month_probs, months_in_state, first_dc, n_paths, months)


def peak_bytes(
    n_draws: int,
    n_paths: int,
    horizon: int,
    n_base: int,
    n_rows: int,
    chunk_size: int | None = None,
) -> int:
    """About how many bytes :func:`simulate` holds at its peak, without allocating any.

    Why: the work arrays grow with paths x months, and a large ``n_paths`` asks NumPy for
    hundreds of terabytes (or for more memory than the machine has, which it then swaps or
    is killed for) only once simulating starts. Callers compare this to a budget first.
    The terms follow the code: the chunk's workspace, one draw's driver innovations (the
    Box–Muller temporaries, about 14 bytes per value, or the bootstrap's row indices), the
    per-path temporaries of the month loop and the summaries, and the per-draw results.
    ``n_base`` base drivers, ``n_rows`` driver rows including interactions.
    """
    if min(n_draws, n_paths, horizon) < 1:
        return 0
    chunk = min(chunk_size or max(1, PATHS_PER_CHUNK // n_paths), n_draws)
    itemsize = np.dtype(DTYPE).itemsize
    path_months = chunk * horizon * n_paths
    workspace = path_months * (itemsize * (n_rows + N_STATES - 1) + 1)
    workspace += chunk * (horizon + 1) * n_paths * itemsize
    summaries = path_months * 2 + chunk * n_paths * 64  # boolean masks; loop and histograms
    innovations = (horizon - 1) * n_paths * max(14 * n_base, 16 + 2 * itemsize * n_base)
    results = n_draws * (horizon + 1) * (N_STATES * 8 * 2 + 8)
    return int(workspace + summaries + innovations + results)


def _per_draw_histogram(values: np.ndarray, bins: int) -> np.ndarray:
    """(Dc, bins) counts of the integers in ``values`` (Dc, P), 0 <= value < bins."""
    dc = values.shape[0]
    flat = (values + bins * np.arange(dc)[:, None]).ravel()
    return np.bincount(flat, minlength=dc * bins).reshape(dc, bins)
