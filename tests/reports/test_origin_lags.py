"""Old values at the forecast origin are flagged: a driver carried forward more than the
model's carry limit gets a notice at the top and in the summary, and a driver's input whose
last value lags the origin by more than that is marked in the coverage table.

RENDERING FIXTURE: the made-up report data of ``conftest.py`` (origin 2025-10; INTL carried 8
months; approval last 2025-01, the tariff 2025-10).
"""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from reports import ReportData, render_html, render_markdown
from reports.view import carried_at_origin, coverage_rows


def coverage_cells(html: str) -> dict[str, str]:
    """Each coverage row's last cell (months behind the origin, and its flag)."""
    table = html[html.index('<table id="coverage">') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r"<tr><td><code>([^<]+)</code></td>(.*?)</tr>", table)
    last = '<td class="num">'
    return {column: row.split(last)[-1].removesuffix("</td>") for column, row in cells}


def test_a_driver_carried_past_the_limit_is_named_at_the_top(
    full_rendering_data: ReportData,
) -> None:
    [carried] = carried_at_origin(full_rendering_data)
    assert (carried.driver, carried.months, carried.status) == ("INTL", 8, "carried_forward")
    assert f"{carried.last_observed:%Y-%m}" == "2025-02"
    html = render_html(full_rendering_data)
    start = html.index('<div class="note" id="carried-drivers"')
    assert start < html.index('<section id="headline"')
    notice = html[start : html.index("</div>", start)]
    assert "Forecast origin 2025-10: 1 driver not observed for more than 3 months." in notice
    assert "last observed 2025-02, 8 months before the origin" in notice
    assert 'carried forward (8 months) <span class="flag">stale at the origin</span>' in html
    summary = render_markdown(full_rendering_data)
    assert "last observed 2025-02, 8 months before; carried forward\n\n## Headline" in summary


def test_within_the_limit_nothing_is_flagged(full_rendering_data: ReportData) -> None:
    flags = full_rendering_data.driver_flags.with_columns(last_since=pl.Series([0, 0, 3]))
    data = replace(full_rendering_data, driver_flags=flags)
    assert carried_at_origin(data) == []
    html = render_html(data)
    assert 'id="carried-drivers"' not in html and "stale at the origin" not in html
    assert "not observed for more than" not in render_markdown(data)


def test_the_coverage_table_marks_driver_inputs_behind_the_origin(
    rendering_data: ReportData,
) -> None:
    data = replace(rendering_data, driver_inputs={"approval": "W_US"})
    rows = {r.column: r for r in coverage_rows(data)}
    assert (rows["approval"].feeds, rows["approval"].behind, rows["approval"].flagged) == (
        "W_US", 9, True,
    )  # fmt: skip
    assert (rows["us_tariff_pct"].behind, rows["us_tariff_pct"].flagged) == (0, False)
    assert coverage_cells(render_html(data)) == {
        "approval": '9 <span class="flag">not current</span>',
        "us_tariff_pct": "0",
    }
    # a column that enters no driver is not flagged however old (e.g. event counts)
    assert coverage_cells(render_html(rendering_data))["approval"] == "9"
