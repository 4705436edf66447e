"""The input contract between the monthly panel (built in flows/) and the pathway model.

Why a frozen dataclass of plain arrays: the model must not know where the numbers came from
(DuckDB, a CSV, a simulator), and everything it fits is identified by these arrays alone, so
their hash (:meth:`ModelData.data_hash`) is the data half of a posterior's identity.

Conventions the model relies on (checked in ``__post_init__`` so a bad panel fails here, not
as a NaN deep inside a sampler):

- state order is DC (decoupling), SE (selective engagement), MC (managed competition);
- ``drivers[t]`` are last-month-ready values: the transition *into* month ``t`` uses
  ``drivers[t - 1]``; drivers are standardised and complete (no NaN);
- ``series`` may have NaN for missing months; ``series_names[0]`` is the tension series
  (higher = more tension);
- ``labels`` are noisy pathway labels from the curated timeline, ``-1`` = no label;
- ``counts`` are event counts per month (non-negative whole numbers), NaN where a count does
  not exist that month (before a source starts or after it ends: a structural gap, not zero).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

STATES: tuple[str, ...] = ("DC", "SE", "MC")
N_STATES = len(STATES)
NO_LABEL = -1


class DataError(ValueError):
    """Model data that breaks the input contract; the message names the offending array."""


@dataclass(frozen=True)
class ModelData:
    months: np.ndarray  # datetime64[M], shape (T,)
    drivers: np.ndarray  # (T, K) standardised, complete
    driver_names: tuple[str, ...]
    series: np.ndarray  # (T, M), NaN = missing
    series_names: tuple[str, ...]
    labels: np.ndarray  # (T,) int in {-1, 0, 1, 2}
    counts: np.ndarray | None = None  # (T, C) whole numbers, NaN = no such count that month
    count_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Copies, so freezing them below never makes the caller's arrays read-only.
        months = np.array(self.months).astype("datetime64[M]")
        drivers = np.array(self.drivers, dtype=float)
        series = np.array(self.series, dtype=float)
        labels = np.array(self.labels)
        t = months.shape[0]
        counts = np.zeros((t, 0)) if self.counts is None else np.array(self.counts, dtype=float)
        if months.ndim != 1 or t < 2:
            raise DataError(f"months: need a 1-D array of at least 2 months, got {months.shape}")
        if np.any(np.diff(months).astype(int) != 1):
            raise DataError("months: must be consecutive calendar months without gaps")
        if drivers.ndim != 2 or drivers.shape[0] != t:
            raise DataError(f"drivers: expected shape ({t}, K), got {drivers.shape}")
        if drivers.shape[1] != len(self.driver_names):
            raise DataError("driver_names: one name per drivers column")
        if not np.all(np.isfinite(drivers)):
            raise DataError("drivers: must be complete (no NaN or inf); impute before modelling")
        if series.ndim != 2 or series.shape[0] != t or series.shape[1] < 1:
            raise DataError(f"series: expected shape ({t}, M>=1), got {series.shape}")
        if series.shape[1] != len(self.series_names):
            raise DataError("series_names: one name per series column")
        if np.any(np.isinf(series)):
            raise DataError("series: inf values; use NaN for missing months")
        if counts.ndim != 2 or counts.shape[0] != t:
            raise DataError(f"counts: expected shape ({t}, C), got {counts.shape}")
        if counts.shape[1] != len(self.count_names):
            raise DataError("count_names: one name per counts column")
        finite = counts[np.isfinite(counts)]
        if np.any(np.isinf(counts)) or np.any(finite < 0) or np.any(finite != np.round(finite)):
            raise DataError("counts: must be whole numbers >= 0, NaN where a count does not exist")
        if labels.shape != (t,) or not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"labels: expected integer array of shape ({t},)")
        if not np.all(np.isin(labels, (NO_LABEL, *range(N_STATES)))):
            raise DataError("labels: values must be -1 (no label), 0=DC, 1=SE or 2=MC")
        for name, names in (
            ("driver_names", self.driver_names),
            ("series_names", self.series_names),
            ("count_names", self.count_names),
        ):
            if len(set(names)) != len(names):
                raise DataError(f"{name}: duplicate names {list(names)}")
        for name, value in (
            ("months", months),
            ("drivers", drivers),
            ("series", series),
            ("labels", labels.astype(np.int64)),
            ("counts", counts),
        ):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "driver_names", tuple(self.driver_names))
        object.__setattr__(self, "series_names", tuple(self.series_names))
        object.__setattr__(self, "count_names", tuple(self.count_names))

    @property
    def n_months(self) -> int:
        return int(self.months.shape[0])

    def data_hash(self) -> str:
        """sha256 over names, shapes and the exact bytes of every array (NaN-safe)."""
        h = hashlib.sha256()
        h.update(repr((self.driver_names, self.series_names)).encode())
        for arr in (self.months.astype(np.int64), self.drivers, self.series, self.labels):
            contiguous = np.ascontiguousarray(arr)
            h.update(repr((contiguous.dtype.str, contiguous.shape)).encode())
            h.update(contiguous.tobytes())
        if self.count_names:  # panels without counts keep the hash they always had
            h.update(repr(self.count_names).encode())
            h.update(np.ascontiguousarray(self.counts).tobytes())
        return h.hexdigest()

    def select(
        self,
        series: tuple[str, ...] | list[str],
        drivers: tuple[str, ...] | list[str],
        start: np.datetime64 | None = None,
        counts: tuple[str, ...] | list[str] = (),
    ) -> ModelData:
        """The sub-panel a config asks for, in the config's order, from ``start`` on.

        Raises :class:`DataError` naming the config field (``series`` / ``drivers`` /
        ``start``) when the panel does not have what is asked for.
        """
        for field, wanted, have in (
            ("series", series, self.series_names),
            ("drivers", drivers, self.driver_names),
            ("counts", counts, self.count_names),
        ):
            missing = [name for name in wanted if name not in have]
            if missing:
                raise DataError(f"{field}: unknown {missing}; the data has {list(have)}")
        first = 0
        if start is not None:
            start = np.datetime64(start, "M")
            if start < self.months[0] or start > self.months[-2]:
                raise DataError(
                    f"start: {start} is outside the data ({self.months[0]} .. {self.months[-1]})"
                )
            first = int((start - self.months[0]).astype(int))
        s_idx = [self.series_names.index(n) for n in series]
        d_idx = [self.driver_names.index(n) for n in drivers]
        c_idx = [self.count_names.index(n) for n in counts]
        return ModelData(
            months=self.months[first:],
            drivers=self.drivers[first:, d_idx],
            driver_names=tuple(drivers),
            series=self.series[first:, s_idx],
            series_names=tuple(series),
            labels=self.labels[first:],
            counts=self.counts[first:, c_idx],
            count_names=tuple(counts),
        )
