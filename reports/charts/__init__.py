"""Inline-SVG charts for the reports: deterministic markup strings, no scripts, no files.

Each function takes frames from :mod:`reports.content` and returns one ``<svg>`` element with
an accessible name (``aria-label`` and ``<title>``). Colours come from the Okabe–Ito palette
and every series also differs in dash, marker or pattern, so charts read in greyscale print.
"""

from reports.charts.intervals import effects_chart, scenario_chart
from reports.charts.pathway_strip import pathway_strip
from reports.charts.regimes import regime_chart
from reports.charts.sweep import sweep_chart
from reports.charts.time import driver_chart, fan_chart

__all__ = [
    "driver_chart",
    "effects_chart",
    "fan_chart",
    "pathway_strip",
    "regime_chart",
    "scenario_chart",
    "sweep_chart",
]
