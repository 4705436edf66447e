"""Publishing end to end on the real bundle: pipeline -> forecast -> report in headless Chromium.

The fit is test-sized (see ``tests.conftest.tiny_config``, whose relaxed gate passes); the
report must still render every section, show the warehouse's numbers, make no network request
and log no console error.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

from flows.forecast import forecast
from flows.publish import assumptions, latest_run, publish
from flows.sweep import sweep
from flows.warehouse import connect
from reports import fmt
from tests.reports.chromium import find_chromium, open_page
from tests.test_sweep_flow import grid_file

pytestmark = pytest.mark.usefixtures("prefect_server")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = find_chromium()


@pytest.fixture(scope="module")
def published(backtested_db: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    reports = tmp_path_factory.mktemp("reports")
    # A copy of the session's fit with one test-sized backtest origin (shared with the backtest
    # tests), so the report's skill section is exercised too.
    db = reports / "w.duckdb"
    shutil.copy(backtested_db["db"], db)
    fc = forecast(db_path=db, n_paths=50, max_draws=40)
    swept = sweep(grid_file(reports), ["tariff_shock=0,2", "taiwan_tension=0,3"],
                  db_path=db)  # fmt: skip
    record = publish(db_path=db, forecast_run_id=fc.run_id, reports_dir=reports)
    with connect(db, read_only=True) as con:
        horizon = con.execute(
            "SELECT pathway, mean FROM forecast_summaries WHERE run_id = ? AND scenario = "
            "'baseline' AND measure = 'pathway_at_horizon' AND uncertainty = 'posterior'",
            [fc.run_id],
        ).fetchall()
        dc = con.execute(
            "SELECT mean FROM sweep_results WHERE sweep_id = ? AND pathway = 'DC' AND "
            "measure = 'pathway_at_horizon' ORDER BY point_id",
            [swept.sweep_id],
        ).fetchall()
        split = con.execute(
            "SELECT part, pathway, mean FROM forecast_attribution WHERE run_id = ? AND "
            "scenario = 'taiwan_strait_crisis'",
            [fc.run_id],
        ).fetchall()
    return {
        "record": record,
        "reports": reports,
        "db": db,
        "horizon": dict(horizon),
        "sweep_dc": dc,
        "taiwan_split": split,
    }


def test_report_files_are_written(published: dict) -> None:
    folder = published["record"].folder
    for name in ("report.html", "summary.md", "forecasts.csv", "forecasts.parquet"):
        assert (folder / name).stat().st_size > 0, name
    assert (published["reports"] / "index.html").is_file()


def test_report_shows_the_backtest_skill(published: dict) -> None:
    html = (published["record"].folder / "report.html").read_text()
    assert 'id="backtest"' in html
    assert "label rps, against persistence: better at" in html


def test_assumptions_name_how_driver_paths_were_drawn(published: dict) -> None:
    html = (published["record"].folder / "report.html").read_text()
    assert "fitted AR(1) paths from their last values, with Gaussian shocks" in html


def test_report_shows_the_sweep_of_its_fit(published: dict) -> None:
    html = (published["record"].folder / "report.html").read_text()
    section = html[html.index('id="sweep"') : html.index("</section>", html.index('id="sweep"'))]
    assert "Every grid point is run against the same fitted posterior" in section
    for (mean,) in published["sweep_dc"]:  # the table shows each point's P(DC) as stored
        assert f">{fmt.pct(mean)}<" in section


def test_report_says_which_driver_moved_each_scenario(published: dict) -> None:
    html = (published["record"].folder / "report.html").read_text()
    start = html.index('id="attribution"')
    table = html[start : html.index("</table>", start)]
    assert "Taiwan Strait crisis" in table
    assert len(published["taiwan_split"]) == 5 * 3  # 3 drivers, remainder, total x pathways
    for _part, _pathway, mean in published["taiwan_split"]:  # as stored, in pp
        assert f">{fmt.pp(mean)}<" in table


def test_publishing_a_run_again_refreshes_it(published: dict) -> None:
    run_id = published["record"].run_id
    again = publish(
        db_path=published["db"], forecast_run_id=run_id, reports_dir=published["reports"]
    )
    assert again.folder == published["record"].folder
    with connect(published["db"], read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM reports WHERE run_id = ?", [run_id]).fetchall()
    assert rows == [(1,)]


def test_a_healthy_publication_run_becomes_latest(published: dict) -> None:
    latest = published["reports"] / "latest"
    assert published["record"].latest == latest
    assert latest.resolve() == published["record"].folder.resolve()


def test_a_too_stale_row_is_never_latest(published: dict) -> None:
    """``latest`` is derived from the ``reports`` rows: a row published later whose run was too
    stale (its ``too_stale`` reason set) is listed but skipped."""
    with connect(published["db"], read_only=True) as con:
        rows = con.sql("SELECT * FROM reports").pl()
    assert rows["too_stale"].null_count() == rows.height  # the bundle: nothing stale
    run_id = published["record"].run_id
    assert latest_run(rows) == run_id
    newer = rows.filter(pl.col("run_id") == run_id).with_columns(
        pl.lit("fc-later").alias("run_id"),
        (pl.col("published_at") + dt.timedelta(days=31)).alias("published_at"),
        pl.lit("key source tariffs stale").alias("too_stale"),
    )
    assert latest_run(pl.concat([rows, newer])) == run_id
    assert latest_run(pl.concat([rows, newer.with_columns(too_stale=None)])) == "fc-later"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_in_headless_chromium(published: dict) -> None:
    assert CHROMIUM is not None
    url = (published["record"].folder / "report.html").as_uri()
    with open_page(CHROMIUM, width=1200, height=900) as page:
        page.send("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        headline = page.evaluate("document.getElementById('headline').innerText")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(ARTIFACTS / "pipeline-report.png")
        errors, requests = page.console_errors(), page.requested_urls()
    assert errors == []
    assert requests == [url]
    lines = {line.strip() for line in headline.splitlines()}
    for pathway, mean in published["horizon"].items():  # the warehouse's numbers, as shown
        assert fmt.pct(mean) in lines, pathway


def test_bootstrap_forecasts_say_so() -> None:
    said = " ".join(assumptions({"driver_paths": "bootstrap", "block_months": 6}))
    assert "resampled in 6-month blocks of the historical ones" in said
