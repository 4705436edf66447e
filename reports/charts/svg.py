"""SVG building blocks shared by the charts: escaping, scales, ticks, axes, marks, legends.

Why hand-written SVG: the report is one offline HTML file, so charts are inline markup with
no scripts or plotting library; and building strings with fixed number formatting makes the
output byte-for-byte deterministic. Every piece of text goes through :func:`esc`, so user
text (a scenario title) can never become markup.

Styling that must survive greyscale printing is carried by shape, not only colour: each
pathway has a colour (Okabe–Ito, safe for colour-blind readers), a dash pattern and a marker.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

FONT = 12
INK = "#222222"
GRID = "#dddddd"
MUTED = "#666666"


@dataclass(frozen=True)
class Style:
    """How one series is drawn: colour, SVG dash array ("" = solid) and marker shape."""

    color: str
    dash: str = ""
    marker: str = "circle"
    hollow: bool = False  # marker drawn white inside (priors)


# Okabe & Ito (2008) colour-blind-safe palette; dashes and markers keep greyscale apart.
PATHWAY_STYLES: dict[str, Style] = {
    "DC": Style("#D55E00", "", "circle"),
    "SE": Style("#009E73", "7 4", "square"),
    "MC": Style("#0072B2", "2 3", "triangle"),
}
OTHER_STYLE = Style("#000000", "", "diamond")
SERIES_STYLES: tuple[Style, ...] = (
    Style("#E69F00", "", "circle"),
    Style("#56B4E9", "7 4", "square"),
    Style("#009E73", "2 3", "triangle"),
    Style("#0072B2", "9 3 2 3", "diamond"),
    Style("#D55E00", "4 2", "circle"),
    Style("#CC79A7", "12 4", "square"),
    Style("#000000", "1 3", "triangle"),
)


def series_style(i: int) -> Style:
    """The ``i``-th style of a cycle long enough for the usual handful of scenarios."""
    return SERIES_STYLES[i % len(SERIES_STYLES)]


def esc(text: object) -> str:
    """Escape text for SVG/HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def n(x: float) -> str:
    """A coordinate with one decimal (fixed, so output is deterministic and compact)."""
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def text_width(text: str, size: float = FONT) -> float:
    """Rough rendered width; good enough to lay out legends and labels without a font."""
    return 0.58 * size * len(text)


@dataclass(frozen=True)
class Linear:
    """Maps a data interval onto a pixel interval."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, v: float) -> float:
        span = self.d1 - self.d0
        return self.r0 + (v - self.d0) / span * (self.r1 - self.r0) if span else self.r0


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k steps) covering ``lo`` .. ``hi``."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.ceil(lo / step - 1e-9)
    stop = math.floor(hi / step + 1e-9)
    return [round(k * step, 10) for k in range(start, stop + 1)]


def padded_range(values: Sequence[float], pad: float = 0.08) -> tuple[float, float]:
    """Min and max of finite ``values`` widened by ``pad`` of their span (never empty)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return -1.0, 1.0
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


def month_index(d: dt.date) -> float:
    """Months since year 0 (fractional within the month) so dates become x positions."""
    return d.year * 12 + d.month - 1 + (d.day - 1) / 31


def year_ticks(lo: float, hi: float, max_ticks: int = 9) -> list[tuple[float, str]]:
    """January ticks between two month indices, every 1, 2, 5 or 10 years."""
    first, last = math.ceil(lo / 12), math.floor(hi / 12)
    years = max(last - first, 0)
    step = next(s for s in (1, 2, 5, 10, 20, 50) if years / s < max_ticks)
    start = math.ceil(first / step) * step
    return [(y * 12.0, str(y)) for y in range(start, last + 1, step)]


def figure(chart_id: str, width: float, height: float, label: str, body: str) -> str:
    """The ``<svg>`` element: accessible name in ``aria-label`` and ``<title>``."""
    return (
        f'<svg class="chart" id="{esc(chart_id)}" viewBox="0 0 {n(width)} {n(height)}" '
        f'role="img" aria-label="{esc(label)}" font-size="{FONT}">'
        f"<title>{esc(label)}</title>{body}</svg>"
    )


def text(
    x: float,
    y: float,
    content: str,
    anchor: str = "start",
    size: float = FONT,
    fill: str = INK,
    weight: str = "normal",
) -> str:
    weight_attr = f' font-weight="{weight}"' if weight != "normal" else ""
    return (
        f'<text x="{n(x)}" y="{n(y)}" text-anchor="{anchor}" font-size="{n(size)}" '
        f'fill="{fill}"{weight_attr}>{esc(content)}</text>'
    )


def polyline(points: Sequence[tuple[float, float]], style: Style, width: float = 2.0) -> str:
    pts = " ".join(f"{n(x)},{n(y)}" for x, y in points)
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return (
        f'<polyline points="{pts}" fill="none" stroke="{style.color}" '
        f'stroke-width="{n(width)}"{dash} stroke-linejoin="round"/>'
    )


def polygon(points: Sequence[tuple[float, float]], fill: str, opacity: float = 1.0) -> str:
    pts = " ".join(f"{n(x)},{n(y)}" for x, y in points)
    return f'<polygon points="{pts}" fill="{fill}" fill-opacity="{opacity:g}" stroke="none"/>'


def segment(x1: float, y1: float, x2: float, y2: float, color: str, width: float = 1.0) -> str:
    return (
        f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(x2)}" y2="{n(y2)}" '
        f'stroke="{color}" stroke-width="{n(width)}"/>'
    )


def marker(kind: str, x: float, y: float, color: str, r: float = 4.5, hollow: bool = False) -> str:
    """A point marker; ``hollow`` draws a white fill with a coloured outline (priors)."""
    fill = "#ffffff" if hollow else color
    paint = f'fill="{fill}" stroke="{color}" stroke-width="1.5"'
    if kind == "square":
        return (
            f'<rect x="{n(x - r)}" y="{n(y - r)}" width="{n(2 * r)}" height="{n(2 * r)}" {paint}/>'
        )
    if kind in ("triangle", "diamond"):
        if kind == "triangle":
            pts = [(x, y - 1.2 * r), (x + 1.1 * r, y + 0.8 * r), (x - 1.1 * r, y + 0.8 * r)]
        else:
            pts = [(x, y - 1.3 * r), (x + r, y), (x, y + 1.3 * r), (x - r, y)]
        return f'<polygon points="{" ".join(f"{n(a)},{n(b)}" for a, b in pts)}" {paint}/>'
    return f'<circle cx="{n(x)}" cy="{n(y)}" r="{n(r)}" {paint}/>'


def y_axis(scale: Linear, ticks: Sequence[float], x0: float, x1: float, fmt) -> str:
    """Horizontal gridlines with labels left of ``x0``."""
    parts = []
    for t in ticks:
        y = scale(t)
        parts.append(segment(x0, y, x1, y, GRID))
        parts.append(text(x0 - 6, y + 4, fmt(t), anchor="end", fill=MUTED))
    return "".join(parts)


def x_axis(scale: Linear, ticks: Sequence[tuple[float, str]], y0: float, y1: float) -> str:
    """Vertical gridlines from ``y0`` (top) to ``y1`` (axis) with labels below."""
    parts = [segment(scale.r0, y1, scale.r1, y1, MUTED)]
    for value, label in ticks:
        x = scale(value)
        parts.append(segment(x, y0, x, y1, GRID))
        parts.append(segment(x, y1, x, y1 + 4, MUTED))
        parts.append(text(x, y1 + 16, label, anchor="middle", fill=MUTED))
    return "".join(parts)


def legend(
    items: Sequence[tuple[str, Style]],
    x: float,
    y: float,
    max_width: float,
    swatch: str = "line",
) -> tuple[str, float]:
    """A wrapping legend; returns markup and its height.

    ``swatch`` matches how the chart draws the series: ``"line"`` (dashed lines) or
    ``"marker"`` (dots on solid interval lines).
    """
    parts, cx, cy, row = [], x, y, 18.0
    for label, style in items:
        width = 44 + text_width(label)
        if cx > x and cx + width > x + max_width:
            cx, cy = x, cy + row
        if swatch == "marker":
            parts.append(segment(cx + 3, cy, cx + 23, cy, style.color, 2.0))
            parts.append(marker(style.marker, cx + 13, cy, style.color, r=3.5, hollow=style.hollow))
        else:
            parts.append(polyline([(cx, cy), (cx + 26, cy)], style, 2.0))
        parts.append(text(cx + 32, cy + 4, label))
        cx += width + 12
    return "".join(parts), cy - y + row


def spread_labels(ys: Sequence[float], gap: float, lo: float, hi: float) -> list[float]:
    """Move label positions apart by at least ``gap`` (keeping order), within ``lo..hi``."""
    order = sorted(range(len(ys)), key=lambda i: (ys[i], i))
    placed: list[float] = []
    for i in order:
        y = max(ys[i], lo, placed[-1] + gap if placed else lo)
        placed.append(y)
    overflow = placed[-1] - hi if placed else 0
    if overflow > 0:
        placed = [y - overflow for y in placed]
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    out = [0.0] * len(ys)
    for i, y in zip(order, placed, strict=True):
        out[i] = y
    return out
