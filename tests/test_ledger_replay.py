"""The resolution ledger replayed through time on the real bundle.

The bundled files are cut as if published at the end of 2025-08 (each data line dated later is
dropped; the connector must parse the cut exactly as the full file's rows up to that month).
The real ``pipeline`` flow ingests them, fits a test-sized model, forecasts and publishes: the
forecast enters the ledger. Then the files as of 2025-11 are ingested by the next pipeline run:
the 1- and 3-month forecasts and the questions whose months are now in the data resolve, and
the new report's track record shows them. Publishing the first run again, and resolving again,
change nothing; a later revision of an outcome is noted, never rescored.

Every expected outcome is computed here from the stored panel and the question file, not typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from flows.ledger import resolve_due
from flows.panel import frame_hash
from flows.pipeline import PipelineResult, pipeline
from flows.publish import publish
from flows.sources import SOURCES
from flows.warehouse import connect, replace_tables
from models import ledger
from models.questions import load_questions, series_frame, value_at
from models.scoring import crps_sample
from tests.conftest import DATA_DIR, tiny_config
from tests.reports.chromium import find_chromium, open_page

# Two real pipeline runs (about 5 minutes on 2 cores): `make test-slow`.
pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]
THEN, LATER = "2025-08", "2025-11"  # the forecast's month, and three months on
LEDGER = ("ledger_entries", "ledger_quantities", "ledger_questions", "ledger_resolutions",
          "ledger_revisions")  # fmt: skip
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y")
SCENARIO_FILES = ("baseline.yaml", "calendar.yaml")
CHROMIUM = find_chromium()


# ------------------------------------------------------------------ the bundle as of a month


def month_end(month: str) -> dt.date:
    first = dt.date.fromisoformat(f"{month}-01")
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _cell_date(cell: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cell.strip().strip('"'), fmt).date()
        except ValueError:
            continue
    return None


def line_date(line: bytes) -> dt.date | None:
    """The latest date among a line's first three cells (a poll's end after its start), or a
    leading ``year,month`` pair (the EPU file); None for a quoted record's continuation."""
    cells = line.decode("utf-8-sig", errors="replace").split(",")[:3]
    dates = [d for d in map(_cell_date, cells) if d is not None]
    if dates:
        return max(dates)
    year, month = [*cells, "", ""][:2]
    if len(year.strip()) == 4 and year.strip().isdigit() and month.strip().isdigit():
        return dt.date(int(year), int(month), 1)
    return None


def cut_bundle(folder: Path, month: str) -> Path:
    """The bundle as published by the end of ``month``: files with later rows are cut (and
    checked against their connector), everything else is linked, except the scenarios other
    than the baseline (the ledger draws its own driver paths; more scenarios only cost time)."""
    end = month_end(month)
    cuts: dict[str, bytes] = {}
    for source in SOURCES.values():
        time = next(c for c, t in source.schema.items() if t in (pl.Date(), pl.Datetime()))
        for dataset in source.datasets:
            content = (DATA_DIR / dataset.bundled).read_bytes()
            full = dataset.parse(content, dataset.bundled).rows
            if full.is_empty() or full[time].cast(pl.Date).max() <= end:
                continue
            header, *body = content.splitlines(keepends=True)
            kept, keep = [header], True
            for line in body:
                when = line_date(line)
                keep = keep if when is None else when <= end  # continuations follow their row
                if keep and line.strip():
                    kept.append(line)
            cut = b"".join(kept)
            expected = full.filter(pl.col(time).cast(pl.Date) <= end)
            assert dataset.parse(cut, dataset.bundled).rows.equals(expected), dataset.bundled
            cuts[dataset.bundled] = cut
    for entry in DATA_DIR.rglob("*"):
        if entry.parent.name == "scenarios" and entry.name not in SCENARIO_FILES:
            continue
        target = folder / entry.relative_to(DATA_DIR)
        if entry.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        relative = str(entry.relative_to(DATA_DIR))
        if relative in cuts:
            target.write_bytes(cuts[relative])
        else:
            target.symlink_to(entry)
    return folder


# ------------------------------------------------------------------ the replay


def ledger_tables(db: Path) -> dict[str, pl.DataFrame]:
    with connect(db, read_only=True) as con:
        return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl() for t in LEDGER}


@dataclass(frozen=True)
class Replay:
    db: Path
    reports: Path
    first: PipelineResult
    second: PipelineResult
    after_first: dict[str, pl.DataFrame]
    after_second: dict[str, pl.DataFrame]
    after_republish: dict[str, pl.DataFrame]
    resolved_again: object
    panel: pl.DataFrame  # the panel that resolved the entries


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    folder = tmp_path_factory.mktemp("ledger-replay")
    then = cut_bundle(folder / f"data-{THEN}", THEN)
    later = cut_bundle(folder / f"data-{LATER}", LATER)
    db, reports, config = folder / "w.duckdb", folder / "reports", tiny_config(folder)
    with pytest.MonkeyPatch.context() as env:  # settings are read per call, in this process
        env.setenv("WINSET_VAR_DIR", str(folder / "var"))
        env.setenv("WINSET_DATA_DIR", str(then))
        first = pipeline(db_path=db, config_path=config, n_paths=50, reports_dir=reports)
        after_first = ledger_tables(db)
        env.setenv("WINSET_DATA_DIR", str(later))
        second = pipeline(db_path=db, config_path=config, n_paths=50, reports_dir=reports)
        after_second = ledger_tables(db)
        publish(db_path=db, forecast_run_id=first.report.run_id, reports_dir=reports)
        after_republish = ledger_tables(db)
        resolved_again = resolve_due(db)
    with connect(db, read_only=True) as con:
        panel = con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
    return Replay(db, reports, first, second, after_first, after_second, after_republish,
                  resolved_again, panel)  # fmt: skip


def test_the_forecast_at_the_month_enters_the_ledger(replay: Replay) -> None:
    entries = replay.after_first["ledger_entries"]
    assert entries["run_id"].to_list() == [replay.first.report.run_id]
    assert entries["origin"][0] == dt.date.fromisoformat(f"{THEN}-01")
    assert entries["panel_hash"][0] == replay.first.panel.data_hash()
    assert '"tariffs": "2025-08"' in entries["source_months_json"][0]
    quantities = replay.after_first["ledger_quantities"]
    horizons = {label for label, _ in ledger.horizons(entries["origin"][0])}
    assert set(quantities["horizon"]) == horizons == {"1m", "3m", "6m", "12m", "2029-01"}
    assert set(quantities["forecaster"]) == set(ledger.FORECASTERS)
    assert quantities["draws"].list.len().unique().to_list() == [ledger.N_STORED_DRAWS]
    asked = load_questions(DATA_DIR / "questions.yaml").questions
    questions = replay.after_first["ledger_questions"]
    assert questions.height == len(asked) * len(ledger.FORECASTERS)
    # winset answers only on the series it emits; the references answer everything
    model = questions.filter(pl.col("forecaster") == "model")
    emitted = {"bilateral_tension", "us_tariff", "gdelt_cooperation"}
    for row in model.iter_rows(named=True):
        assert (row["probability"] is not None) == (row["series"] in emitted), row
    assert replay.after_first["ledger_resolutions"].is_empty()  # nothing is due yet


def test_the_later_ingest_resolves_the_due_quantities(replay: Replay) -> None:
    resolutions = replay.after_second["ledger_resolutions"]
    first = replay.first.report.run_id
    quantities = resolutions.filter(pl.col("kind") == "quantity")
    assert set(quantities["run_id"]) == {first}
    assert set(quantities["horizon"]) == {"1m", "3m"}  # 6m and later are not in the data yet
    # gdelt_cooperation ends in 2024, so it cannot resolve; the other two series do
    assert set(quantities["item"]) == {"bilateral_tension", "us_tariff"}
    assert quantities.height == 2 * 2 * len(ledger.FORECASTERS)
    assert set(quantities["panel_hash"]) == {frame_hash(replay.panel)}
    values = series_frame(replay.panel, ["bilateral_tension", "us_tariff"])
    stored = replay.after_second["ledger_quantities"]
    for row in quantities.iter_rows(named=True):
        assert row["observed"] == value_at(values, row["item"], row["target_month"])
        [draws] = stored.filter(
            (pl.col("run_id") == row["run_id"]) & (pl.col("forecaster") == row["forecaster"])
            & (pl.col("series") == row["item"]) & (pl.col("horizon") == row["horizon"])
        )["draws"].to_list()  # fmt: skip
        crps = crps_sample(np.array([row["observed"]]), np.array([draws]))[0]
        assert row["crps"] == pytest.approx(crps)
        assert 0 <= row["pit"] <= 1 and np.isfinite(row["log_score"])


def test_the_later_ingest_resolves_the_due_questions(replay: Replay) -> None:
    origin = dt.date.fromisoformat(f"{THEN}-01")
    later = dt.date.fromisoformat(f"{LATER}-01")
    questions = load_questions(DATA_DIR / "questions.yaml").questions
    values = series_frame(replay.panel, [q.series for q in questions])
    expected = {}
    for q in questions:
        target = q.target(origin)
        y = value_at(values, q.series, target)
        if target <= later and y is not None:
            base = value_at(values, q.series, origin) if q.relative_to_origin else 0.0
            expected[q.id] = bool(q.holds(np.array(y), q.threshold + (base or 0.0)))
    assert len(expected) >= 3  # the 1- and 3-month questions with data by 2025-11
    resolved = replay.after_second["ledger_resolutions"].filter(pl.col("kind") == "question")
    assert set(resolved["item"]) == set(expected)
    for row in resolved.iter_rows(named=True):
        assert row["outcome"] == expected[row["item"]], row["item"]
        if row["forecast"] is None:
            assert row["forecaster"] in ("model", "no_drivers") and row["brier"] is None
        else:
            assert row["brier"] == pytest.approx((row["forecast"] - row["outcome"]) ** 2)


def test_the_report_shows_the_track_record(replay: Replay) -> None:
    html = (replay.second.report.folder / "report.html").read_text()
    assert 'id="track-record"' in html
    assert "Forecasts recorded: 2;" in html  # this run's own entry is recorded before it shows
    resolved = replay.after_second["ledger_resolutions"]
    for item in resolved.filter(pl.col("kind") == "question")["item"].unique():
        assert f'data-question="{item}"' in html
    for title in ("Observed series: CRPS", "Questions: Brier score"):
        assert title in html
    assert 'id="reliability"' in html and 'id="pit"' in html
    summary = (replay.second.report.folder / "summary.md").read_text()
    assert "## Track record" in summary and "random walk" in summary


def test_publishing_or_resolving_again_changes_nothing(replay: Replay) -> None:
    for table in LEDGER:
        assert replay.after_republish[table].equals(replay.after_second[table]), table
    assert (replay.resolved_again.quantities, replay.resolved_again.questions) == (0, 0)
    assert replay.after_second["ledger_entries"].height == 2  # the second run's forecast too
    republished = (replay.first.report.folder / "report.html").read_text()
    assert 'id="track-record"' in republished


def test_a_revised_outcome_is_noted_not_rescored(replay: Replay, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "w.duckdb"
    shutil.copy(replay.db, db)
    resolved = replay.after_second["ledger_resolutions"].filter(pl.col("item") == "us_tariff")
    month = resolved["target_month"].min()
    revised = replay.panel.with_columns(  # the model's tariff is the statutory definition
        pl.when(pl.col("month") == month)
        .then(pl.col("us_tariff_statutory_pct") + 5.0)
        .otherwise(pl.col("us_tariff_statutory_pct"))
        .alias("us_tariff_statutory_pct")
    )
    with connect(db) as con:
        replace_tables(con, {"panel_monthly": revised})
    noted = resolve_due(db)
    assert noted.revisions == 1 and noted.quantities == 0 and noted.questions == 0
    after = ledger_tables(db)
    assert after["ledger_resolutions"].equals(replay.after_second["ledger_resolutions"])
    [note] = after["ledger_revisions"].iter_rows(named=True)
    assert (note["series"], note["target_month"]) == ("us_tariff", month)
    assert note["revised_value"] == pytest.approx(resolved["observed"][0] + 5.0)
    assert resolve_due(db).revisions == 0  # noted once


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_track_record_in_headless_chromium(replay: Replay) -> None:
    assert CHROMIUM is not None
    url = (replay.second.report.folder / "report.html").as_uri()
    with open_page(CHROMIUM) as page:
        page.send("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        shown = page.evaluate("document.getElementById('track-record').innerText")
        errors, requests = page.console_errors(), page.requested_urls()
    assert errors == [] and requests == [url]
    assert "Resolved questions" in shown and "winset" in shown
