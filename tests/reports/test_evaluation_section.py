"""The many-origin evaluation in the report: the headline sentence at the top and in
summary.md, the skill tables, the coverage table and the PIT chart in the backtest section.
RENDERING FIXTURE: scores are SYNTHETIC (drawn with fixed seeds), run through the real
evaluation functions."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import polars as pl

from models.evaluation import (
    coverage_table,
    headline,
    pit_histogram,
    score_forecast,
    skill_table,
)
from reports import Evaluation, render_html, render_markdown
from tests.reports.conftest import make_report_data
from tests.reports.test_html import sections


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
    assert f"**Track record**: {evaluation.headline}" in render_markdown(data)


def test_without_an_evaluation_nothing_is_added() -> None:
    data = make_report_data()
    html = render_html(data)
    assert "Track record" not in html and "evaluation-pit" not in html
    assert "Track record" not in render_markdown(data)
