"""The runs index: newest first, the current run is the newest healthy publication fit."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from reports import render_index
from reports.content import ReportData, RunEntry


def test_index_orders_runs_and_marks_the_current_one(rendering_data: ReportData) -> None:
    base = rendering_data.run

    def run(run_id: str, day: int, **changes: object):
        created = dt.datetime(2025, 11, day, tzinfo=dt.UTC)
        return replace(base, run_id=run_id, created_at=created, **changes)

    runs = [
        RunEntry(run("good-old", 1), "good-old/report.html", rendering_data.headline),
        RunEntry(run("good-new", 2), "good-new/report.html", rendering_data.headline),
        RunEntry(run("failed", 3, healthy=False, problems=("x",)), "failed/report.html"),
        RunEntry(run("fast", 4, fit_mode="fast"), "fast/report.html"),
    ]
    html = render_index(runs)
    order = [html.index(f"{r}/report.html") for r in ("fast", "failed", "good-new", "good-old")]
    assert order == sorted(order)
    current = html[html.index("good-new/report.html") :]
    assert current.index("CURRENT") < current.index("good-old")
    assert html.count("CURRENT") == 1
    assert "DC 32% · SE 15% · MC 53% (baseline, 2029-01)" in html
    assert "http://" not in html and "https://" not in html


def test_empty_index() -> None:
    assert "No runs yet." in render_index([])
