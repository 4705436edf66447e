"""A short Markdown summary of a run: headline table, scenario table, which driver moved
each scenario, health.

Why Markdown too: the summary goes where HTML does not (a Prefect artifact, a pull request, a
chat message). Every printed value passes through :func:`md_escape` (Jinja's ``finalize``),
so a scenario title cannot break a table with ``|`` or smuggle in raw HTML.
"""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports import track_record, view
from reports.content import PATHWAYS, ReportData
from reports.html import FILTERS

_SPECIAL = re.compile(r"([\\`*_\[\]#|~!])")


def md_escape(value: object) -> str:
    """Text safe inside Markdown (and its tables): specials backslashed, no raw HTML."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=False,
    finalize=md_escape,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters.update(FILTERS)


def render_markdown(data: ReportData) -> str:
    """The Markdown summary of one run (deterministic: same data, same text)."""
    return _ENV.get_template("summary.md.j2").render(
        d=data,
        pathways=PATHWAYS,
        title=view.scenario_title(data, data.headline.scenario),
        scenario_rows=view.scenario_rows(data),
        attribution_rows=view.attribution_rows(data),
        headline_prior=view.headline_prior(data),
        carried=view.carried_at_origin(data),
        track_scores=track_record.score_tables(data.track_record) if data.track_record else [],
    )
