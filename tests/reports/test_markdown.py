"""The Markdown summary: headline table, scenario table, health; nothing can break a table."""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from reports import render_markdown
from reports.content import PATHWAY_NAMES, Estimate, Headline, ReportData
from reports.fmt import pct


def test_headline_table(rendering_data: ReportData) -> None:
    headline = Headline(
        scenario="baseline",
        pathways={
            "DC": Estimate(0.423, 0.308, 0.551),
            "SE": Estimate(0.15, 0.04, 0.25),
            "MC": Estimate(0.427, 0.3, 0.999),
        },
        ever_dc=Estimate(0.6, 0.41, 0.78),
    )
    md = render_markdown(replace(rendering_data, headline=headline))
    assert "| Pathway | Probability | 90% interval | Prior alone |" in md
    assert "| Decoupling (DC) | 42% | 31–55% |" in md
    assert "| Managed competition (MC) | 43% | 30% to &gt;99% |" in md
    assert "| Ever in decoupling by 2029-01 | 60% | 41–78% |" in md
    assert "**Conditional on the assumed effect sizes**" in md


def test_headline_prints_the_prior_alone_beside_each_figure(
    full_rendering_data: ReportData,
) -> None:
    d = full_rendering_data
    assert d.prior_only is not None
    md = render_markdown(d)
    table = md[md.index("| Pathway | Probability") : md.index("## Scenarios")]
    own = d.prior_only.filter(pl.col("scenario") == d.headline.scenario)
    rows = {p: f"| {PATHWAY_NAMES[p]} ({p}) |" for p in d.headline.pathways}
    rows["ever_DC"] = "| Ever in decoupling by"
    for key, start in rows.items():
        measure, pathway = ("ever_DC", "DC") if key == "ever_DC" else ("pathway_at_horizon", key)
        prior = own.filter((pl.col("measure") == measure) & (pl.col("pathway") == pathway))
        [line] = [line for line in table.splitlines() if line.startswith(start)]
        assert line.endswith(f"| {pct(prior['mean'].item())} |"), line


def test_scenario_table_and_health(rendering_data: ReportData) -> None:
    md = render_markdown(rendering_data)
    assert "| Scenario | DC | SE | MC | Ever DC |" in md
    assert md.count("\n| ") == 2 + 4 + 2 + 4  # headline: header, 4 rows; scenarios: 4 rows
    assert "Healthy: the fit passed the diagnostics gate." in md
    run = replace(rendering_data.run, healthy=False, problems=("3 divergences > 0",))
    failed = render_markdown(replace(rendering_data, run=run))
    assert "**Failed the health gate**" in failed and "- 3 divergences &gt; 0" in failed


def test_user_text_cannot_break_tables_or_inject_html(rendering_data: ReportData) -> None:
    evil = "a | b <script>alert(1)</script> *x*\nnew line"
    scenarios = rendering_data.scenarios.with_columns(
        pl.when(pl.col("name") == "grand_bargain")
        .then(pl.lit(evil))
        .otherwise("title")
        .alias("title")
    )
    md = render_markdown(replace(rendering_data, scenarios=scenarios))
    assert "<script" not in md
    row = next(line for line in md.splitlines() if "alert" in line)
    assert row.startswith("| a \\| b &lt;script&gt;alert(1)&lt;/script&gt; \\*x\\* new line |")
    assert len(re.findall(r"(?<!\\)\|", row)) == 6  # five cells: the escaped pipe is text


def test_deterministic(rendering_data: ReportData) -> None:
    assert render_markdown(rendering_data) == render_markdown(rendering_data)


def test_attribution_table_adds_up(full_rendering_data: ReportData) -> None:
    text = render_markdown(full_rendering_data)
    section = text[text.index("## Which driver moved each scenario") : text.index("## Health")]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    assert lines[0] == "| Scenario | Part | DC | SE | MC |"
    assert len(lines) == 2 + 3 * 5  # header, rule, 3 scenarios x (3 drivers, remainder, total)
    assert "| Tariff escalation | US win-set (W\\_US) |" in section
    assert "## Which driver" not in render_markdown(replace(full_rendering_data, attribution=None))
