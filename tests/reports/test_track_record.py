"""The track record section: scores beside the references, calibration charts, resolved
questions with what winset said and what happened; escaped text; absent without a ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from reports import fmt, render_html, render_markdown
from reports.content import ContentError, ReportData
from reports.track_record import QUESTION_COLUMNS, TrackRecord

HOSTILE = "<script>alert(1)</script>"


def record(**changes: object) -> TrackRecord:
    """A hand-made record: two forecasters, one resolved question of each kind of answer."""
    scores = pl.DataFrame(
        {"kind": ["question", "question", "quantity", "quantity"],
         "metric": ["brier", "brier", "crps", "crps"],
         "forecaster": ["model", "climatology", "model", "random_walk"],
         "n": [2, 2, 4, 4], "mean": [0.125, 0.25, 1.5, 0.75]}
    )  # fmt: skip
    questions = pl.DataFrame(
        {"run_id": ["r1", "r1"], "origin": [dt.date(2025, 8, 1)] * 2,
         "question_id": ["tension_high_1m", "imports_down_10pct_3m"],
         "text": [f"Will tension {HOSTILE} rise?", "Will imports fall?"],
         "target_month": [dt.date(2025, 9, 1), dt.date(2025, 11, 1)],
         "threshold": [2.33, -10.0], "op": [">", "<"], "model": [0.625, None],
         "random_walk": [0.5, 0.875], "climatology": [0.125, 0.25],
         "observed": [2.35, -44.5], "outcome": [True, True]}
    )  # fmt: skip
    values = {
        "scores": scores,
        "reliability": pl.DataFrame(
            {"bin": [6], "mean_forecast": [0.625], "observed": [1.0], "n": [1]}
        ),
        "pit_counts": (1, 0, 0, 0, 0, 0, 0, 0, 0, 3),
        "questions": questions,
        "recorded": 2,
        "open": 40,
        "revisions": pl.DataFrame(
            {
                "series": ["us_tariff"],
                "target_month": [dt.date(2025, 9, 1)],
                "resolved_value": [41.9],
                "revised_value": [46.9],
            }
        ),
    }
    return TrackRecord(**(values | changes))


def test_the_section_shows_scores_questions_and_charts(rendering_data: ReportData) -> None:
    html = render_html(dataclasses.replace(rendering_data, track_record=record()))
    section = html[html.index('id="track-record"') :]
    assert "Forecasts recorded: 2; entries still open" in section
    assert "not yet in the data): 40." in section
    # best first within a metric, with the references named in words
    brier = section[section.index("Questions: Brier score") :]
    assert brier.index("winset") < brier.index("climatology")
    crps = section[section.index("Observed series: CRPS") :]
    assert crps.index("random walk") < crps.index("winset")
    assert 'data-question="tension_high_1m"' in section
    row = section[section.index('data-question="imports_down_10pct_3m"') :].split("</tr>")[0]
    assert "–" in row and fmt.pct(0.875) in row and "YES" in row  # no winset answer; the walk
    assert 'id="reliability"' in section and 'id="pit"' in section
    revision = f"us_tariff, 2025-09: {fmt.number(41.9)} when resolved, now {fmt.number(46.9)}"
    assert revision in " ".join(section.split())
    assert HOSTILE not in html and "&lt;script&gt;" in section
    assert 'href="#track-record"' in html


def test_no_ledger_no_section_and_nothing_resolved_says_so(rendering_data: ReportData) -> None:
    assert 'id="track-record"' not in render_html(rendering_data)
    empty = record(
        scores=record().scores.clear(), questions=record().questions.clear(),
        reliability=record().reliability.clear(), pit_counts=(0,) * 10,
        revisions=record().revisions.clear(),
    )  # fmt: skip
    html = render_html(dataclasses.replace(rendering_data, track_record=empty))
    assert "Nothing has resolved yet." in html
    assert 'id="reliability"' not in html and 'id="resolved-questions"' not in html


def test_the_summary_has_the_score_table(rendering_data: ReportData) -> None:
    text = render_markdown(dataclasses.replace(rendering_data, track_record=record()))
    assert "## Track record" in text
    assert f"| Questions: Brier score | winset | 2 | {fmt.number(0.125)} |" in text


def test_a_frame_without_its_columns_is_named() -> None:
    with pytest.raises(ContentError, match=r"track_record\.questions: missing columns"):
        record(questions=record().questions.drop(QUESTION_COLUMNS[-1]))
