"""A fitted model as one value: the config, the arrays the sampler saw, and the posterior.

Why: state probabilities, predictive checks, forecasts, backtests and the ledger all read a
posterior together with the prepared data it was fitted on (the standardisation, the label
one-hots, the count arrays). Passing ``(idata, data, config)`` made each of them prepare the
data again (seven times through ``winset run``), and nothing stopped a posterior being read
with arrays standardised on other data. A fit or a load builds a :class:`FittedModel` once and
every reader takes it. Pure: no PyMC, no Prefect, no DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from models.config import ModelConfig
from models.data import ModelData
from models.prepared import Prepared, prepare


@dataclass(frozen=True)
class FittedModel:
    config: ModelConfig
    prepared: Prepared
    idata: xr.DataTree

    @classmethod
    def of(cls, idata: xr.DataTree | xr.Dataset, data: ModelData, config: ModelConfig):
        """The fit ``idata`` of ``config`` on ``data`` (the full panel or the sub-panel the
        config selects: selecting twice gives the same arrays)."""
        return cls(config, prepare(data, config), _tree(idata))

    @property
    def data(self) -> ModelData:
        """The sub-panel the model saw (the config's series, drivers, counts and start)."""
        return self.prepared.data

    @property
    def posterior(self) -> xr.Dataset:
        return self.idata["posterior"].to_dataset()

    def thinned(self, max_draws: int | None) -> FittedModel:
        """At most ``max_draws`` draws, evenly spaced over the chains in order, as one chain
        (``None``: all of them): what checks, forecasts and comparisons read."""
        post = self.posterior
        total = post.sizes["chain"] * post.sizes["draw"]
        count = total if max_draws is None else min(total, max_draws)
        if count < 1:
            raise ValueError(f"max_draws: must be >= 1, got {max_draws}")
        keep = np.unique(np.linspace(0, total - 1, count).round().astype(int))
        flat = post.stack(sample=("chain", "draw")).isel(sample=keep)
        flat = flat.drop_vars(["sample", "chain", "draw"]).rename({"sample": "draw"})
        return self.with_posterior(flat.expand_dims("chain").transpose("chain", "draw", ...))

    def with_posterior(self, posterior: xr.Dataset | xr.DataTree) -> FittedModel:
        """The same model and arrays with other draws (a thinned or another fit's posterior)."""
        return replace(self, idata=_tree(posterior))


def _tree(posterior: xr.Dataset | xr.DataTree) -> xr.DataTree:
    if isinstance(posterior, xr.DataTree):
        return posterior
    return xr.DataTree.from_dict({"posterior": posterior})
