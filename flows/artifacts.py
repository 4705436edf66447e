"""Prefect artifacts of a run: what the Prefect UI shows on the run's page and under Artifacts.

Why artifacts: whoever checks a scheduled run opens the Prefect UI, not the warehouse. Three
keyed artifacts (a new version per run) say whether the run was healthy, what the headline
probabilities are, and where the report is. Their content comes from plain functions over the
same :class:`reports.ReportData` the report is rendered from, so the UI and the report cannot
disagree; only the ``record_*`` functions talk to Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from reports import ReportData
from reports.content import PATHWAYS
from reports.markdown import md_escape

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flows.fit import FitRecord
    from flows.refresh import RefreshState

SUMMARY_KEY = "winset-summary"  # the run in words: health, headline (the report's summary.md)
HEADLINE_KEY = "winset-headline"  # pathway probabilities at the horizon, one row per scenario
REPORT_KEY = "winset-report"  # a file:// link to the report
SOURCES_KEY = "winset-sources"  # each source's live kind and latest refresh: what is stale
DECIMALS = 4  # probabilities to 0.01 percentage points: enough to compare, short to read


def headline_table(data: ReportData) -> list[dict[str, object]]:
    """Mean probability of each pathway at the horizon and of ever decoupling, per scenario.

    Rows follow ``data.scenarios``; a probability the forecast did not store is ``None``.
    """
    horizon = data.scenario_horizon

    def mean(scenario: str, measure: str, pathway: str) -> float | None:
        hit = horizon.filter(
            (pl.col("scenario") == scenario)
            & (pl.col("measure") == measure)
            & (pl.col("pathway") == pathway)
        )
        return round(float(hit["mean"][0]), DECIMALS) if hit.height == 1 else None

    rows = []
    for name, title in data.scenarios.select("name", "title").rows():
        row: dict[str, object] = {"scenario": name, "title": title}
        row |= {p: mean(name, "pathway_at_horizon", p) for p in PATHWAYS}
        row["ever_DC"] = mean(name, "ever_DC", "DC")
        rows.append(row)
    return rows


def report_link(folder: Path) -> str:
    """The report as a ``file://`` URL (the UI shows it; a browser on this machine opens it).

    Through the run's link, not resolved: the build it points at today is removed when the run
    is published again, the link stays."""
    return (folder / "report.html").absolute().as_uri()


def unhealthy_fit_markdown(fit: FitRecord) -> str:
    """Why a run stopped after its fit: the gate's problems, and what was left alone."""
    d = fit.diagnostics
    lines = [
        "# winset run: the fit failed the health gate",
        "",
        f"Fit {md_escape(fit.run_id)} ({md_escape(fit.mode)}): max R-hat {d['max_rhat']:.3f}, "
        f"min bulk ESS {d['min_ess_bulk']:.0f}, divergences {d['divergences']}.",
        "",
        *(f"- {md_escape(problem)}" for problem in fit.problems),
        "",
        "The fit is recorded in `model_runs` and never used: nothing was forecast or "
        "published, and `latest` still points at the last healthy report.",
    ]
    return "\n".join(lines) + "\n"


def record_report_artifacts(
    data: ReportData, summary_markdown: str, folder: Path, latest: bool
) -> None:
    """The published run's summary, headline table and report link, on the current flow run."""
    from prefect.artifacts import (
        create_link_artifact,
        create_markdown_artifact,
        create_table_artifact,
    )

    run = data.run
    too_stale = data.staleness.too_stale
    where = (
        "published as latest"
        if latest
        else f"not latest: too stale ({too_stale})"
        if too_stale and run.healthy and run.fit_mode == "publication"
        else "not latest: not a healthy publication run"
    )
    create_markdown_artifact(
        markdown=summary_markdown,
        key=SUMMARY_KEY,
        description=f"Forecast run {run.run_id}: health and headline ({where}).",
    )
    create_table_artifact(
        table=headline_table(data),
        key=HEADLINE_KEY,
        description=f"Pathway probabilities in {run.horizon:%Y-%m} per scenario (posterior "
        f"means), forecast run {run.run_id}.",
    )
    create_link_artifact(
        link=report_link(folder),
        link_text=f"Report {run.run_id}",
        key=REPORT_KEY,
        description=f"The self-contained HTML report ({where}).",
    )


def record_unhealthy_fit(fit: FitRecord) -> None:
    """A run that stopped at the gate still says why, under the same key as a healthy summary."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        markdown=unhealthy_fit_markdown(fit),
        key=SUMMARY_KEY,
        description=f"Fit {fit.run_id} failed the health gate: nothing was published.",
    )


def record_refresh_artifact(states: Mapping[str, RefreshState], run_id: str) -> None:
    """After a live ingest: every source's live kind, last successful refresh and, if its
    latest attempt failed, since when it is stale and why."""
    from prefect.artifacts import create_table_artifact

    stale = [s.source for s in states.values() if s.stale]
    create_table_artifact(
        table=[s.as_row() for s in states.values()],
        key=SOURCES_KEY,
        description=f"Live ingest {run_id}: "
        + (f"stale (last good rows kept): {', '.join(stale)}." if stale else "no stale source."),
    )
