"""The months by the essay's rules beside the model's most likely pathway: two strips of cells.

Why strips rather than lines: both rows are categorical (a pathway or none per month), and the
question is where they differ, which a reader sees best as two aligned rows of coloured cells
with the months of disagreement marked underneath. Each pathway's cell also carries its
letter when there is room, and disagreements are black ticks, so the chart survives
greyscale print.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from reports.charts.svg import (
    GRID,
    INK,
    MUTED,
    PATHWAY_STYLES,
    Linear,
    Style,
    esc,
    figure,
    legend,
    month_index,
    n,
    segment,
    text,
    year_ticks,
)
from reports.content import PATHWAY_NAMES, PATHWAYS

_ROWS = (("rules", "Essay's rules"), ("model", "Model: most likely"))
_NONE = "#f2f2f2"  # quiet or unclassifiable: no pathway


def pathway_strip(months: pl.DataFrame, chart_id: str, label: str, width: float = 720) -> str:
    """``months`` has month, rules, rule, model (see :class:`reports.content.PathwayCheck`);
    the chart starts at the first month the rules could judge."""
    judged = months.filter(pl.col("rule") != "unclassifiable")
    shown = months.filter(pl.col("month") >= judged["month"].min()) if judged.height else months
    first, last = shown["month"].min(), shown["month"].max()
    left, right, top, row_h = 130.0, 12.0, 12.0, 26.0
    x = Linear(month_index(first), month_index(last) + 1, left, width - right)
    cell = x(month_index(first) + 1) - x(month_index(first))
    parts = []
    for r, (column, title) in enumerate(_ROWS):
        y = top + r * (row_h + 6)
        parts.append(text(left - 8, y + row_h / 2 + 4, title, anchor="end"))
        for month, value in shown.select("month", column).iter_rows():
            parts.append(_cell(x(month_index(month)), y, cell, row_h, value, month, title))
    tick_y = top + 2 * (row_h + 6)
    parts.append(text(left - 8, tick_y + 9, "Disagree", anchor="end", fill=MUTED))
    for month, rules, model in shown.select("month", "rules", "model").iter_rows():
        if rules is not None and model is not None and rules != model:
            cx = x(month_index(month)) + cell / 2
            parts.append(segment(cx, tick_y, cx, tick_y + 12, INK, max(1.0, cell * 0.6)))
    axis_y = tick_y + 18
    parts.append(segment(left, axis_y, width - right, axis_y, MUTED))
    for value, year in year_ticks(x.d0, x.d1):
        parts.append(segment(x(value), top, x(value), axis_y + 4, GRID))
        parts.append(text(x(value), axis_y + 16, year, anchor="middle", fill=MUTED))
    items = [(f"{PATHWAY_NAMES[p]} ({p})", PATHWAY_STYLES[p]) for p in PATHWAYS]
    items.append(("no pathway (quiet or unclassifiable)", Style(_NONE)))
    key, key_h = legend(items, left, axis_y + 36, width - left - right, swatch="line")
    height = axis_y + 36 + key_h
    return figure(chart_id, width, height, label, "".join(parts) + key)


def _cell(
    x0: float, y: float, w: float, h: float, value: str | None, month: dt.date, row: str
) -> str:
    color = PATHWAY_STYLES[value].color if value else _NONE
    tip = f"{month:%Y-%m} {row}: {PATHWAY_NAMES[value] if value else 'no pathway'}"
    letter = ""
    if value and w >= 9:
        letter = text(x0 + w / 2, y + h / 2 + 4, value[0], anchor="middle", size=9, fill="#ffffff")
    return (
        f'<rect x="{n(x0)}" y="{n(y)}" width="{n(w)}" height="{n(h)}" fill="{color}" '
        f'stroke="#ffffff" stroke-width="0.5"><title>{esc(tip)}</title></rect>{letter}'
    )
