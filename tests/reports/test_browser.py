"""The rendered report in a REAL headless Chromium: no errors, no requests, readable layout.

Skipped only when no Chromium is installed (``make test`` installs it where it can). The
report and a full-page screenshot are kept in ``test-artifacts/`` (gitignored) for a human
to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reports import render_html
from reports.content import ReportData
from tests.reports.chromium import find_chromium, open_page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


@pytest.fixture
def report_file(full_rendering_data: ReportData) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "report.html"
    path.write_text(render_html(full_rendering_data), encoding="utf-8")
    return path


def test_report_in_chromium(report_file: Path) -> None:
    assert CHROMIUM is not None
    url = report_file.as_uri()
    with open_page(CHROMIUM, width=1200, height=900) as page:
        page.send("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        headline = page.evaluate("document.getElementById('headline').innerText")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        charts = page.evaluate(
            "Array.from(document.querySelectorAll('svg.chart'))"
            ".map(s => Math.round(s.getBoundingClientRect().height))"
        )
        page.screenshot(ARTIFACTS / "report.png")
        page.send("Emulation.setEmulatedMedia", media="print")
        nav_in_print = page.evaluate("getComputedStyle(document.querySelector('nav')).display")
        errors, requests = page.console_errors(), page.requested_urls()

    assert errors == []
    assert requests == [url]  # the page itself and nothing else: no fonts, images, scripts
    lines = [line.strip() for line in headline.splitlines() if line.strip()]
    # the full fixture's prior sweep moved P(DC) 17 points: the headline says so
    assert lines[0] == "Headline: Baseline (calendar only), January 2029: prior-determined"
    assert any("ranges 21%–38% across the prior sweep" in line for line in lines)
    assert "Decoupling (DC)" in lines and "32%" in lines and "90% interval 20–45%" in lines
    assert any(line.startswith("Conditional on the assumed effect sizes") for line in lines)
    assert overflow <= 0
    assert len(charts) == 11 and min(charts) > 100  # every chart laid out at a readable size
    assert nav_in_print == "none"
    assert (ARTIFACTS / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_narrow_screen_does_not_widen_the_page(report_file: Path) -> None:
    assert CHROMIUM is not None
    with open_page(CHROMIUM, width=400, height=800) as page:
        page.send("Page.navigate", url=report_file.as_uri())
        page.wait_for("Page.loadEventFired")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    assert overflow <= 0


def test_the_harness_sees_requests_and_errors(tmp_path: Path) -> None:
    """Guards the checks above against passing vacuously: a bad page must be caught."""
    assert CHROMIUM is not None
    bad = tmp_path / "bad.html"
    external = "http://127.0.0.1:9/missing.png"  # discard port: refused, never leaves the host
    bad.write_text(
        f'<img src="{external}"><script>console.error("boom"); null.x;</script>', encoding="utf-8"
    )
    with open_page(CHROMIUM) as page:
        page.send("Page.navigate", url=bad.as_uri())
        page.wait_for("Page.loadEventFired")
        requests, errors = page.requested_urls(), page.console_errors()
    assert external in requests
    assert any("boom" in e for e in errors)
    assert any("null" in e or "Uncaught" in e for e in errors)
