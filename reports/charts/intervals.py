"""Horizontal interval charts: scenarios compared at the horizon, and priors vs posteriors.

Why one generic chart: both questions are "where is each estimate and how uncertain is it",
a dot with an interval per row, grouped under a label. Markers differ in shape (pathways) or
fill (hollow prior, filled posterior) so the chart reads in greyscale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import polars as pl

from reports.charts.svg import (
    MUTED,
    OTHER_STYLE,
    PATHWAY_STYLES,
    Linear,
    Style,
    figure,
    legend,
    marker,
    nice_ticks,
    padded_range,
    segment,
    text,
    text_width,
    x_axis,
)
from reports.content import PATHWAY_NAMES, PATHWAYS, driver_name
from reports.fmt import MINUS, pct

PRIOR = Style("#777777", "", "circle", hollow=True)
_ITEM = 13.0
_GROUP_PAD = 10.0


@dataclass(frozen=True)
class IntervalRow:
    """One estimate: the group it belongs to, its mean and interval, and how it is drawn."""

    group: str
    mean: float
    low: float
    high: float
    style: Style
    note: str = ""


def _wrap(label: str, width: float) -> list[str]:
    lines: list[str] = []
    for word in label.split():
        if lines and text_width(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def interval_chart(
    rows: Sequence[IntervalRow],
    chart_id: str,
    label: str,
    domain: tuple[float, float],
    tick_fmt: Callable[[float], str],
    key: Sequence[tuple[str, Style]],
    width: float = 720,
    reference: float | None = None,
) -> str:
    """Dots with intervals, grouped by ``group`` (in first-seen order), legend ``key`` below."""
    groups = list(dict.fromkeys(r.group for r in rows))
    label_w = min(max(text_width(g) for g in groups) + 8, 250)
    notes = any(r.note for r in rows)
    left, right = label_w + 12, 110.0 if notes else 20.0
    xs = Linear(domain[0], domain[1], left, width - right)
    wrapped = {g: _wrap(g, label_w) for g in groups}
    y, parts, bands = 8.0, [], []
    for g in groups:
        members = [r for r in rows if r.group == g]
        block = max(len(members) * _ITEM, len(wrapped[g]) * 14) + _GROUP_PAD
        bands.append((g, y, block))
        mid = y + block / 2
        first = mid - (len(wrapped[g]) - 1) * 7
        parts += [
            text(label_w, first + 4 + 14 * i, line, anchor="end")
            for i, line in enumerate(wrapped[g])
        ]
        start = mid - (len(members) - 1) * _ITEM / 2
        for i, r in enumerate(members):
            ry = start + i * _ITEM
            parts.append(segment(xs(r.low), ry, xs(r.high), ry, r.style.color, 2.0))
            parts.append(marker(r.style.marker, xs(r.mean), ry, r.style.color, 4.0, r.style.hollow))
            if r.note:
                parts.append(text(width - right + 8, ry + 4, r.note, size=11, fill=MUTED))
        y += block
    shade = [
        f'<rect x="0" y="{b_y:.1f}" width="{width:.1f}" height="{block:.1f}" fill="#f3f3f3"/>'
        for i, (_, b_y, block) in enumerate(bands)
        if i % 2 == 1
    ]
    scale = [(t, tick_fmt(t)) for t in nice_ticks(*domain, 5)]
    axis_markup = x_axis(xs, scale, 8, y)
    ref = segment(xs(reference), 8, xs(reference), y, MUTED, 1.2) if reference is not None else ""
    key_markup, key_h = legend(key, left, y + 38, width - left, swatch="marker")
    height = y + 38 + key_h
    body = "".join([*shade, axis_markup, ref, *parts, key_markup])
    return figure(chart_id, width, height, label, body)


def scenario_chart(horizon: pl.DataFrame, scenarios: pl.DataFrame, chart_id: str) -> str:
    """Each scenario's three pathway probabilities at the horizon with 90% intervals."""
    at = horizon.filter(pl.col("measure") == "pathway_at_horizon")
    rows = []
    for name, title in scenarios.select("name", "title").iter_rows():
        for p in PATHWAYS:
            hit = at.filter((pl.col("scenario") == name) & (pl.col("pathway") == p))
            if hit.height:
                r = hit.row(0, named=True)
                rows.append(IntervalRow(title, r["mean"], r["q05"], r["q95"], PATHWAY_STYLES[p]))
    key = [(PATHWAY_NAMES[p], PATHWAY_STYLES[p]) for p in PATHWAYS]
    label = "Pathway probabilities at the horizon by scenario, with 90% intervals"
    return interval_chart(rows, chart_id, label, (0.0, 1.0), pct, key)


def effects_chart(effects: pl.DataFrame, chart_id: str, mass: float) -> str:
    """Prior (hollow, grey) and posterior (filled) of each driver effect, same interval mass.

    The prior interval is mean +- z * sd, exact for the normal priors the model uses.
    """
    z = NormalDist().inv_cdf(0.5 + mass / 2)
    rows = []
    for e in effects.iter_rows(named=True):
        group = f"{driver_name(e['term'])} → {e['dest']}"
        spread = z * e["prior_sd"]
        note = "prior-dominated" if e["prior_dominated"] else ""
        rows.append(
            IntervalRow(
                group,
                e["prior_mean"],
                e["prior_mean"] - spread,
                e["prior_mean"] + spread,
                PRIOR,
            )
        )
        style = PATHWAY_STYLES.get(e["dest"], OTHER_STYLE)
        rows.append(
            IntervalRow(group, e["post_mean"], e["hdi_lower"], e["hdi_upper"], style, note=note)
        )
    lo, hi = padded_range([0.0, *(v for r in rows for v in (r.low, r.high))], 0.04)
    destinations = dict.fromkeys(effects["dest"].to_list())
    key = [("Prior (hollow)", PRIOR)]
    key += [(f"Posterior, effect on {d}", PATHWAY_STYLES.get(d, OTHER_STYLE)) for d in destinations]
    label = f"Prior and posterior of each driver effect, {mass:.0%} intervals"
    return interval_chart(
        rows, chart_id, label, (lo, hi), lambda t: f"{t:g}".replace("-", MINUS), key, reference=0.0
    )
