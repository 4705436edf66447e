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
every component is missing carries the composite's last value for at most the composite's
``max_carry_months`` after its last observation; after that, and before the first
observation, the composite is 0 (the training mean). Every month of every composite gets a
flag (:attr:`Drivers.flags`): ``observed`` (at least one component published that month),
``carried_forward`` (with the months since the last observation), ``before_first_observation``
or ``beyond_carry_limit``, and the number of components observed. The warehouse stores them
with each fit and reports show them, so no value is filled silently. The largest gaps are US
presidential approval after January 2025 (the bundle has no second-term polls), so ``W_US``
rests on the election calendar, inflation and unemployment from then on, and the geopolitical
risk indices behind ``INTL``, which end in December 2025.

The overlap of the win-sets (``W_US_x_W_CN``) is :func:`overlap`, not the product of the two
z-scores: a product of z-scores is positive when *both* win-sets are narrow (-2 x -2 = 4), yet
Putnam's overlap, the set of deals both sides can ratify, shrinks when either narrows.

Known future paths: a component in :data:`models.calendar_drivers.KNOWN_COLUMNS` (the election
countdown) enters its composite as in every other month, and its share of the composite is
kept apart (:attr:`Drivers.known`) so the forecast can project it exactly instead of
simulating it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from models.calendar_drivers import KNOWN_COLUMNS
from models.data import NO_LABEL, STATES, ModelData

# A year: long enough to bridge the bundle's end-of-panel gaps (the risk indices behind INTL
# end eight months before the panel does), short enough that a stale figure never stands in
# for a second year; every carried month is flagged either way.
DEFAULT_MAX_CARRY_MONTHS = 12


class Component(BaseModel):
    """One panel column inside a composite, with the sign that makes it point the right way."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str
    sign: Literal[1, -1] = 1
    transform: Literal["level", "log1p", "change12"] = "level"
    why: str = Field(min_length=1)


class Composite(BaseModel):
    """A named driver: the mean of its components' z-scores, re-standardised.

    ``max_carry_months``: how long after its last observation the composite may carry its
    last value when every component is missing (then it is the training mean, flagged).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    components: tuple[Component, ...] = Field(min_length=1)
    max_carry_months: int = Field(DEFAULT_MAX_CARRY_MONTHS, ge=0)


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
    # One definition over the whole span: the 2025-26 tracker's months are put on the
    # statutory definition of 2015-2020 (flows.sources.tariffs.statutory_shift).
    "us_tariff": pl.when(pl.col("tariff_source") != "bridged").then(
        pl.col("us_tariff_statutory_pct")
    ),
    # The tracker's own definition, kept to measure what the change of definition did.
    "us_tariff_as_published": pl.when(pl.col("tariff_source") != "bridged").then(
        pl.col("us_tariff_pct")
    ),
    "gdelt_cooperation": pl.col("gdelt_edge_share"),
    "gdelt_goldstein": pl.col("gdelt_goldstein"),
    "gdelt_conflict_share": pl.col("gdelt_quad3_share") + pl.col("gdelt_quad4_share"),
}

# Timeline categories by what the essay says each pathway consists of: negotiation (managed
# competition), restrictions and confrontation (decoupling), cooperation on narrow issues
# (selective engagement); "international" and "legal" events are shocks and counted nowhere.
_TIMELINE_DIALOGUE = pl.sum_horizontal("events_summit", "events_agreement", ignore_nulls=False)

# Event counts the model can use (count emissions): name -> expression over panel columns,
# null in months where the count does not exist. What each stands for in the essay is in
# models/hmm.py; the timeline's categories are flows.sources.timeline.CATEGORIES.
OBSERVED_COUNTS: Mapping[str, pl.Expr] = {
    # Negotiation and dialogue: high-level US-China meetings in the State Department's lists
    # (2001 .. 2024-11) and summits and agreements in the curated timeline (2017-08 ..
    # 2026-05). Where both exist the larger count is taken, since a summit is often in both.
    "dialogue": pl.max_horizontal("us_china_meetings", _TIMELINE_DIALOGUE),
    # Each source alone.
    "dialogue_events": _TIMELINE_DIALOGUE,
    "leader_meetings": pl.col("us_china_meetings"),
    # Tariffs, export controls, sanctions and security moves in the timeline.
    "restrictive_events": pl.sum_horizontal(
        "events_tariffs", "events_export_controls", "events_security", ignore_nulls=False
    ),
    # Cooperation on narrow issues (climate, health) in the timeline.
    "issue_cooperation_events": pl.col("events_climate_health"),
    # PLA aircraft around Taiwan in the month's reported days (Taiwan MND, from 2020-09):
    # earlier months are unreported, not zero.
    "pla_aircraft": (pl.col("pla_aircraft_per_day") * pl.col("pla_days_reported")).round(),
}

SIGNAL_STATE = {
    "decoupling": STATES.index("DC"),
    "selective_engagement": STATES.index("SE"),
    "managed_competition": STATES.index("MC"),
}


FLAG_STATUSES = ("observed", "carried_forward", "before_first_observation", "beyond_carry_limit")


def overlap(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Putnam's overlap of two win-sets, ``4 * logistic(a) * logistic(b) - 1``.

    Why this form: it rises with each win-set (strictly, everywhere) and shrinks toward its
    floor of -1 when *either* one narrows, whatever the other does; the logistic maps each
    z-score to a share of room (0 closed, 1 wide open) and the product is the room both leave.
    The affine ``4 x - 1`` puts it at 0 when both win-sets are at their training mean (like
    the other drivers) with a slope of 1/2 per SD there; its range is (-1, 3). No constants
    come from the data, so the forecast recomputes it from simulated win-sets exactly as here.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    dtype = np.result_type(a, b, np.float32)
    one = dtype.type(1.0)
    room = np.multiply(one / (one + np.exp(-a)), one / (one + np.exp(-b)), out=out)
    room *= dtype.type(4.0)
    room -= one
    return room


@dataclass(frozen=True)
class KnownPart:
    """The share of a composite that comes from a component with a known future.

    The composite is ``(sum of available z-scores / count - centre) / scale``, so a component
    with z-score ``z`` contributes ``z / (count * scale)``. ``history`` is that contribution in
    every month of :attr:`Drivers.frame`; :meth:`project` gives it in future months, with the
    count of the last month (components missing at the origin are assumed to stay missing).
    """

    driver: str
    column: str
    sign: int
    centre: float  # the component's training mean (after sign and transform)
    sd: float  # the component's training sd
    weight: float  # 1 / (components used in the last month * the composite's scale)
    history: np.ndarray  # (T,) contribution per month of the frame
    last_month: np.datetime64  # the frame's last month (datetime64[M])

    def project(self, months: np.ndarray) -> np.ndarray:
        """(H,) the contribution in ``months`` (datetime64[M]), from the calendar."""
        values = KNOWN_COLUMNS[self.column](np.asarray(months).astype("datetime64[M]"))
        return (self.sign * values.astype(float) - self.centre) / self.sd * self.weight


@dataclass(frozen=True)
class Drivers:
    """The composites, how each month of each was filled, and their known-future parts.

    ``flags`` has one row per month (from ``start``) and base driver: ``status`` (one of
    :data:`FLAG_STATUSES`), ``months_since_observed`` (0 when observed, null before the
    first observation) and ``components_observed`` (components published that month, out of
    ``components``). Interactions inherit the flags of their parts.
    """

    frame: pl.DataFrame  # month + one standardised column per composite (and interaction)
    flags: pl.DataFrame
    known: tuple[KnownPart, ...] = ()


def _transformed(c: Component) -> pl.Expr:
    col = pl.col(c.column).cast(pl.Float64)
    if c.transform == "log1p":
        col = col.log1p()
    elif c.transform == "change12":
        col = col - col.shift(12)
    return (c.sign * col).fill_nan(None).alias(c.column)


def _standardiser(x: np.ndarray, train: np.ndarray) -> tuple[float, float]:
    """Training mean and sd of ``x`` (sd NaN when it cannot standardise)."""
    mean, sd = float(np.nanmean(x[train])), float(np.nanstd(x[train]))
    return mean, (sd if np.isfinite(sd) and sd > 0 else float("nan"))


def _months_since(observed: np.ndarray) -> np.ndarray:
    """Months since the last ``True`` (0 in such a month; NaN before the first)."""
    index = np.arange(observed.shape[0], dtype=float)
    last = np.where(observed, index, np.nan)
    last = pl.Series(last).fill_nan(None).forward_fill().to_numpy().astype(float)
    return index - last


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
    flags: list[pl.DataFrame] = []
    known: list[KnownPart] = []
    last_month = np.datetime64(months.max(), "M")
    for name in base:
        spec = by_name[name]
        raw = ordered.select(_transformed(c) for c in spec.components)
        fresh = raw.select(pl.all().is_not_null()).to_numpy()
        limit = min(CARRY_MONTHS, spec.max_carry_months)
        carried = raw.select(pl.all().forward_fill(limit=limit)).to_numpy().astype(float)
        params = [_standardiser(carried[:, j], train) for j in range(carried.shape[1])]
        z = np.column_stack([(carried[:, j] - m) / sd for j, (m, sd) in enumerate(params)])
        finite = np.isfinite(z)
        count = finite.sum(axis=1)
        mean = np.where(
            count > 0, np.where(finite, z, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan
        )
        centre, scale = _standardiser(mean, train)
        composite = (mean - centre) / scale
        since = _months_since(fresh.any(axis=1))
        carry = pl.Series(composite).fill_nan(None).forward_fill().to_numpy().astype(float)
        within = since <= spec.max_carry_months  # False before the first observation (NaN)
        gap = ~np.isfinite(composite)
        columns[name] = np.where(gap, np.where(within & np.isfinite(carry), carry, 0.0), composite)
        status = np.select(
            [since == 0, ~np.isfinite(since), gap & ~within],
            ["observed", "before_first_observation", "beyond_carry_limit"],
            "carried_forward",
        )
        flags.append(
            pl.DataFrame(
                {
                    "month": months,
                    "driver": name,
                    "status": status,
                    "months_since_observed": pl.Series(since).fill_nan(None).cast(pl.Int64),
                    "components_observed": fresh.sum(axis=1).astype(np.int64),
                    "components": len(spec.components),
                }
            ).filter(pl.Series(in_window))
        )
        for j, c in enumerate(spec.components):
            if c.column in KNOWN_COLUMNS and c.transform == "level":
                share = np.where(finite[:, j] & ~gap, z[:, j] / (np.maximum(count, 1) * scale), 0)
                m, sd = params[j]
                known.append(
                    KnownPart(
                        driver=name,
                        column=c.column,
                        sign=c.sign,
                        centre=m,
                        sd=sd,
                        weight=1.0 / (max(int(count[-1]), 1) * scale),
                        history=share[in_window],
                        last_month=last_month,
                    )
                )
    for name in names:
        if INTERACTION_SEPARATOR in name:
            left, right = name.split(INTERACTION_SEPARATOR, 1)
            if left not in columns or right not in columns:
                raise ValueError(f"drivers: {name!r} needs {left!r} and {right!r} as drivers")
            columns[name] = overlap(columns[left], columns[right])
    frame = pl.DataFrame({"month": months, **{n: columns[n] for n in names}})
    return Drivers(frame.filter(pl.col("month") >= start), pl.concat(flags), tuple(known))


def observed_series(panel: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """Month plus the named emission series (nulls where a month is unobserved)."""
    unknown = [n for n in names if n not in OBSERVED_SERIES]
    if unknown:
        raise ValueError(f"series: unknown {unknown} (have {list(OBSERVED_SERIES)})")
    return panel.sort("month").select("month", *(OBSERVED_SERIES[n].alias(n) for n in names))


def observed_counts(panel: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """Month plus the named event counts (nulls where a count does not exist)."""
    unknown = [n for n in names if n not in OBSERVED_COUNTS]
    if unknown:
        raise ValueError(f"counts: unknown {unknown} (have {list(OBSERVED_COUNTS)})")
    return panel.sort("month").select(
        "month", *(OBSERVED_COUNTS[n].cast(pl.Float64).alias(n) for n in names)
    )


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
    counts: tuple[str, ...] = (),
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
        counts=(
            observed_counts(window, counts).select(counts).to_numpy().astype(float)
            if counts
            else None
        ),
        count_names=counts,
    )
    return data, composite


def flag_summary(flags: pl.DataFrame) -> pl.DataFrame:
    """Per driver (first-seen order): months in each :data:`FLAG_STATUSES`, observed months
    with some components missing (``partial``), the longest run carried forward, and the
    status of the last month (the forecast's starting point) with its months since the last
    observation (``last_since``: 0 when observed, null before the first observation), so a
    report can flag a forecast that starts from an old value."""
    ordered = flags.sort("month")
    counts = ordered.group_by("driver", maintain_order=True).agg(
        *(
            (pl.col("status") == status).sum().cast(pl.Int64).alias(status)
            for status in FLAG_STATUSES
        ),
        pl.col("months_since_observed")
        .filter(pl.col("status") == "carried_forward")
        .max()
        .fill_null(0)
        .cast(pl.Int64)
        .alias("longest_carry"),
        ((pl.col("status") == "observed") & (pl.col("components_observed") < pl.col("components")))
        .sum()
        .cast(pl.Int64)
        .alias("partial"),
        pl.col("status").last().alias("last_status"),
        pl.col("months_since_observed").last().cast(pl.Int64).alias("last_since"),
    )
    return counts.select(
        "driver",
        "observed",
        "partial",
        "carried_forward",
        "longest_carry",
        "before_first_observation",
        "beyond_carry_limit",
        "last_status",
        "last_since",
    )
