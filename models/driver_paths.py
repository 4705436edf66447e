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

Two ways to draw the innovations (``method``, chosen per forecast and per sweep):

- ``ar1`` (default): Gaussian with the residuals' full covariance (Cholesky factor), so the
  co-movement of the win-sets is kept (it matters for the ``W_US_x_W_CN`` interaction).
- ``bootstrap``: a moving-block bootstrap of the fitted residuals, i.e. of the historical
  innovations of the standardised drivers. Whole months are resampled jointly (one residual
  row carries every driver), so the cross-driver correlation is the historical one without a
  covariance model; blocks of ``block_months`` consecutive months keep the short-run
  dependence left in the residuals; and their tails and skew are kept rather than replaced by
  a normal law. Measured on the bundled panel (2009-01 to 2026-08) the residuals are far from
  Gaussian: kurtosis 16, 7 and 6 (``W_US``, ``W_CN``, ``INTL``), skew up to 1.6, volatility
  clustering (lag-1 autocorrelation of absolute residuals 0.26-0.28 for ``W_CN`` and
  ``INTL``) and a lag-1 autocorrelation of -0.34 in ``INTL``'s. The AR(1) mean reversion
  stays: resampling driver *changes* instead would make each path a random walk from the last
  value, with an sd of about 3 by January 2029 against the drivers' historical 1.
  Residuals are centred before resampling, so a clipped ``phi`` cannot turn their sample
  mean into a drift.

AR parameters are point estimates under either method: uncertainty in the AR fit itself is not
propagated.

Why :data:`DEFAULT_BLOCK_MONTHS` = 6: the usual rule for block length is of order ``n**(1/3)``
(Hall, Horowitz and Jing 1995), which is 5.95 for the 211 monthly residuals of 2009-01 to
2026-08; half a year also spans a typical episode in the residuals (a tariff round, a crisis
and its aftershocks) while leaving over 200 distinct blocks to draw from, so paths are not
copies of a few historical stretches. Blocks are drawn uniformly among the complete ones (no
wrapping), so each simulated block is a contiguous stretch of history; the price is that the
first and last five months of history are drawn a little less often than the others.

Interactions (``A_x_B``) are never simulated or shocked: :class:`DriverLayout` recomputes them
from the simulated (and shocked) parts, as :mod:`models.drivers` builds them for the history.

Components with a known future (the election countdown inside ``W_US``) are not simulated
either: the AR(1) is fitted on each driver minus that known part, and the forecast adds the
known part back, projected from the calendar (:class:`models.drivers.KnownPart`).
:attr:`AR1Drivers.known_last` is the known part in the origin month, which month 0 (the
observed one) adds back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from models.drivers import INTERACTION_SEPARATOR, overlap

MAX_PHI = 0.99
DEFAULT_BLOCK_MONTHS = 6  # bootstrap block length; the module docstring gives the reason
DriverPaths = Literal["ar1", "bootstrap"]
DRIVER_PATHS: tuple[str, ...] = get_args(DriverPaths)
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
    """Fitted AR(1) per base driver: ``x_t - mean = phi (x_{t-1} - mean) + e_t``; ``method``
    says how future innovations ``e_t`` are drawn (Gaussian, or historical blocks)."""

    names: tuple[str, ...]
    mean: np.ndarray  # (K,)
    phi: np.ndarray  # (K,), |phi| <= MAX_PHI
    sigma: np.ndarray  # (K,) residual sd
    chol: np.ndarray  # (K, K) lower Cholesky factor of the residual covariance
    residuals: np.ndarray  # (T - 1, K) centred fitted residuals, months in rows, for bootstrap
    last: np.ndarray  # (K,) last observed values: every path starts here
    method: DriverPaths = "ar1"
    block_months: int = DEFAULT_BLOCK_MONTHS
    known_last: np.ndarray | None = None  # (K,) known part at the origin; None = none

    @property
    def observed_last(self) -> np.ndarray:
        """(K,) the drivers as observed in the origin month: :attr:`last` plus the known part."""
        return self.last if self.known_last is None else self.last + self.known_last

    def innovations(self, rng: np.random.Generator, n_paths: int, steps: int) -> np.ndarray:
        """(steps, K, n_paths) innovations ``e_t`` for one batch of paths."""
        if self.method == "ar1":
            z = standard_normal(rng, (steps, len(self.names), n_paths))
            return np.matmul(self.chol.astype(DTYPE), z)
        return self.residuals.astype(DTYPE)[self.bootstrap_rows(rng, n_paths, steps)].transpose(
            0, 2, 1
        )

    def bootstrap_rows(self, rng: np.random.Generator, n_paths: int, steps: int) -> np.ndarray:
        """(steps, n_paths) rows of :attr:`residuals` that the bootstrap puts in each month.

        One start per block and path, uniform over the complete blocks; the rows of a block
        run consecutively from its start. All paths are drawn in one vectorised call.
        """
        n_res = self.residuals.shape[0]
        block = min(self.block_months, n_res)
        n_blocks = -(-steps // block)
        starts = rng.integers(0, n_res - block + 1, size=(n_blocks, n_paths))
        offset = np.arange(steps)
        return starts[offset // block] + (offset % block)[:, None]

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


def check_driver_paths(method: str, block_months: int) -> None:
    """Refuse an unknown method or a block length below one month, naming the option."""
    if method not in DRIVER_PATHS:
        raise ValueError(f"driver_paths: expected one of {', '.join(DRIVER_PATHS)}, got {method!r}")
    if not isinstance(block_months, int) or block_months < 1:
        raise ValueError(f"block_months: must be a whole number >= 1, got {block_months!r}")


def fit_ar1(
    history: np.ndarray,
    names: tuple[str, ...] | list[str],
    method: DriverPaths = "ar1",
    block_months: int = DEFAULT_BLOCK_MONTHS,
) -> AR1Drivers:
    """OLS AR(1) per column of ``history`` (T, K), months in rows, oldest first.

    A driver whose OLS ``phi`` reaches :data:`MAX_PHI` is clipped there and its mean is then the
    sample mean (the OLS intercept over ``1 - phi`` is unstable near a unit root); residuals and
    their covariance are recomputed with the final mean and ``phi``. ``method`` and
    ``block_months`` choose how paths draw innovations (module docstring).
    """
    check_driver_paths(method, block_months)
    x = np.asarray(history, dtype=float)
    names = tuple(names)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"history: expected shape (T, {len(names)}), got {x.shape}")
    if x.shape[0] < 3 + block_months or not np.all(np.isfinite(x)):
        raise ValueError(f"history: need >= {3 + block_months} complete months, got {x.shape[0]}")
    interactions = [n for n in names if interaction_parts(n)]
    if interactions:
        raise ValueError(f"names: {interactions} are interactions; fit only their parts")
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
        residuals=resid - resid.mean(axis=0),
        last=x[-1].copy(),
        method=method,
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
        """Set each interaction row of ``x`` (..., n_rows, n) to the overlap of its parts
        (:func:`models.drivers.overlap`, as the history's interactions are built)."""
        for m, (a, b) in enumerate(self.interactions):
            overlap(x[..., a, :], x[..., b, :], out=x[..., len(self.base) + m, :])
        return x

    def expand_beta(self, beta: np.ndarray) -> np.ndarray:
        """(..., n_rows, J) effects in layout rows from (..., K_model, J); 0 for unused rows."""
        out = np.zeros((*beta.shape[:-2], self.n_rows, beta.shape[-1]), dtype=beta.dtype)
        out[..., list(self.model_rows), :] = beta
        return out
