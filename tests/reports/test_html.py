"""The HTML report: self-contained, escaped, headline formatted as documented, deterministic."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from reports import fmt, render_html
from reports.content import Estimate, Headline, ReportData
from tests.reports.conftest import make_report_data, with_optional_sections

EVIL = "<script>alert(1)</script>"
# Attribute or CSS references that would make the browser fetch something.
EXTERNAL = re.compile(
    r"""(?:src|href|xlink:href|srcset|action|poster|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)"""
    r"""|@import|url\(\s*["']?(?!#)""",
    re.IGNORECASE,
)


class _Sections(HTMLParser):
    """Collects the text inside each <section id=...> (enough to test what a section says)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self._stack: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._stack.append(dict(attrs).get("id"))
            self.text.setdefault(self._stack[-1] or "", [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack:
            self.text[self._stack[-1] or ""].append(data)


def sections(html: str) -> dict[str, str]:
    parser = _Sections()
    parser.feed(html)
    return {k: " ".join(" ".join(v).split()) for k, v in parser.text.items()}


def test_headline_numbers_are_formatted_as_documented(rendering_data: ReportData) -> None:
    headline = Headline(
        scenario="baseline",
        pathways={
            "DC": Estimate(0.423, 0.308, 0.551),
            "SE": Estimate(0.004, 0.0, 0.02),
            "MC": Estimate(0.573, 0.44, 0.9996),
        },
        ever_dc=Estimate(0.6, 0.41, 0.78),
    )
    text = sections(render_html(replace(rendering_data, headline=headline)))["headline"]
    assert "Decoupling (DC) 42% 90% interval 31–55%" in text
    assert "Selective engagement (SE) <1% 90% interval 0–2%" in text
    assert "Managed competition (MC) 57% 90% interval 44% to >99%" in text
    assert "Ever in decoupling by 2029-01 60% 90% interval 41–78%" in text
    assert "Conditional on the assumed effect sizes" in text
    assert "Baseline (calendar only), January 2029" in text


def test_no_external_resources(full_rendering_data: ReportData) -> None:
    html = render_html(full_rendering_data)
    assert not EXTERNAL.findall(html)
    assert "http://" not in html and "https://" not in html
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed"):
        assert tag not in html.lower()


def _rename(frame: pl.DataFrame, column: str, old: str, new: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(column).replace(old, new))


def test_user_text_is_escaped_everywhere(full_rendering_data: ReportData) -> None:
    d = full_rendering_data
    scenarios = _rename(d.scenarios, "name", "tariff_escalation", EVIL).with_columns(
        pl.when(pl.col("name") == EVIL).then(pl.lit(EVIL)).otherwise("title").alias("title")
    )
    evil = replace(
        d,
        scenarios=scenarios,
        monthly=_rename(d.monthly, "scenario", "tariff_escalation", EVIL),
        scenario_horizon=_rename(d.scenario_horizon, "scenario", "tariff_escalation", EVIL),
        driver_paths=_rename(d.driver_paths, "scenario", "tariff_escalation", EVIL),
        events=d.events.with_columns(pl.lit(f"{EVIL} & <b>bold</b>").alias("event")),
        assumptions=(EVIL,),
        driver_notes={"W_US": EVIL},
        run=replace(d.run, run_id=EVIL, healthy=False, problems=(EVIL,)),
    )
    html = render_html(evil)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;") >= 8  # tables, chart labels, legends, notes


def test_optional_sections_only_when_given(
    rendering_data: ReportData, full_rendering_data: ReportData
) -> None:
    optional = ("moved", "sweep", "backtest", "prior-only", "pathway-rules")
    bare, full = render_html(rendering_data), render_html(full_rendering_data)
    for section in optional:
        assert f'id="{section}"' not in bare and f'href="#{section}"' not in bare
        assert f'id="{section}"' in full and f'href="#{section}"' in full
    assert 'id="drivers-paths"' not in bare and 'id="drivers-paths"' in full
    assert 'id="driver-flags"' not in bare and 'id="driver-flags"' in full


def test_prior_only_forecast_is_shown_beside_the_posterior(
    full_rendering_data: ReportData,
) -> None:
    text = sections(render_html(full_rendering_data))["prior-only"]
    d = full_rendering_data
    pick = (pl.col("scenario") == "baseline") & (pl.col("pathway") == "DC")
    at = pl.col("measure") == "pathway_at_horizon"
    posterior = d.scenario_horizon.filter(pick & at)["mean"].item()
    prior = d.prior_only.filter(pick & at)["mean"].item()
    row = f"Decoupling {fmt.pct(posterior)}"
    assert row in text and fmt.pct(prior) in text
    assert fmt.pp(posterior - prior) in text
    # every scenario, each pathway and ever-decoupling
    assert text.count("ever decoupling") == d.scenarios.height


def test_headline_cards_print_the_prior_alone(full_rendering_data: ReportData) -> None:
    d = full_rendering_data
    assert d.prior_only is not None
    text = sections(render_html(d))["headline"]
    at = (pl.col("scenario") == d.headline.scenario) & (pl.col("measure") == "pathway_at_horizon")
    for p in d.headline.pathways:
        prior = d.prior_only.filter(at & (pl.col("pathway") == p))["mean"].item()
        assert f"prior alone {fmt.pct(prior)}" in text
    assert "prior alone" not in sections(render_html(replace(d, prior_only=None)))["headline"]


def test_coverage_table_shows_how_driver_months_were_filled(
    full_rendering_data: ReportData,
) -> None:
    card = sections(render_html(full_rendering_data))["model-card"]
    assert "International tension (INTL) 204 0 8 8 0 0 carried forward" in card
    assert "Of which partial" in card and "Beyond carry limit" in card


def test_attribution_table_splits_each_scenario_move(
    rendering_data: ReportData, full_rendering_data: ReportData
) -> None:
    assert 'id="attribution"' not in render_html(rendering_data)
    html = render_html(full_rendering_data)
    table = html[
        html.index('id="attribution"') : html.index("</table>", html.index('id="attribution"'))
    ]
    assert table.count('class="total"') == 3  # every scenario but the baseline
    frame = full_rendering_data.attribution
    assert frame is not None
    rows = re.findall(r"<tr[^>]*><td>([^<]*)</td><td>([^<]*)</td>", table)
    assert rows[:5] == [
        ("Tariff escalation", "US win-set (W_US)"),
        ("", "China win-set (W_CN)"),
        ("", "International tension (INTL)"),
        ("", "Drivers together (remainder)"),
        ("", "Total move from the baseline"),
    ]
    for part, pathway in (("W_US", "DC"), ("total", "DC"), ("interaction", "MC")):
        hit = frame.filter(
            (pl.col("scenario") == "taiwan_strait_crisis")
            & (pl.col("part") == part)
            & (pl.col("pathway") == pathway)
        ).row(0, named=True)
        assert f'{fmt.pp(hit["mean"])}<br><span class="small">' in table
        assert fmt.pp_interval(hit["q05"], hit["q95"]) in table


def test_what_moved_shows_changes(full_rendering_data: ReportData) -> None:
    text = sections(render_html(full_rendering_data))["moved"]
    # previous DC 30%, now the fixture's 32%; W_US last value -0.50 -> +0.07
    assert "P(Decoupling) in 2029-01 30% 32% +2.3 pp" in text
    assert "US win-set (W_US), last value −0.50 +0.07 +0.57" in text


def test_unhealthy_and_fast_runs_are_flagged(rendering_data: ReportData) -> None:
    run = replace(
        rendering_data.run, healthy=False, problems=("max R-hat 1.200 > 1.01",), fit_mode="fast"
    )
    html = render_html(replace(rendering_data, run=run))
    assert 'role="alert"' in html and "max R-hat 1.200 &gt; 1.01" in html
    assert "FAILED HEALTH GATE" in html and "FAST FIT" in html
    healthy = render_html(rendering_data)
    assert 'role="alert"' not in healthy and "FAST FIT" not in healthy


def test_model_card_flags_prior_dominated_effects(rendering_data: ReportData) -> None:
    card = sections(render_html(rendering_data))["model-card"]
    assert card.count("prior-dominated") >= 4  # four flagged rows in the fixture, plus the note
    assert "Normal(mu=-0.3, sigma=0.3)" in card
    assert "94% interval" in card
    for assumption in rendering_data.assumptions:
        assert assumption in card


def test_deterministic_output() -> None:
    first = render_html(with_optional_sections(make_report_data()))
    second = render_html(with_optional_sections(make_report_data()))
    assert first == second
    # Another interpreter with another string-hash seed: no set or dict order leaks in.
    script = (
        "import hashlib; from reports import render_html; "
        "from tests.reports.conftest import make_report_data, with_optional_sections; "
        "html = render_html(with_optional_sections(make_report_data())); "
        "print(hashlib.sha256(html.encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == hashlib.sha256(first.encode()).hexdigest()


def test_every_chart_is_accessible_well_formed_svg(full_rendering_data: ReportData) -> None:
    html = render_html(full_rendering_data)
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)
    # fan, history, paths, scenarios, 3 scenario fans, regimes, effects, sweep, pathway strip
    assert len(svgs) == 11
    for svg in svgs:
        root = ET.fromstring(svg.replace("&nbsp;", " "))
        assert root.get("role") == "img" and root.get("aria-label")
        assert root[0].tag == "title" and root[0].text == root.get("aria-label")


@pytest.mark.parametrize("sweep_params", [1, 3])
def test_sweep_with_other_than_two_parameters_renders_a_tornado(
    full_rendering_data: ReportData, sweep_params: int
) -> None:
    sweep = full_rendering_data.sweep
    assert sweep is not None
    frame = sweep.frame.with_columns(pl.lit("x").alias("extra"))
    params = ("tariff_points", "taiwan_crisis", "extra")[:sweep_params]
    html = render_html(
        replace(full_rendering_data, sweep=replace(sweep, frame=frame, parameters=params))
    )
    assert "Range of P(Decoupling) at the horizon over each parameter" in html


def test_backtest_verdicts_in_words(full_rendering_data: ReportData) -> None:
    text = sections(render_html(full_rendering_data))["backtest"]
    assert (
        "label rps, against persistence: better at 6 months; worse at none; "
        "no clear difference at 12 months." in text
    )
    assert "against the same model without drivers: better at none" in text


def test_sweep_says_when_points_come_from_refits(full_rendering_data: ReportData) -> None:
    sweep = full_rendering_data.sweep
    assert sweep is not None
    shared = sections(render_html(full_rendering_data))["sweep"]
    assert "Every grid point is run against the same fitted posterior" in shared
    refitted = replace(full_rendering_data, sweep=replace(sweep, refits=3, unhealthy_refits=1))
    text = sections(render_html(refitted))["sweep"]
    assert "come from 3 fast refits" in text and "1 of which failed the health gate" in text
