"""The arrays a fit's likelihood reads, derived once from the data and the config.

Why a module of its own: every reader of a fit (state probabilities, checks, forecasts,
backtests, the ledger) needs the same standardised series, label one-hots and count arrays the
sampler saw, and must get them without importing PyMC. :class:`models.fitted.FittedModel`
carries one :class:`Prepared` from the fit (or the load) to all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from models.config import ModelConfig
from models.data import N_STATES, NO_LABEL, DataError, ModelData

MIN_OBSERVED = 3


@dataclass(frozen=True)
class Prepared:
    """Arrays the likelihood uses, derived from the selected data."""

    data: ModelData
    y: np.ndarray  # (T, M) standardised, 0 where missing
    mask: np.ndarray  # (T, M) 1.0 where observed
    center: np.ndarray  # (M,)
    scale: np.ndarray  # (M,)
    label_onehot: np.ndarray  # (T, S), all-zero rows where unlabelled
    counts: np.ndarray  # (T, C) event counts, 0 where the count does not exist
    count_mask: np.ndarray  # (T, C) 1.0 where the count exists
    count_centre: np.ndarray  # (C,) log of the mean observed count
    count_lgamma: np.ndarray  # (T, C) log(count!), the constant of both count families
    negative_binomial: np.ndarray  # (C,) bool: negative binomial, else Poisson

    @property
    def has_labels(self) -> bool:
        return bool(self.label_onehot.any())

    @property
    def has_counts(self) -> bool:
        return self.counts.shape[1] > 0


def fitted_data(data: ModelData, config: ModelConfig) -> ModelData:
    """The sub-panel a fit of ``config`` uses; its hash decides whether new data need a refit."""
    return data.select(config.series, config.drivers, config.start_month, tuple(config.counts))


def prepare(data: ModelData, config: ModelConfig) -> Prepared:
    """Select the config's series/drivers/start and standardise; errors name the field."""
    sel = fitted_data(data, config)
    observed = np.isfinite(sel.series)
    for m, name in enumerate(sel.series_names):
        if observed[:, m].sum() < MIN_OBSERVED:
            raise DataError(f"series: {name!r} has fewer than {MIN_OBSERVED} observed months")
    center = np.nanmean(sel.series, axis=0)
    scale = np.nanstd(sel.series, axis=0)
    if np.any(scale <= 0):
        raise DataError(f"series: constant series in {list(sel.series_names)}")
    y = np.where(observed, (sel.series - center) / scale, 0.0)
    onehot = np.zeros((sel.n_months, N_STATES))
    labelled = (sel.labels != NO_LABEL) & config.label_emissions
    onehot[np.flatnonzero(labelled), sel.labels[labelled]] = 1.0
    exists = np.isfinite(sel.counts)
    for c, name in enumerate(sel.count_names):
        if exists[:, c].sum() < MIN_OBSERVED or np.nansum(sel.counts[:, c]) <= 0:
            raise DataError(
                f"counts: {name!r} needs {MIN_OBSERVED} observed months and at least one event"
            )
    counts = np.where(exists, sel.counts, 0.0)
    return Prepared(
        sel,
        y,
        observed.astype(float),
        center,
        scale,
        onehot,
        counts=counts,
        count_mask=exists.astype(float),
        count_centre=np.log(np.nanmean(sel.counts, axis=0)) if sel.count_names else np.zeros(0),
        count_lgamma=gammaln(counts + 1.0),
        negative_binomial=np.array(
            [config.counts[n] == "negative_binomial" for n in sel.count_names], dtype=bool
        ),
    )
