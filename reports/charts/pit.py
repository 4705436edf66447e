"""PIT histograms of the many-origin evaluation: one small panel per model and lead.

Why a histogram of PIT values: if a forecaster's predictive distributions are calibrated, the
share of outcomes below each forecast quantile is that quantile, so the bars are flat at the
dashed line; a U shape says the intervals are too narrow, a hump that they are too wide, a
slope that the forecasts lean to one side.
"""

from __future__ import annotations

import polars as pl

from reports.charts.svg import GRID, MUTED, figure, n, segment, text

_PANEL_W, _PANEL_H, _GAP, _TOP, _LEFT = 150.0, 80.0, 18.0, 34.0, 110.0
_BAR = "#0072B2"


def pit_chart(pit: pl.DataFrame, chart_id: str) -> str:
    """``pit``: model, lead, bin, share (:func:`models.evaluation.pit_histogram`)."""
    models = list(dict.fromkeys(pit["model"].to_list()))
    leads = sorted(set(pit["lead"].to_list()))
    bins = int(pit["bin"].max()) + 1
    ceiling = max(float(pit["share"].max()), 2.0 / bins)
    width = _LEFT + len(leads) * (_PANEL_W + _GAP)
    height = _TOP + len(models) * (_PANEL_H + _GAP) + 10
    body = []
    for j, lead in enumerate(leads):
        x0 = _LEFT + j * (_PANEL_W + _GAP)
        body.append(text(x0 + _PANEL_W / 2, 20, f"{lead} months ahead", anchor="middle"))
    for i, model in enumerate(models):
        y0 = _TOP + i * (_PANEL_H + _GAP)
        body.append(text(_LEFT - 8, y0 + _PANEL_H / 2, model, anchor="end"))
        for j, lead in enumerate(leads):
            x0 = _LEFT + j * (_PANEL_W + _GAP)
            part = pit.filter((pl.col("model") == model) & (pl.col("lead") == lead))
            body.append(segment(x0, y0 + _PANEL_H, x0 + _PANEL_W, y0 + _PANEL_H, GRID))
            w = _PANEL_W / bins
            for row in part.iter_rows(named=True):
                h = _PANEL_H * row["share"] / ceiling
                body.append(
                    f'<rect x="{n(x0 + row["bin"] * w + 1)}" y="{n(y0 + _PANEL_H - h)}" '
                    f'width="{n(w - 2)}" height="{n(h)}" fill="{_BAR}"/>'
                )
            flat = y0 + _PANEL_H - _PANEL_H / bins / ceiling
            body.append(
                f'<line x1="{n(x0)}" y1="{n(flat)}" x2="{n(x0 + _PANEL_W)}" y2="{n(flat)}" '
                f'stroke="{MUTED}" stroke-dasharray="4 3"/>'
            )
    label = (
        "PIT histograms of the observables forecasts by model and months ahead; "
        "flat bars at the dashed line mean calibrated forecasts"
    )
    return figure(chart_id, width, height, label, "".join(body))
