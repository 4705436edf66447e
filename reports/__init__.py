"""Pure rendering: report content in, HTML / Markdown strings out.

No Prefect, DuckDB, flows imports, files or network: the flows build a
:class:`reports.content.ReportData` and write the strings these functions return.
"""

from reports.content import (
    ContentError,
    Estimate,
    Evaluation,
    Headline,
    Previous,
    ReportData,
    RunEntry,
    RunInfo,
    Staleness,
    StaleSource,
    Sweep,
)
from reports.html import render_html, render_index
from reports.markdown import render_markdown

__all__ = [
    "ContentError",
    "Estimate",
    "Evaluation",
    "Headline",
    "Previous",
    "ReportData",
    "RunEntry",
    "RunInfo",
    "StaleSource",
    "Staleness",
    "Sweep",
    "render_html",
    "render_index",
    "render_markdown",
]
