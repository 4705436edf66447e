"""What a Monte Carlo run keeps: per-draw aggregates, and tidy frames for reports.

Why per-draw aggregates and not raw paths: 1000 draws x 1000 paths x 31 months of states is
31 M values per scenario; every summary the reports need is a function of three small per-draw
arrays. Keeping them per draw is what separates the two kinds of uncertainty:

- posterior (epistemic): the spread *across draws* of a draw's probability (share of its own
  paths). The ``q05``/``q50``/``q95`` columns are these quantiles (90% interval); they also
  carry Monte Carlo noise of ``n_paths`` paths per draw (sd at most ``0.5 / sqrt(n_paths)``).
- path (aleatoric): how much single futures differ under the whole posterior, i.e. quantiles
  over all paths pooled (frame ``path_spread``): a month count or a first-passage month.

``mean`` is always the posterior predictive: the average over all draws and paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from models.data import STATES

QUANTILES = (0.05, 0.5, 0.95)
_Q_COLUMNS = ("q05", "q50", "q95")


@dataclass(frozen=True)
class SimulationResult:
    """Per-draw aggregates of a simulation; months are 1..H after the origin."""

    month_probs: np.ndarray  # (D, H, 3) share of the draw's paths in each pathway per month
    months_in_state: np.ndarray  # (D, 3, H + 1) paths spending c = 0..H months in the pathway
    first_dc: np.ndarray  # (D, H + 1) paths first in DC in month h + 1; last column = never
    n_paths: int
    months: np.ndarray | None = None  # (H,) datetime64[M] labels, when the origin is known

    @property
    def horizon(self) -> int:
        return int(self.month_probs.shape[1])

    @property
    def mean_probs(self) -> np.ndarray:
        """(H, 3) posterior predictive pathway probabilities per month."""
        return self.month_probs.mean(axis=0)

    @property
    def horizon_probs(self) -> np.ndarray:
        """(D, 3) per-draw pathway probabilities in the last month (e.g. January 2029)."""
        return self.month_probs[:, -1]

    @property
    def share_of_months(self) -> np.ndarray:
        """(D, 3) per-draw expected share of the horizon's months spent in each pathway."""
        counts = np.arange(self.horizon + 1)
        return (self.months_in_state * counts).sum(axis=-1) / (self.n_paths * self.horizon)

    @property
    def ever_dc(self) -> np.ndarray:
        """(D,) per-draw probability of being in DC in at least one month 1..H."""
        return 1.0 - self.first_dc[:, -1] / self.n_paths

    @property
    def first_dc_cdf(self) -> np.ndarray:
        """(D, H) per-draw probability of having been in DC by month h (first passage)."""
        return np.cumsum(self.first_dc[:, :-1], axis=1) / self.n_paths

    def first_dc_quantiles(self) -> list[int | None]:
        """Pooled path quantiles of the first month in DC; ``None`` = not by the horizon."""
        return [None if c >= self.horizon else c + 1 for c in _pooled(self.first_dc.sum(0))]

    def share_quantiles(self) -> np.ndarray:
        """(3 pathways, 3 quantiles) pooled path quantiles of the share of months."""
        pooled = self.months_in_state.sum(axis=0)
        return np.array([_pooled(row) for row in pooled]) / self.horizon

    def to_frames(self) -> dict[str, pl.DataFrame]:
        """Tidy frames: ``monthly``, ``horizon``, ``first_passage`` and ``path_spread``."""
        steps = np.arange(1, self.horizon + 1)
        month = _month_column(self.months, self.horizon)
        monthly = pl.concat(
            _summary(self.month_probs[:, :, s], step=steps, month=month, pathway=name)
            for s, name in enumerate(STATES)
        ).sort("step", maintain_order=True)
        horizon = pl.concat(
            [
                *(
                    _summary(self.horizon_probs[:, [s]], measure="pathway_at_horizon", pathway=n)
                    for s, n in enumerate(STATES)
                ),
                *(
                    _summary(self.share_of_months[:, [s]], measure="share_of_months", pathway=n)
                    for s, n in enumerate(STATES)
                ),
                _summary(self.ever_dc[:, None], measure="ever_DC", pathway="DC"),
            ]
        )
        first_passage = _summary(self.first_dc_cdf, step=steps, month=month)
        shares = self.share_quantiles()
        first = self.first_dc_quantiles()
        path_spread = pl.DataFrame(
            {
                "measure": ["share_of_months"] * len(STATES) + ["first_month_in_DC"],
                "pathway": [*STATES, "DC"],
                **{
                    col: [*(float(v) for v in shares[:, q]), first[q]]
                    for q, col in enumerate(_Q_COLUMNS)
                },
                "unit": ["share"] * len(STATES) + ["months after origin (null = never)"],
            },
            schema_overrides={col: pl.Float64 for col in _Q_COLUMNS},
        )
        return {
            "monthly": monthly,
            "horizon": horizon,
            "first_passage": first_passage,
            "path_spread": path_spread,
        }


def _pooled(counts: np.ndarray) -> list[int]:
    """Indices at which the cumulative share of ``counts`` first reaches each quantile."""
    cdf = np.cumsum(counts) / counts.sum()
    return [int(np.searchsorted(cdf, q - 1e-12)) for q in QUANTILES]


def _month_column(months: np.ndarray | None, horizon: int) -> pl.Series:
    if months is None:
        return pl.Series("month", [None] * horizon, dtype=pl.Date)
    return pl.Series("month", months.astype("datetime64[D]"))


def _summary(values: np.ndarray, **keys: object) -> pl.DataFrame:
    """Mean and across-draw quantiles of ``values`` (D, N), one row per column N."""
    q = np.quantile(values, QUANTILES, axis=0)
    n = values.shape[1]
    columns = {k: v if isinstance(v, np.ndarray | pl.Series) else [v] * n for k, v in keys.items()}
    return pl.DataFrame(
        {**columns, "mean": values.mean(axis=0), **dict(zip(_Q_COLUMNS, q, strict=True))}
    )
