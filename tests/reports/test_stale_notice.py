"""The stale-source notice: at the top of the report and in the summary, only when stale."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from reports import ReportData, Staleness, StaleSource, render_html, render_markdown

FAILED = dt.datetime(2026, 8, 10, 6, 0, tzinfo=dt.UTC)
SINCE = dt.datetime(2026, 7, 10, 6, 0, tzinfo=dt.UTC)
PLA = StaleSource("pla_activity", "mirror", SINCE, FAILED, "https://x/y.csv: HTTP 503 from server")
TARIFFS = StaleSource("tariffs", "mirror", None, FAILED, "https://x/t.csv: HTTP 404", key=True)


def test_no_notice_without_stale_sources(rendering_data: ReportData) -> None:
    assert 'id="stale-sources"' not in render_html(rendering_data)
    assert "Stale sources" not in render_markdown(rendering_data)


def test_a_stale_source_is_named_with_since_and_why_above_the_headline(
    rendering_data: ReportData,
) -> None:
    html = render_html(replace(rendering_data, staleness=Staleness((PLA,))))
    start = html.index('<div class="note" id="stale-sources"')
    assert start < html.index('<section id="headline"')
    notice = html[start : html.index("</div>", start)]
    assert "1 stale source: the latest refresh failed." in notice
    assert "<strong>pla_activity</strong>: stale since 2026-07-10 06:00 UTC" in notice
    assert "the attempt of 2026-08-10 06:00 UTC failed: https://x/y.csv: HTTP 503" in notice
    summary = render_markdown(replace(rendering_data, staleness=Staleness((PLA,))))
    assert "- pla\\_activity: stale since 2026-07-10 06:00 UTC" in summary


def test_a_too_stale_run_is_an_alert(rendering_data: ReportData) -> None:
    staleness = Staleness((PLA, TARIFFS), too_stale="key source tariffs stale")
    html = render_html(replace(rendering_data, staleness=staleness))
    start = html.index('<div class="alert" id="stale-sources"')
    notice = html[start : html.index("</div>", start)]
    assert "Too stale to replace the latest report (key source tariffs stale)." in notice
    assert "<strong>tariffs</strong> (key source): stale since always (never refreshed" in notice
    summary = render_markdown(replace(rendering_data, staleness=staleness))
    assert "**Too stale to replace the latest report** (key source tariffs stale)" in summary
