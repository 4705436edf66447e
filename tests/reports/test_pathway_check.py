"""The report's "by the essay's rules" section, the validity failure at the top, and the
prior-determined headline (RENDERING FIXTURE: made-up numbers, see conftest)."""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from reports import render_html, render_markdown
from reports.content import ReportData
from reports.view import classified_by_year, disagreements

FAILURE = "the most likely path agrees with the pathway rules in 55% of 40 classifiable months"


def invalid(data: ReportData) -> ReportData:
    return replace(data, run=replace(data.run, valid=False, validity_problems=(FAILURE,)))


def test_section_shows_both_agreements_and_their_baselines(
    full_rendering_data: ReportData,
) -> None:
    html = render_html(full_rendering_data)
    section = html[html.index('id="pathway-rules"') :]
    section = section[: section.index("</section>")]
    assert ">55%<" in section and "of 40 classifiable months" in section
    assert ">50%<" in section and "of 12 labelled months" in section
    assert "always answering Managed competition: 60%" in section
    assert 'id="pathway-strip"' in section
    assert "Made-up truce in the last month" in section
    # a summit month's new restrictions and the timeline's label are named beside it
    truce = section[section.index("Made-up truce in the last month") :]
    truce = truce[: truce.index("</tr>")]
    assert "Made-up export control" in truce and "Decoupling" in truce


def test_disagreements_list_every_month_where_both_name_different_pathways(
    full_rendering_data: ReportData,
) -> None:
    check = full_rendering_data.pathway_check
    assert check is not None
    expected = check.months.filter(
        pl.col("rules").is_not_null() & (pl.col("rules") != pl.col("model"))
    )
    rows = disagreements(check)
    assert len(rows) == expected.height > 0
    html = render_html(full_rendering_data)
    assert f"The {len(rows)} months where the model and the rules differ" in html
    assert html.count("made-up evidence") == len(rows)
    strip = re.search(r'<svg[^>]*id="pathway-strip".*?</svg>', html, flags=re.DOTALL)
    assert strip is not None
    assert strip.group(0).count('stroke="#222222"') == len(rows)  # one tick per disagreement


def test_a_failed_validity_gate_is_stated_first_and_still_published(
    full_rendering_data: ReportData,
) -> None:
    html = render_html(invalid(full_rendering_data))
    alert = html.index('id="validity-failure"')
    assert alert < html.index('id="headline"') and FAILURE in html
    assert "FAILED HEALTH GATE" not in html  # healthy: published, with the failure stated
    md = render_markdown(invalid(full_rendering_data))
    assert md.index("failed the validity gate") < md.index("## Headline")
    assert "55% of 40 classifiable months" in md
    for valid in (True, None):
        data = replace(full_rendering_data, run=replace(full_rendering_data.run, valid=valid))
        assert 'id="validity-failure"' not in render_html(data)
        assert "validity gate" not in render_markdown(data)


def test_a_prior_determined_headline_says_so_with_the_range(
    full_rendering_data: ReportData, rendering_data: ReportData
) -> None:
    html = render_html(full_rendering_data)
    headline = html[html.index('id="headline-title"') : html.index('class="cards"')]
    assert ": prior-determined</h2>" in headline
    assert "P(DC 2029-01) ranges 21%–38% across the prior sweep" in headline
    md = render_markdown(full_rendering_data)
    assert "prior-determined (P(DC 2029-01) ranges 21%–38% across the prior sweep)" in md
    spread = full_rendering_data.prior_spread
    assert spread is not None
    calm = replace(
        full_rendering_data, prior_spread=replace(spread, high=0.25, prior_determined=False)
    )
    assert "prior-determined</h2>" not in render_html(calm)
    assert "Not prior-determined" in render_html(calm)
    assert "fail the validity gate: under those priors" not in render_html(calm)
    shaky = replace(full_rendering_data, prior_spread=replace(spread, refits=8, invalid_refits=4))
    assert "4 of its 8 refits fail the validity gate" in render_html(shaky)
    assert "no refit is both healthy and valid." in render_html(shaky)
    assert "4 of the prior sweep's 8 refits fail the validity gate" in render_markdown(shaky)
    ranged = replace(
        shaky, prior_spread=replace(shaky.prior_spread, valid_low=0.24, valid_high=0.27)
    )
    assert "across the healthy, valid refits P(DC) ranges 24%–27%." in render_html(ranged)
    assert "across the healthy, valid refits P(DC) ranges 24%–27%." in render_markdown(ranged)
    unswept = render_html(rendering_data)
    assert "prior-determined" not in unswept
    assert "No prior sweep has been run on this fit" in unswept
    assert "No prior sweep has been run on this fit" not in render_html(full_rendering_data)
    assert "No prior sweep has been run" in render_markdown(rendering_data)


def test_months_per_year_add_up(full_rendering_data: ReportData) -> None:
    check = full_rendering_data.pathway_check
    assert check is not None
    years = classified_by_year(check)
    assert sum(y["classified"] for y in years) == check.months["rules"].is_not_null().sum()
    for y in years:
        assert y["DC"] + y["SE"] + y["MC"] == y["classified"]
    table = render_html(full_rendering_data).split('id="classified-years"')[1]
    assert table.split("</table>")[0].count("<tr>") == len(years) + 1
