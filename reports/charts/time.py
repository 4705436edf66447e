"""Charts over calendar time: the forecast fan chart and the driver histories with their
scenario continuations.

Why direct labels and dashes: the reports are printed and read in greyscale, where the three
pathway colours look alike; a line's dash, its end marker and the label beside it keep the
pathways apart without a legend to decode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from reports.charts.svg import (
    GRID,
    INK,
    MUTED,
    PATHWAY_STYLES,
    Linear,
    Style,
    figure,
    legend,
    marker,
    month_index,
    nice_ticks,
    padded_range,
    polygon,
    polyline,
    segment,
    series_style,
    spread_labels,
    text,
    x_axis,
    y_axis,
    year_ticks,
)
from reports.content import PATHWAY_NAMES, PATHWAYS, driver_name
from reports.fmt import MINUS, pct

HISTORY = Style(INK, "", "circle")


def fan_chart(
    monthly: pl.DataFrame, chart_id: str, label: str, width: float = 720, height: float = 300
) -> str:
    """Three pathway probabilities per month: mean lines with 90% bands, labelled at the end.

    ``monthly`` holds one scenario's rows (month, pathway, mean, q05, q95).
    """
    left, right, top, bottom = 46.0, 190.0, 14.0, 30.0
    frame = monthly.sort("month", "pathway")
    months = sorted(set(frame["month"].to_list()))
    lo, hi = month_index(months[0]), month_index(months[-1])
    xs = Linear(lo, hi, left, width - right)
    ys = Linear(0.0, 1.0, height - bottom, top)
    ticks = year_ticks(lo, hi) or [(lo, str(months[0].year))]
    body = [
        y_axis(ys, [0, 0.25, 0.5, 0.75, 1.0], left, width - right, pct),
        x_axis(xs, ticks, top, height - bottom),
    ]
    ends: list[tuple[str, float, float]] = []
    for pathway in PATHWAYS:
        rows = frame.filter(pl.col("pathway") == pathway)
        if rows.is_empty():
            continue
        style = PATHWAY_STYLES[pathway]
        x = [xs(month_index(m)) for m in rows["month"].to_list()]
        upper = list(zip(x, (ys(v) for v in rows["q95"].to_list()), strict=True))
        lower = list(zip(x, (ys(v) for v in rows["q05"].to_list()), strict=True))
        mean = list(zip(x, (ys(v) for v in rows["mean"].to_list()), strict=True))
        body.append(polygon(upper + lower[::-1], style.color, 0.13))
        body.append(polyline(upper, style, 0.8))
        body.append(polyline(lower, style, 0.8))
        body.append(polyline(mean, style, 2.4))
        body.append(marker(style.marker, *mean[-1], style.color))
        ends.append((pathway, mean[-1][1], float(rows["mean"][-1])))
    placed = spread_labels([y for _, y, _ in ends], 16, top + 4, height - bottom)
    for (pathway, y, value), ly in zip(ends, placed, strict=True):
        x_end = width - right
        body.append(segment(x_end + 6, y, x_end + 14, ly - 4, MUTED, 0.8))
        body.append(text(x_end + 18, ly, f"{PATHWAY_NAMES[pathway]} {pct(value)}"))
    return figure(chart_id, width, height, label, "".join(body))


def driver_chart(
    history: pl.DataFrame,
    drivers: Sequence[str],
    chart_id: str,
    label: str,
    paths: pl.DataFrame | None = None,
    scenarios: Sequence[tuple[str, str]] = (),
    since: dt.date | None = None,
    width: float = 720,
) -> str:
    """One small panel per driver: the history (black) and, when ``paths`` are given, each
    scenario's mean continuation, with the first scenario's 90% band shaded.

    ``scenarios`` are (name, title) pairs in legend order; ``since`` trims the history.
    """
    hist = history.sort("month")
    if since is not None:
        hist = hist.filter(pl.col("month") >= since)
    months = hist["month"].to_list()
    future = paths.sort("month") if paths is not None else None
    last = months[-1]
    end = max(future["month"].max(), last) if future is not None else last
    lo, hi = month_index(months[0]), month_index(end)
    cols, panel_h, gap = 2, 170.0, 18.0
    panel_w = (width - gap * (cols - 1)) / cols
    rows = -(-len(drivers) // cols)
    body, key_h = [], 0.0
    if future is not None:
        items = [("History", HISTORY)]
        items += [(title, series_style(i)) for i, (_, title) in enumerate(scenarios)]
        key, key_h = legend(items, 40, rows * (panel_h + gap) + 8, width - 50)
        body.append(key)
    for k, driver in enumerate(drivers):
        ox = (k % cols) * (panel_w + gap)
        oy = (k // cols) * (panel_h + gap)
        body.append(
            _driver_panel(hist, driver, future, scenarios, (lo, hi), (ox, oy, panel_w, panel_h))
        )
    height = rows * (panel_h + gap) + key_h + 8
    return figure(chart_id, width, height, label, "".join(body))


def _driver_panel(
    hist: pl.DataFrame,
    driver: str,
    future: pl.DataFrame | None,
    scenarios: Sequence[tuple[str, str]],
    span: tuple[float, float],
    box: tuple[float, float, float, float],
) -> str:
    ox, oy, w, h = box
    left, top, bottom = 40.0, 22.0, 24.0
    xs = Linear(span[0], span[1], ox + left, ox + w - 6)
    values = hist[driver].to_list()
    own = future.filter(pl.col("driver") == driver) if future is not None else None
    extent = values + (own["q05"].to_list() + own["q95"].to_list() if own is not None else [])
    y_lo, y_hi = padded_range([*extent, 0.0])
    ys = Linear(y_lo, y_hi, oy + h - bottom, oy + top)
    parts = [
        text(ox + left, oy + 12, driver_name(driver), weight="bold"),
        y_axis(
            ys,
            nice_ticks(y_lo, y_hi, 4),
            ox + left,
            ox + w - 6,
            lambda t: f"{t:g}".replace("-", MINUS),
        ),
        x_axis(xs, year_ticks(*span, max_ticks=6), oy + top, oy + h - bottom),
        segment(ox + left, ys(0), ox + w - 6, ys(0), MUTED, 0.8),
    ]
    x_hist = [xs(month_index(m)) for m in hist["month"].to_list()]
    start = (x_hist[-1], ys(values[-1]))
    if own is not None:
        parts.append(segment(start[0], oy + top, start[0], oy + h - bottom, GRID, 1.5))
        for i, (name, _) in enumerate(scenarios):
            rows = own.filter(pl.col("scenario") == name)
            if rows.is_empty():
                continue
            style = series_style(i)
            x = [xs(month_index(m)) for m in rows["month"].to_list()]
            if i == 0:
                upper = list(zip(x, (ys(v) for v in rows["q95"].to_list()), strict=True))
                lower = list(zip(x, (ys(v) for v in rows["q05"].to_list()), strict=True))
                parts.append(polygon([start, *upper, *lower[::-1]], style.color, 0.15))
            mean = [start, *zip(x, (ys(v) for v in rows["mean"].to_list()), strict=True)]
            parts.append(polyline(mean, style, 1.8))
    parts.append(polyline(list(zip(x_hist, (ys(v) for v in values), strict=True)), HISTORY, 1.4))
    return "".join(parts)
