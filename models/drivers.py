"""From the monthly panel to the model's inputs: Putnam's composite drivers, the observed
series, and the timeline's noisy pathway labels.

Why composites: a dozen raw indicators and a handful of regime switches cannot identify a
dozen effects, so indicators are grouped as the two-level game groups them and averaged with
declared signs before fitting. Each composite is the mean of its available components'
z-scores (signed so that *higher = wider win-set*, or *higher = more international tension*
for ``INTL``), re-standardised. All means and standard deviations come from the training
window only (``start`` .. ``train_end``), so a backtest never standardises with the future.

Missing values, explicitly: a component is carried forward for up to ``CARRY_MONTHS`` months
(the publication lag of a monthly release: the latest figure is what a forecaster would use);
beyond that a component missing in a month is left out of that month's mean. A month where
every component is missing carries the composite's last value (a persistence nowcast; 0, the
training mean, before the first observation) and is counted in :attr:`Drivers.imputed`,
which reports show. The largest such gap is US
presidential approval after January 2025 (the bundle has no second-term polls), so ``W_US``
rests on the election calendar, inflation and unemployment from then on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from models.data import NO_LABEL, STATES, ModelData


class Component(BaseModel):
    """One panel column inside a composite, with the sign that makes it point the right way."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str
    sign: Literal[1, -1] = 1
    transform: Literal["level", "log1p", "change12"] = "level"
    why: str = Field(min_length=1)


class Composite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    components: tuple[Component, ...] = Field(min_length=1)


DEFAULT_COMPOSITES: tuple[Composite, ...] = (
    Composite(
        name="W_US",
        components=(
            Component(column="approval", why="a popular president has room to make deals"),
            Component(
                column="months_to_us_election",
                why="far from an election, concessions cost less at home",
            ),
            Component(
                column="cpi_yoy_pct",
                why="price pressure makes tariff relief popular, widening the deals voters accept",
            ),
            Component(
                column="unrate",
                sign=-1,
                why="job losses feed protectionist pressure, narrowing the win-set",
            ),
        ),
    ),
    Composite(
        name="W_CN",
        components=(
            Component(
                column="imports_yoy_pct",
                sign=-1,
                why="falling exports to the US raise Beijing's stake in a deal (US imports "
                "from China are China's exports)",
            ),
            Component(
                column="epu_china",
                sign=-1,
                why="domestic policy uncertainty leaves less room for concessions",
            ),
            Component(
                column="cny_per_usd",
                sign=-1,
                transform="change12",
                why="a weakening yuan cushions tariffs, lowering the need to concede",
            ),
        ),
    ),
    Composite(
        name="INTL",
        components=(
            Component(
                column="aigpr_china_taiwan",
                transform="log1p",
                why="cross-Strait risk (AI-GPR China|Taiwan)",
            ),
            Component(
                column="aigpr_russia_ukraine",
                transform="log1p",
                why="the Russia-Ukraine war and alliance pressure (AI-GPR)",
            ),
            Component(column="gpr", why="global geopolitical risk (Caldara-Iacoviello GPR)"),
        ),
    ),
)
INTERACTION_SEPARATOR = "_x_"
CARRY_MONTHS = 3


# Observed (emission) series the model can use: name -> expression over panel columns.
OBSERVED_SERIES: Mapping[str, pl.Expr] = {
    "bilateral_tension": (pl.col("aigpr_usa_china") + pl.col("aigpr_china_usa")).log1p(),
    # Bridged months (2020-04..2025-01, no tracker) are a carried-forward value, not an
    # observation: as an emission they would claim a constant tariff with zero noise.
    "us_tariff": pl.when(pl.col("tariff_source") != "bridged").then(pl.col("us_tariff_pct")),
    "gdelt_cooperation": pl.col("gdelt_edge_share"),
    "gdelt_goldstein": pl.col("gdelt_goldstein"),
    "gdelt_conflict_share": pl.col("gdelt_quad3_share") + pl.col("gdelt_quad4_share"),
}

SIGNAL_STATE = {
    "decoupling": STATES.index("DC"),
    "selective_engagement": STATES.index("SE"),
    "managed_competition": STATES.index("MC"),
}


@dataclass(frozen=True)
class Drivers:
    frame: pl.DataFrame  # month + one standardised column per composite (and interaction)
    imputed: dict[str, int]  # months filled with the training mean, per composite


def _transformed(c: Component) -> pl.Expr:
    col = pl.col(c.column).cast(pl.Float64)
    if c.transform == "log1p":
        col = col.log1p()
    elif c.transform == "change12":
        col = col - col.shift(12)
    return (c.sign * col).forward_fill(limit=CARRY_MONTHS).alias(c.column)


def _zscore(values: pl.Series, train: np.ndarray) -> np.ndarray:
    x = values.to_numpy().astype(float)
    mean, sd = np.nanmean(x[train]), np.nanstd(x[train])
    if not np.isfinite(sd) or sd == 0:
        return np.full_like(x, np.nan)
    return (x - mean) / sd


def composite_drivers(
    panel: pl.DataFrame,
    names: tuple[str, ...],
    start: dt.date,
    train_end: dt.date | None = None,
    composites: tuple[Composite, ...] = DEFAULT_COMPOSITES,
) -> Drivers:
    """The named drivers from ``start`` on, standardised on ``start`` .. ``train_end``."""
    by_name = {c.name: c for c in composites}
    base = [n for n in names if INTERACTION_SEPARATOR not in n]
    for name in base:
        if name not in by_name:
            raise ValueError(f"drivers: no composite called {name!r} (have {list(by_name)})")
    ordered = panel.sort("month")
    months = ordered["month"]
    in_window = (months >= start).to_numpy()
    train = in_window & ((months <= train_end).to_numpy() if train_end else True)
    columns: dict[str, np.ndarray] = {}
    imputed: dict[str, int] = {}
    for name in base:
        parts = ordered.select(_transformed(c) for c in by_name[name].components)
        z = np.column_stack([_zscore(parts[c], train) for c in parts.columns])
        finite = np.isfinite(z)
        count = finite.sum(axis=1)
        mean = np.where(
            count > 0, np.where(finite, z, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan
        )
        composite = _zscore(pl.Series(mean), train)
        imputed[name] = int((~np.isfinite(composite) & in_window).sum())
        carried = pl.Series(composite).fill_nan(None).forward_fill().fill_null(0.0)
        columns[name] = carried.to_numpy()
    for name in names:
        if INTERACTION_SEPARATOR in name:
            left, right = name.split(INTERACTION_SEPARATOR, 1)
            if left not in columns or right not in columns:
                raise ValueError(f"drivers: {name!r} needs {left!r} and {right!r} as drivers")
            columns[name] = columns[left] * columns[right]
    frame = pl.DataFrame({"month": months, **{n: columns[n] for n in names}})
    return Drivers(frame.filter(pl.col("month") >= start), imputed)


def observed_series(panel: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """Month plus the named emission series (nulls where a month is unobserved)."""
    unknown = [n for n in names if n not in OBSERVED_SERIES]
    if unknown:
        raise ValueError(f"series: unknown {unknown} (have {list(OBSERVED_SERIES)})")
    return panel.sort("month").select("month", *(OBSERVED_SERIES[n].alias(n) for n in names))


def timeline_labels(panel: pl.DataFrame) -> np.ndarray:
    """One noisy label per month: the pathway most of the month's timeline events signal.

    Months without a pathway signal, or where two pathways tie, are unlabelled (-1); "shock"
    events move drivers but signal no pathway, so they never label a month.
    """
    counts = np.column_stack(
        [panel.sort("month")[f"signal_{s}"].fill_null(0).to_numpy() for s in SIGNAL_STATE]
    )
    labels = np.full(counts.shape[0], NO_LABEL)
    top = counts.max(axis=1)
    unique = (counts == top[:, None]).sum(axis=1) == 1
    chosen = (top > 0) & unique
    states = np.array(list(SIGNAL_STATE.values()))
    labels[chosen] = states[counts[chosen].argmax(axis=1)]
    return labels


def model_data(
    panel: pl.DataFrame,
    series: tuple[str, ...],
    drivers: tuple[str, ...],
    start: dt.date,
    train_end: dt.date | None = None,
    composites: tuple[Composite, ...] = DEFAULT_COMPOSITES,
) -> tuple[ModelData, Drivers]:
    """Everything the HMM needs from the panel, from ``start`` to the panel's last month."""
    months = panel["month"]
    if not months.min() <= start < months.max():
        raise ValueError(
            f"start: {start:%Y-%m} is outside the panel ({months.min():%Y-%m} .. "
            f"{months.max():%Y-%m})"
        )
    composite = composite_drivers(panel, drivers, start, train_end, composites)
    window = panel.sort("month").filter(pl.col("month") >= start)
    observed = observed_series(window, series)
    data = ModelData(
        months=window["month"].to_numpy().astype("datetime64[M]"),
        drivers=composite.frame.select(drivers).to_numpy().reshape(window.height, len(drivers)),
        driver_names=drivers,
        series=observed.select(series).to_numpy().astype(float),
        series_names=series,
        labels=timeline_labels(window),
    )
    return data, composite
