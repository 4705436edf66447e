"""Where the sampler's chains start: one independent prior draw per chain.

Why prior draws and not data quantiles: a fit that is healthy only when every chain starts
near the answer the data suggest has not shown that the posterior has one mode; chains that
start far apart (as far apart as the prior allows) and still agree have. The draws ignore the
likelihood (a ``pm.Potential``), so they are the prior exactly; a draw of a variable with an
ordered transform is sorted into that order, which is its prior conditioned on the ordering.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
from pymc.distributions.transforms import Ordered


def prior_initvals(model: pm.Model, chains: int, seed: int) -> list[dict[str, np.ndarray]]:
    """One start per chain: every free variable drawn from its prior (reproducible by seed)."""
    free = list(model.free_RVs)
    draws = pm.draw(free, draws=chains, random_seed=seed)
    starts: list[dict[str, np.ndarray]] = [{} for _ in range(chains)]
    for rv, values in zip(free, draws, strict=True):
        transform = model.rvs_to_transforms.get(rv)
        for chain in range(chains):
            value = np.asarray(values[chain], dtype=float)
            if isinstance(transform, Ordered):
                value = np.sort(value, axis=-1)
                if not transform.ascending:
                    value = value[..., ::-1]
            starts[chain][rv.name] = value
    return starts
