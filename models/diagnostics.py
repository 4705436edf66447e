"""Convergence diagnostics, the publication health gate, and a per-parameter summary table.

Why a gate: the monthly run is unattended, and "a bad run never replaces a good one". A fit
is publishable only if every posterior quantity has R-hat <= max_rhat, bulk and tail ESS >=
min_ess, no more divergences than allowed and an energy BFMI >= min_bfmi in every chain
(thresholds in :class:`models.config.HealthConfig`).

Why our own summary table instead of ``arviz.summary``: in ArviZ 1.3 ``summary`` mislabels
rows when two variables share a dimension but differ in another (here ``alpha``
(origin, dest) and ``beta`` (driver, dest)): the values of ``beta[W_US, MC]`` and
``beta[INTL, SE]`` come out swapped. Reducing each variable over (chain, draw) ourselves keeps
every value with its own coordinates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import product

import arviz as az
import numpy as np
import xarray as xr

from models.config import HealthConfig

SAMPLE_DIMS = ("chain", "draw")
INTERVAL = 0.94


@dataclass(frozen=True)
class Diagnostics:
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    min_bfmi: float
    chains: int
    draws: int
    thresholds: HealthConfig = field(default_factory=HealthConfig)

    def problems(self) -> list[str]:
        """Human-readable reasons the fit fails the gate (empty when healthy)."""
        t = self.thresholds
        checks = [
            (self.max_rhat <= t.max_rhat, f"max R-hat {self.max_rhat:.3f} > {t.max_rhat}"),
            (self.min_ess_bulk >= t.min_ess, f"min bulk ESS {self.min_ess_bulk:.0f} < {t.min_ess}"),
            (self.min_ess_tail >= t.min_ess, f"min tail ESS {self.min_ess_tail:.0f} < {t.min_ess}"),
            (
                self.divergences <= t.max_divergences,
                f"{self.divergences} divergences > {t.max_divergences}",
            ),
            (self.min_bfmi >= t.min_bfmi, f"min BFMI {self.min_bfmi:.2f} < {t.min_bfmi}"),
        ]
        return [message for ok, message in checks if not ok]

    @property
    def healthy(self) -> bool:
        return not self.problems()

    def as_dict(self) -> dict:
        out = asdict(self)
        out["thresholds"] = self.thresholds.model_dump()
        out["healthy"] = self.healthy
        return out


def _posterior(idata: xr.DataTree) -> xr.Dataset:
    return idata["posterior"].to_dataset()


def _extreme(ds: xr.Dataset, pick) -> float:
    values = [float(pick(np.asarray(v.values))) for v in ds.data_vars.values()]
    return float(pick(np.asarray(values)))


def diagnose(idata: xr.DataTree, thresholds: HealthConfig) -> Diagnostics:
    """Worst-case diagnostics over every posterior quantity (NaN counts as failing)."""
    post = _posterior(idata)
    rhat = az.rhat(post, sample_dims=list(SAMPLE_DIMS))
    ess_bulk = az.ess(post, sample_dims=list(SAMPLE_DIMS), method="bulk")
    ess_tail = az.ess(post, sample_dims=list(SAMPLE_DIMS), method="tail")
    stats = idata["sample_stats"].to_dataset()
    bfmi = np.asarray(az.bfmi(stats, sample_dims=list(SAMPLE_DIMS))["energy"].values)
    max_rhat = _extreme(rhat, np.max)
    return Diagnostics(
        max_rhat=float("inf") if np.isnan(max_rhat) else max_rhat,
        min_ess_bulk=np.nan_to_num(_extreme(ess_bulk, np.min)),
        min_ess_tail=np.nan_to_num(_extreme(ess_tail, np.min)),
        divergences=int(stats["diverging"].values.sum()),
        min_bfmi=float(np.nan_to_num(bfmi.min())),
        chains=int(post.sizes["chain"]),
        draws=int(post.sizes["draw"]),
        thresholds=thresholds,
    )


def summary_table(
    idata: xr.DataTree | xr.Dataset, var_names: list[str] | None = None, group: str = "posterior"
) -> list[dict]:
    """One row per scalar: label, mean, sd, 94% equal-tailed interval, R-hat, bulk/tail ESS.

    Works on the ``prior`` group too (R-hat/ESS then describe the prior draws).
    """
    ds = idata[group].to_dataset() if isinstance(idata, xr.DataTree) else idata
    ds = ds[var_names] if var_names else ds
    dims = list(SAMPLE_DIMS)
    lo, hi = (1 - INTERVAL) / 2, 1 - (1 - INTERVAL) / 2
    stats = {
        "mean": ds.mean(dims),
        "sd": ds.std(dims),
        "lower": ds.quantile(lo, dims).drop_vars("quantile"),
        "upper": ds.quantile(hi, dims).drop_vars("quantile"),
        "r_hat": az.rhat(ds, sample_dims=dims),
        "ess_bulk": az.ess(ds, sample_dims=dims, method="bulk"),
        "ess_tail": az.ess(ds, sample_dims=dims, method="tail"),
    }
    rows = []
    for name, var in ds.data_vars.items():
        own_dims = [d for d in var.dims if d not in SAMPLE_DIMS]
        for idx in product(*(range(var.sizes[d]) for d in own_dims)):
            where = dict(zip(own_dims, idx, strict=True))
            coords = [str(var[d].values[i]) for d, i in where.items()]
            row = {"name": name + (f"[{', '.join(coords)}]" if coords else "")}
            for key, values in stats.items():
                row[key] = float(values[name].isel(where).values)
            rows.append(row)
    return rows
