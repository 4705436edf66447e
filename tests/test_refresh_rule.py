"""The staleness rule and the live kinds ``winset status`` shows, on the real source registry,
and how ``winset status`` shows a stale source."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.refresh import (
    KEY_SOURCES,
    Refresh,
    live_kind,
    live_sources,
    record_refreshes,
    too_stale_reason,
)
from flows.sources import SOURCES
from flows.warehouse import connect
from reports import StaleSource

WHEN = dt.datetime(2026, 7, 10, 6, tzinfo=dt.UTC)


def stale(*names: str) -> list[StaleSource]:
    return [StaleSource(n, live_kind(SOURCES[n]), None, WHEN, "HTTP 503", n in KEY_SOURCES)
            for n in names]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("fred", "publisher"),
        ("approval_votehub", "publisher"),
        ("pla_activity", "mirror"),  # a repository's HEAD: it follows its maintainer
        ("gdelt", "fixed file"),  # one dated export, the same bytes forever
        ("gdelt_graph", "frozen mirror"),  # derived from a repository pinned at a commit
        ("epu", "publisher"),  # the publisher's workbook
        ("timeline", "bundled only"),
        ("china_macro", "bundled only"),  # Wind's exports: no public file
        ("unga", "bundled only"),
        ("us_travels", "bundled only"),  # the State Department's lists
        ("leader_visits", "bundled only"),
    ],
)
def test_live_kinds_say_what_a_live_run_can_bring(source: str, kind: str) -> None:
    assert live_kind(SOURCES[source]) == kind


def test_only_sources_that_can_bring_new_data_are_counted() -> None:
    counted = live_sources()
    assert set(KEY_SOURCES) <= set(counted)
    assert not {"gdelt", "gdelt_graph", "china_macro", "timeline"} & set(counted)


def test_a_third_of_the_live_sources_is_tolerated_more_is_not() -> None:
    counted = live_sources()
    others = [n for n in counted if n not in KEY_SOURCES]
    tolerated = len(counted) // 3
    assert too_stale_reason(stale(*others[:tolerated]), counted) is None
    reason = too_stale_reason(stale(*others[: tolerated + 1]), counted)
    assert reason == f"{tolerated + 1} of {len(counted)} live sources stale (more than 1 in 3)"


def test_any_stale_key_source_is_too_stale() -> None:
    counted = live_sources()
    assert too_stale_reason(stale("ai_gpr"), counted) == "key source ai_gpr stale"
    assert too_stale_reason(stale("gdelt", "timeline"), counted) is None  # frozen: nothing to lose


def test_status_marks_a_stale_source_and_fits_80_columns(tmp_path: Path) -> None:
    """A real warehouse with one source refreshed and then failed: ``winset status`` marks it
    under its live kind and says since when and why below a table that cuts no date."""
    db = tmp_path / "w.duckdb"
    good, failed = WHEN - dt.timedelta(days=31), WHEN
    error = "https://x/data/JapanandBattleship.csv: HTTP 503 from server"
    with connect(db) as con:
        record_refreshes(con, "r1", good, [Refresh("pla_activity"), Refresh("fred")])
        record_refreshes(con, "r2", failed, [Refresh("pla_activity", error), Refresh("fred")])
    result = CliRunner().invoke(app, ["status", "--db", str(db)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    table = lines[: lines.index("Stale sources (their last good rows are kept):")]
    assert max(len(line) for line in table) <= 80  # the reasons below may be longer
    assert "…" not in result.stdout
    [row] = [i for i, line in enumerate(lines) if line.startswith("pla_activity ")]
    assert lines[row].split()[1] == "mirror" and lines[row + 1].split()[0] == "stale"
    assert not any(line.split()[:1] == ["stale"] for line in lines[row + 2 :])  # fred is fresh
    assert f"  pla_activity: stale since {good:%Y-%m-%d %H:%M} UTC (its last good refresh): " \
        f"{error}" in result.stdout  # fmt: skip
