"""The many-origin evaluation in the report: the headline sentence at the top and in
summary.md, the skill tables, the coverage table and the PIT chart in the backtest section,
also in a real headless Chromium (no errors, no requests, no sideways scrolling on a phone).
RENDERING FIXTURE: scores are SYNTHETIC (drawn with fixed seeds), run through the real
evaluation functions."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models.evaluation import (
    coverage_table,
    headline,
    pit_histogram,
    score_forecast,
    skill_table,
)
from reports import Evaluation, render_html, render_markdown
from tests.reports.chromium import find_chromium, open_page
from tests.reports.conftest import make_report_data
from tests.reports.test_html import sections

CHROMIUM = find_chromium()


def _evaluation() -> Evaluation:
    rng = np.random.default_rng(1)
    z = rng.standard_normal(500)
    frames = []
    months = np.datetime64("2018-01", "M") + np.arange(30)
    for month in months:
        origin = month.astype("datetime64[D]").astype(dt.date)
        observed = rng.standard_normal((4, 2))
        for model, sd in (("hmm", 1.0), ("hmm_no_drivers", 1.2), ("persistence", 2.5)):
            draws = np.broadcast_to(sd * z, (4, 2, z.size))
            frames.append(
                score_forecast(origin, model, (1, 3, 6, 12), ("tension", "tariff"), draws, observed)
            )
    scores = pl.concat(frames)
    skill = skill_table(scores)
    return Evaluation(
        headline=headline(skill),
        origins=30,
        first_origin=dt.date(2018, 1, 1),
        last_origin=dt.date(2020, 6, 1),
        skill=skill,
        coverage=coverage_table(scores),
        pit=pit_histogram(scores.filter(pl.col("model").is_in(["hmm", "persistence"]))),
    )


def test_the_evaluation_is_in_the_headline_and_its_section() -> None:
    evaluation = _evaluation()
    data = replace(make_report_data(), evaluation=evaluation)
    html = render_html(data)
    text = sections(html)
    assert "6 months ahead the model beats persistence" in evaluation.headline
    assert evaluation.headline in text["headline"]
    section = text["backtest"]
    assert evaluation.headline in section and "30 monthly origins" in section
    assert "hmm − persistence" in section and "tension: hmm − persistence" in section
    assert "In the 90% interval" in section
    svg = html[html.index('<svg class="chart" id="evaluation-pit"') :]
    ET.fromstring(svg[: svg.index("</svg>") + 6])  # well-formed
    assert svg.count("<rect") == 2 * 4 * 10  # two models x four leads x ten bins
    assert f"**Skill**: {evaluation.headline}" in render_markdown(data)


def test_without_an_evaluation_nothing_is_added() -> None:
    data = make_report_data()
    html = render_html(data)
    assert "Track record" not in html and "evaluation-pit" not in html
    assert "Track record" not in render_markdown(data)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1200, 400])
def test_the_evaluation_in_chromium(tmp_path: Path, width: int) -> None:
    assert CHROMIUM is not None
    evaluation = _evaluation()
    path = tmp_path / "report.html"
    path.write_text(render_html(replace(make_report_data(), evaluation=evaluation)), "utf-8")
    with open_page(CHROMIUM, width=width, height=900) as page:
        page.send("Page.navigate", url=path.as_uri())
        page.wait_for("Page.loadEventFired")
        shown = page.evaluate("document.getElementById('evaluation-headline').innerText")
        pit = page.evaluate(
            "document.getElementById('evaluation-pit').getBoundingClientRect().width"
        )
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        errors, requests = page.console_errors(), page.requested_urls()
    assert shown.strip() == evaluation.headline
    assert errors == [] and requests == [path.as_uri()]
    assert overflow <= 0 and 0 < pit <= width
