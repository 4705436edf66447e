"""Future driver paths for the Monte Carlo stage: one AR(1) per base driver.

Why AR(1): the composite drivers are monthly z-scores of slow-moving indicators (approval,
inflation, policy uncertainty, geopolitical risk) that are strongly persistent but revert to
their training mean; an AR(1) captures exactly those two features with three numbers per
driver (mean, persistence ``phi``, innovation sd), which a short monthly history can estimate.
Richer models (VAR, regime-dependent dynamics) would fit noise at ~200 months, and the
forecast's uncertainty is dominated by the transition effects anyway. ``phi`` is clipped below
:data:`MAX_PHI` so every simulated path is stationary: an estimated unit root would let the
driver wander without bound over a 3-year horizon, pushing transition logits to extremes that
no month of the history supports.

Innovations are either Gaussian with the residuals' full covariance (Cholesky factor), so the
co-movement of the win-sets is kept (it matters for the ``W_US_x_W_CN`` interaction), or a
block bootstrap of the fitted residuals (rows resampled together, so the same co-movement is
kept without assuming normality; blocks keep short-run residual dependence). Parameters are
point estimates: uncertainty in the AR fit itself is not propagated.

Interactions (``A_x_B``) are never simulated or shocked: :class:`DriverLayout` recomputes them
from the simulated (and shocked) parts, as :mod:`models.drivers` builds them for the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from models.drivers import INTERACTION_SEPARATOR

MAX_PHI = 0.99
DTYPE = np.float32  # simulation precision: drivers are O(1) z-scores; halves memory traffic


def standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal float32 draws by the Box–Muller transform of float32 uniforms.

    Why not ``rng.standard_normal``: its ziggurat costs ~8 ns a draw here, over half of the
    simulator's time at three drivers per path-month; Box–Muller with NumPy's vectorised
    float32 ``log``/``sin``/``cos`` costs ~2 ns. The transform is exact; the uniforms'
    resolution of 2**-24 only truncates draws beyond ~5.8 SD, irrelevant for driver shocks.
    """
    n = int(np.prod(shape))
    half = -(-n // 2)
    u = rng.random((2, half), dtype=DTYPE)
    radius = np.sqrt(-2.0 * np.log1p(-u[0]))  # 1 - u is in (0, 1]: the log stays finite
    angle = (2.0 * np.pi) * u[1]
    out = np.empty(2 * half, dtype=DTYPE)
    np.multiply(radius, np.cos(angle), out=out[:half])
    np.multiply(radius, np.sin(angle), out=out[half:])
    return out[:n].reshape(shape)


def interaction_parts(name: str) -> tuple[str, str] | None:
    """``("A", "B")`` for an interaction driver ``"A_x_B"``, else ``None``."""
    if INTERACTION_SEPARATOR not in name:
        return None
    left, right = name.split(INTERACTION_SEPARATOR, 1)
    return left, right


def base_drivers(driver_names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The drivers that must be simulated for ``driver_names``: every non-interaction driver
    and both parts of every interaction, each once, in first-seen order."""
    base: list[str] = []
    for name in driver_names:
        parts = interaction_parts(name)
        for part in parts if parts else (name,):
            if part not in base:
                base.append(part)
    return tuple(base)


@dataclass(frozen=True)
class AR1Drivers:
    """Fitted AR(1) per base driver: ``x_t - mean = phi (x_{t-1} - mean) + e_t``."""

    names: tuple[str, ...]
    mean: np.ndarray  # (K,)
    phi: np.ndarray  # (K,), |phi| <= MAX_PHI
    sigma: np.ndarray  # (K,) residual sd
    chol: np.ndarray  # (K, K) lower Cholesky factor of the residual covariance
    residuals: np.ndarray  # (T - 1, K) fitted residuals, for the block bootstrap
    last: np.ndarray  # (K,) last observed values: every path starts here
    innovations_kind: Literal["gaussian", "block_bootstrap"] = "gaussian"
    block_months: int = 6

    def innovations(self, rng: np.random.Generator, n_paths: int, steps: int) -> np.ndarray:
        """(steps, K, n_paths) innovations ``e_t`` for one batch of paths."""
        k = len(self.names)
        if self.innovations_kind == "gaussian":
            z = standard_normal(rng, (steps, k, n_paths))
            return np.matmul(self.chol.astype(DTYPE), z)
        n_res = self.residuals.shape[0]
        block = min(self.block_months, n_res)
        n_blocks = -(-steps // block)
        starts = rng.integers(0, n_res - block + 1, size=(n_blocks, n_paths))
        offset = np.arange(steps)
        rows = starts[offset // block] + (offset % block)[:, None]  # (steps, n_paths)
        return self.residuals.astype(DTYPE)[rows].transpose(0, 2, 1)

    def paths(self, innovations: np.ndarray) -> np.ndarray:
        """Levels for months 1..steps from innovations (..., steps, K, n), in place.

        Starts at :attr:`last` (month 0) and runs the AR(1) recursion along the steps axis.
        """
        phi = self.phi.astype(DTYPE)[:, None]
        mean = self.mean.astype(DTYPE)[:, None]
        dev = innovations
        dev[..., 0, :, :] += phi * (self.last.astype(DTYPE)[:, None] - mean)
        for h in range(1, dev.shape[-3]):
            dev[..., h, :, :] += phi * dev[..., h - 1, :, :]
        dev += mean
        return dev

    def sample(self, rng: np.random.Generator, n_paths: int, steps: int) -> np.ndarray:
        """(steps, K, n_paths) simulated levels for months 1..steps (no shocks)."""
        return self.paths(self.innovations(rng, n_paths, steps))


def fit_ar1(
    history: np.ndarray,
    names: tuple[str, ...] | list[str],
    innovations: Literal["gaussian", "block_bootstrap"] = "gaussian",
    block_months: int = 6,
) -> AR1Drivers:
    """OLS AR(1) per column of ``history`` (T, K), months in rows, oldest first.

    A driver whose OLS ``phi`` reaches :data:`MAX_PHI` is clipped there and its mean is then the
    sample mean (the OLS intercept over ``1 - phi`` is unstable near a unit root); residuals and
    their covariance are recomputed with the final mean and ``phi``.
    """
    x = np.asarray(history, dtype=float)
    names = tuple(names)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"history: expected shape (T, {len(names)}), got {x.shape}")
    if x.shape[0] < 3 + block_months or not np.all(np.isfinite(x)):
        raise ValueError(f"history: need >= {3 + block_months} complete months, got {x.shape[0]}")
    interactions = [n for n in names if interaction_parts(n)]
    if interactions:
        raise ValueError(f"names: {interactions} are interactions; fit only their parts")
    if block_months < 1:
        raise ValueError(f"block_months: must be >= 1, got {block_months}")
    prev, curr = x[:-1], x[1:]
    prev_c = prev - prev.mean(axis=0)
    var_prev = (prev_c**2).sum(axis=0)
    if np.any(var_prev == 0):
        raise ValueError(f"history: constant driver in {list(names)}")
    phi = (prev_c * (curr - curr.mean(axis=0))).sum(axis=0) / var_prev
    mean = (curr.mean(axis=0) - phi * prev.mean(axis=0)) / (1 - phi)
    clipped = np.abs(phi) >= MAX_PHI
    phi = np.clip(phi, -MAX_PHI, MAX_PHI)
    mean = np.where(clipped, x.mean(axis=0), mean)
    resid = (curr - mean) - phi * (prev - mean)
    cov = np.atleast_2d(np.cov(resid, rowvar=False, ddof=2))
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(len(names)))
    return AR1Drivers(
        names=names,
        mean=mean,
        phi=phi,
        sigma=np.sqrt(np.diag(cov)),
        chol=chol,
        residuals=resid,
        last=x[-1].copy(),
        innovations_kind=innovations,
        block_months=block_months,
    )


@dataclass(frozen=True)
class DriverLayout:
    """Rows of a simulated driver array: the base drivers, then one row per interaction.

    Why a layout rather than the model's own driver order: base drivers are simulated in place
    in their rows and interactions are filled from them (:meth:`fill_interactions`), so the
    model's drivers never need copying; :meth:`expand_beta` puts the effects in the same rows.
    """

    base: tuple[str, ...]
    interactions: tuple[tuple[int, int], ...]  # rows of the two parts of each interaction
    model_rows: tuple[int, ...]  # row of each model driver

    @classmethod
    def build(cls, base: tuple[str, ...], driver_names: tuple[str, ...]) -> DriverLayout:
        index = {name: i for i, name in enumerate(base)}
        interactions: list[tuple[int, int]] = []
        rows: list[int] = []
        for name in driver_names:
            parts = interaction_parts(name)
            missing = [p for p in parts or (name,) if p not in index]
            if missing:
                raise ValueError(f"drivers: {missing} not simulated (have {list(base)})")
            if parts:
                rows.append(len(base) + len(interactions))
                interactions.append((index[parts[0]], index[parts[1]]))
            else:
                rows.append(index[name])
        return cls(tuple(base), tuple(interactions), tuple(rows))

    @property
    def n_rows(self) -> int:
        return len(self.base) + len(self.interactions)

    def fill_interactions(self, x: np.ndarray) -> np.ndarray:
        """Set each interaction row of ``x`` (..., n_rows, n) to the product of its parts."""
        for m, (a, b) in enumerate(self.interactions):
            np.multiply(x[..., a, :], x[..., b, :], out=x[..., len(self.base) + m, :])
        return x

    def expand_beta(self, beta: np.ndarray) -> np.ndarray:
        """(..., n_rows, J) effects in layout rows from (..., K_model, J); 0 for unused rows."""
        out = np.zeros((*beta.shape[:-2], self.n_rows, beta.shape[-1]), dtype=beta.dtype)
        out[..., list(self.model_rows), :] = beta
        return out
