"""Sweep results: a heatmap for a two-parameter grid, a tornado chart otherwise.

Why both: with two parameters every grid point has a cell and the interaction is visible; with
one or three and more, the question is which parameter moves the outcome most, which a
tornado (the outcome's range over each parameter's values, averaged over the others) answers.
Heatmap cells print their value, and the colour scale is one hue of rising darkness, so the
chart survives greyscale print and colour-blind readers.
"""

from __future__ import annotations

import polars as pl

from reports.charts.svg import (
    MUTED,
    PATHWAY_STYLES,
    Linear,
    figure,
    n,
    segment,
    text,
    text_width,
    x_axis,
)
from reports.content import PATHWAY_NAMES, Sweep
from reports.fmt import pct

_LIGHT = (247, 251, 255)
_DARK = (8, 48, 107)


def _shade(p: float) -> str:
    """Light to dark blue for probability 0 to 1 (lightness falls monotonically)."""
    t = min(max(p, 0.0), 1.0)
    rgb = (round(a + (b - a) * t) for a, b in zip(_LIGHT, _DARK, strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def sweep_chart(sweep: Sweep, chart_id: str, width: float = 720) -> str:
    """The chart for ``sweep``'s pathway: heatmap for two parameters, tornado otherwise."""
    frame = sweep.frame.filter(pl.col("pathway") == sweep.pathway)
    if len(sweep.parameters) == 2:
        return _heatmap(frame, sweep.parameters, sweep.pathway, chart_id, width)
    return _tornado(frame, sweep.parameters, sweep.pathway, chart_id, width)


def _heatmap(
    frame: pl.DataFrame, params: tuple[str, ...], pathway: str, chart_id: str, width: float
) -> str:
    col_p, row_p = params
    cols = list(dict.fromkeys(frame[col_p].to_list()))
    rows = list(dict.fromkeys(frame[row_p].to_list()))
    cells = frame.group_by(col_p, row_p, maintain_order=True).agg(pl.col("mean").mean())
    value = {(c, r): v for c, r, v in cells.iter_rows()}
    left = max(text_width(str(r)) for r in rows) + 24
    cell_w = min(90.0, (width - left - 10) / len(cols))
    cell_h, top = 30.0, 40.0
    parts = [
        text(left, 14, f"columns: {col_p}", weight="bold"),
        text(8, top + len(rows) * cell_h + 22, f"rows: {row_p}", weight="bold"),
    ]
    for i, c in enumerate(cols):
        parts.append(text(left + (i + 0.5) * cell_w, top - 8, str(c), anchor="middle"))
    for j, r in enumerate(rows):
        y = top + j * cell_h
        parts.append(text(left - 8, y + cell_h / 2 + 4, str(r), anchor="end"))
        for i, c in enumerate(cols):
            x = left + i * cell_w
            v = value.get((c, r))
            if v is None:
                continue
            parts.append(
                f'<rect x="{n(x)}" y="{n(y)}" width="{n(cell_w - 2)}" height="{n(cell_h - 2)}" '
                f'fill="{_shade(v)}"/>'
            )
            ink = "#ffffff" if v > 0.5 else "#000000"
            parts.append(text(x + cell_w / 2 - 1, y + cell_h / 2 + 4, pct(v), "middle", fill=ink))
    height = top + len(rows) * cell_h + 32
    label = f"P({PATHWAY_NAMES[pathway]}) at the horizon over the {col_p} x {row_p} grid"
    return figure(chart_id, width, height, label, "".join(parts))


def _tornado(
    frame: pl.DataFrame, params: tuple[str, ...], pathway: str, chart_id: str, width: float
) -> str:
    overall = float(frame["mean"].mean())
    bars = []
    for p in params:
        by = frame.group_by(p, maintain_order=True).agg(pl.col("mean").mean())
        lo_row = by.row(int(by["mean"].arg_min()))
        hi_row = by.row(int(by["mean"].arg_max()))
        bars.append((p, lo_row, hi_row))
    bars.sort(key=lambda b: -(b[2][1] - b[1][1]))
    left = max(text_width(p) for p in params) + 20
    xs = Linear(0.0, 1.0, left + 90, width - 100)
    top, bar_h = 10.0, 26.0
    style = PATHWAY_STYLES[pathway]
    parts = []
    for k, (p, (lo_v, lo), (hi_v, hi)) in enumerate(bars):
        y = top + k * bar_h
        parts.append(text(left - 8, y + bar_h / 2 + 4, p, anchor="end"))
        parts.append(
            f'<rect x="{n(xs(lo))}" y="{n(y + 4)}" width="{n(max(xs(hi) - xs(lo), 1.0))}" '
            f'height="{n(bar_h - 8)}" fill="{style.color}" fill-opacity="0.55" '
            f'stroke="{style.color}"/>'
        )
        lo_label, hi_label = f"{lo_v}: {pct(lo)}", f"{hi_v}: {pct(hi)}"
        parts.append(text(xs(lo) - 4, y + bar_h / 2 + 4, lo_label, "end", 11))
        parts.append(text(xs(hi) + 4, y + bar_h / 2 + 4, hi_label, "start", 11))
    bottom = top + len(bars) * bar_h
    parts.append(segment(xs(overall), top, xs(overall), bottom, MUTED, 1.2))
    ticks = [(t, pct(t)) for t in (0, 0.25, 0.5, 0.75, 1.0)]
    parts.insert(0, x_axis(xs, ticks, top, bottom))
    label = f"Range of P({PATHWAY_NAMES[pathway]}) at the horizon over each parameter's values"
    return figure(chart_id, width, bottom + 28, label, "".join(parts))
