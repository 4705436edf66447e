"""Chart functions: well-formed SVG, readable without colour, events and sweeps drawn right."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import polars as pl

from reports.charts import fan_chart, regime_chart, sweep_chart
from reports.charts.svg import PATHWAY_STYLES, nice_ticks, spread_labels
from reports.content import ReportData, Sweep
from reports.view import numbered_events


def test_pathways_differ_in_more_than_colour() -> None:
    styles = PATHWAY_STYLES.values()
    assert len({s.dash for s in styles}) == 3
    assert len({s.marker for s in styles}) == 3


def test_fan_chart_labels_each_pathway_at_its_end(rendering_data: ReportData) -> None:
    monthly = rendering_data.monthly.filter(pl.col("scenario") == "baseline")
    svg = fan_chart(monthly, "fan", "Fan")
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter("text") if t.text and t.text.endswith("%")]
    last = monthly.filter(pl.col("month") == pl.col("month").max())
    for pathway, name in (("DC", "Decoupling"), ("SE", "Selective engagement")):
        value = last.filter(pl.col("pathway") == pathway)["mean"][0]
        assert f"{name} {value * 100:.0f}%" in labels
    assert svg == fan_chart(monthly, "fan", "Fan")


def test_regime_chart_marks_only_events_inside_the_history(rendering_data: ReportData) -> None:
    events = pl.concat(
        [
            rendering_data.events,
            pl.DataFrame(
                {
                    "date": [dt.date(2030, 1, 1)],
                    "event": ["after the history"],
                    "category": ["x"],
                    "pathway_signal": ["shock"],
                }
            ),
        ]
    )
    svg = regime_chart(rendering_data.regimes, numbered_events(events), "reg", "Regimes")
    tips = [t.text for t in ET.fromstring(svg).iter("title")][1:]
    assert [tip.split(".")[0] for tip in tips] == ["1", "2", "3"]
    assert all("after the history" not in tip for tip in tips)


def _sweep(parameters: tuple[str, ...]) -> Sweep:
    rows = []
    for a in (0, 50):
        for b in ("none", "2027"):
            dc = 0.2 + a / 100 + (0.05 if b == "2027" else 0)
            rows.append((a, b, "DC", dc, dc - 0.05, dc + 0.05))
    frame = pl.DataFrame(rows, schema=["a", "b", "pathway", "mean", "q05", "q95"], orient="row")
    return Sweep(frame=frame, parameters=parameters)


def test_two_parameter_sweep_is_a_heatmap_with_printed_values() -> None:
    root = ET.fromstring(sweep_chart(_sweep(("a", "b")), "sw"))
    assert len(list(root.iter("rect"))) == 4
    cells = {t.text for t in root.iter("text")}
    assert {"20%", "25%", "70%", "75%"} <= cells


def test_tornado_puts_the_strongest_parameter_first() -> None:
    sweep = _sweep(("a", "b"))
    frame = sweep.frame.with_columns(pl.lit(1).alias("c"))
    root = ET.fromstring(sweep_chart(Sweep(frame=frame, parameters=("b", "c", "a")), "sw"))
    names = [t.text for t in root.iter("text") if t.text in ("a", "b", "c")]
    assert names == ["a", "b", "c"]  # a moves P(DC) by 50 points, b by 5, c not at all


def test_label_spreading_and_ticks() -> None:
    placed = spread_labels([100.0, 101.0, 102.0], gap=16, lo=0, hi=300)
    assert placed[1] - placed[0] >= 16 and placed[2] - placed[1] >= 16
    squeezed = spread_labels([295.0, 296.0], gap=16, lo=0, hi=300)
    assert max(squeezed) <= 300
    assert nice_ticks(0, 1, 4) == [0, 0.25, 0.5, 0.75, 1.0]
