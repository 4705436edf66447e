"""The smoothed historical regime path as stacked areas, with the timeline's events marked.

Why patterns as well as colours: the stacked areas touch, and in greyscale print vermillion,
green and blue become similar greys; stripes (DC), a flat tint (SE) and dots (MC) keep the
three regimes apart. Events are markers above the plot (shape = the pathway the event
signals), stacked where they fall close together and labelled with their numbers in the
report's event table, plus a hairline at each event's date; each marker also carries a
``<title>`` with the event, which browsers show on hover without any script.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from reports.charts.svg import (
    MUTED,
    OTHER_STYLE,
    PATHWAY_STYLES,
    Linear,
    esc,
    figure,
    marker,
    month_index,
    n,
    polygon,
    segment,
    text,
    text_width,
    x_axis,
    y_axis,
    year_ticks,
)
from reports.content import PATHWAY_NAMES, PATHWAYS
from reports.fmt import pct

# The timeline's pathway_signal values and the pathway whose marker they use.
SIGNALS = {"decoupling": "DC", "selective_engagement": "SE", "managed_competition": "MC"}
_STEP = 8.0  # vertical distance between stacked event markers


def _patterns(chart_id: str) -> str:
    dc, se, mc = (PATHWAY_STYLES[p].color for p in PATHWAYS)
    return (
        "<defs>"
        f'<pattern id="{esc(chart_id)}-DC" width="7" height="7" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="7" height="7" fill="{dc}" '
        'fill-opacity="0.85"/><line x1="0" y1="0" x2="0" y2="7" stroke="#ffffff" '
        'stroke-width="2.5"/></pattern>'
        f'<pattern id="{esc(chart_id)}-SE" width="7" height="7" patternUnits="userSpaceOnUse">'
        f'<rect width="7" height="7" fill="{se}" fill-opacity="0.35"/></pattern>'
        f'<pattern id="{esc(chart_id)}-MC" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{mc}" fill-opacity="0.8"/>'
        '<circle cx="3" cy="3" r="1.3" fill="#ffffff"/></pattern>'
        "</defs>"
    )


def _clusters(xs: list[float], gap: float) -> list[list[int]]:
    """Consecutive events closer than ``gap`` to their cluster's first one share a column."""
    out: list[list[int]] = []
    for i, x in enumerate(xs):
        if out and x - xs[out[-1][0]] < gap:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def _event_markers(
    rows: list[dict], ex: list[float], clusters: list[list[int]], top: float, bottom: float
) -> str:
    """Per event a hairline at its date; per cluster a stack of markers and the number range.

    Why clusters: the timeline is dense where it matters (a dozen events in 2025), and
    numbered markers side by side would overprint; a stack keeps every event's signal
    visible and the label ("16–24") points into the event table.
    """
    parts = []
    for cluster in clusters:
        cx = ex[cluster[0]]
        first, last = rows[cluster[0]]["n"], rows[cluster[-1]]["n"]
        label = str(first) if first == last else f"{first}–{last}"
        for k, i in enumerate(cluster):
            event = rows[i]
            pathway = SIGNALS.get(event["pathway_signal"])
            style = PATHWAY_STYLES[pathway] if pathway else OTHER_STYLE
            tip = f"{event['n']}. {event['date'].isoformat()}: {event['event']}"
            parts.append(
                f"<g><title>{esc(tip)}</title>"
                + segment(ex[i], top, ex[i], bottom, "#00000040", 0.7)
                + marker(style.marker, cx, top - 7 - k * _STEP, style.color, r=3.2)
                + "</g>"
            )
        label_y = top - 7 - len(cluster) * _STEP - 2
        parts.append(text(cx - 3, label_y, label, size=10))
    return "".join(parts)


def regime_chart(
    regimes: pl.DataFrame, events: pl.DataFrame, chart_id: str, label: str, width: float = 720
) -> str:
    """Stacked smoothed probabilities (DC bottom, SE, MC top) with the events marked above.

    ``events`` has columns n (the number printed in the report's event table), date, event,
    pathway_signal; events outside the regime months are left off the chart.
    """
    left, right, bottom = 46.0, 14.0, 30.0
    frame = regimes.sort("month")
    months = frame["month"].to_list()
    lo, hi = month_index(months[0]), month_index(months[-1]) + 1
    xs = Linear(lo, hi, left, width - right)
    inside = events.filter(
        (pl.col("date") >= months[0]) & (pl.col("date") < _after(months[-1]))
    ).sort("date", "n")
    ex = [xs(month_index(d)) for d in inside["date"].to_list()]
    rows = list(inside.iter_rows(named=True))
    gap = text_width(f"{len(rows)}–{len(rows)}", 10) + 8
    clusters = _clusters(ex, gap)
    deepest = max((len(c) for c in clusters), default=0)
    top, plot_h = 10.0 + (deepest * _STEP + 14 if rows else 0), 210.0
    ys = Linear(0.0, 1.0, top + plot_h, top)
    body = [_patterns(chart_id)]
    total = [sum(v) or 1.0 for v in frame.select(PATHWAYS).iter_rows()]
    base = [0.0] * len(months)
    x = [xs(month_index(m)) for m in months]
    x_step = [*x, xs(hi)]
    for p in PATHWAYS:
        share = [v / t for v, t in zip(frame[p].to_list(), total, strict=True)]
        upper = [b + s for b, s in zip(base, share, strict=True)]
        points = _steps(x_step, upper, ys) + _steps(x_step, base, ys)[::-1]
        body.append(polygon(points, f"url(#{esc(chart_id)}-{p})"))
        base = upper
    body.append(y_axis(ys, [0, 0.5, 1.0], left, width - right, pct))
    body.append(x_axis(xs, year_ticks(lo, hi), top, top + plot_h))
    body.append(_event_markers(rows, ex, clusters, top, top + plot_h))
    key, key_h = _key(chart_id, left, top + plot_h + bottom + 6, width - left)
    body.append(key)
    return figure(chart_id, width, top + plot_h + bottom + key_h + 6, label, "".join(body))


def _after(month: dt.date) -> dt.date:
    """The first day of the month after ``month``."""
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def _steps(x: list[float], values: list[float], ys: Linear) -> list[tuple[float, float]]:
    """A step outline: each month's value held flat across that month."""
    out = []
    for i, v in enumerate(values):
        out += [(x[i], ys(v)), (x[i + 1], ys(v))]
    return out


def _key(chart_id: str, x0: float, y: float, max_width: float) -> tuple[str, float]:
    """Patch swatches for the regimes and marker shapes for the event signals."""
    items = [(f"url(#{esc(chart_id)}-{p})", None, PATHWAY_NAMES[p]) for p in PATHWAYS]
    signals = [(None, PATHWAY_STYLES[p], f"event: {PATHWAY_NAMES[p].lower()}") for p in PATHWAYS]
    items += [*signals, (None, OTHER_STYLE, "event: shock")]
    parts, x, row = [], x0, 0
    for fill, style, name in items:
        width = 24 + text_width(name) + 14
        if x > x0 and x + width > x0 + max_width:
            x, row = x0, row + 1
        cy = y + row * 18
        if fill:
            parts.append(
                f'<rect x="{n(x)}" y="{n(cy - 6)}" width="16" height="12" fill="{fill}" '
                f'stroke="{MUTED}" stroke-width="0.5"/>'
            )
        else:
            parts.append(marker(style.marker, x + 8, cy, style.color, r=3.6))
        parts.append(text(x + 22, cy + 4, name))
        x += width
    return "".join(parts), (row + 1) * 18
