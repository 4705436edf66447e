"""Scheduled runs that fetch, replayed on real data: a month of publishing, then a source down.

A real HTTP server on 127.0.0.1 serves every live source's real bundled file cut at 2026-06
(rows published later removed, same format). The monthly deployment's flow, called with the
parameters ``prefect.yaml`` gives it and its base URLs pointed at that server, ingests, fits
(test-sized sampler), forecasts and publishes. The server then serves the files cut at 2026-07
while PLA activity answers 503: the next run must write only the new rows, keep PLA's last good
rows, refit because the panel changed, publish, and say both in the report. A third run with the
tariff trackers down too (a key source) is published but never becomes ``latest``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from flows.artifacts import SOURCES_KEY, SUMMARY_KEY
from flows.cli import app
from flows.pipeline import PipelineResult
from flows.refresh import KEY_SOURCES, live_sources
from flows.serve import default_parameters, load_flow, read_project
from flows.sources import SOURCES
from flows.warehouse import connect
from tests.conftest import DATA_DIR, tiny_config
from tests.local_http import LocalServer
from tests.replay import live_datasets, month_end, rows_through, serve_as_of

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]
FIRST, SECOND = "2026-06", "2026-07"
DOWN = "pla_activity"  # a live source with new rows in SECOND, not a key source


@dataclass(frozen=True)
class World:
    folder: Path
    db: Path
    config: Path
    reports: Path
    server: LocalServer


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("replay")
    with LocalServer().running() as server, pytest.MonkeyPatch.context() as env:
        env.setenv("WINSET_VAR_DIR", str(folder / "var"))
        yield World(
            folder, folder / "w.duckdb", tiny_config(folder), folder / "var" / "reports", server
        )


def scheduled_run(world: World) -> tuple[UUID, PipelineResult]:
    """The monthly deployment's flow with prefect.yaml's parameters, as ``winset serve`` builds
    them with ``--db``, ``--config`` and ``--base-url`` (the local server as every mirror)."""
    [spec] = [s for s in read_project() if s.name == "monthly-pipeline"]
    flow = load_flow(spec)
    overrides = {"db_path": world.db, "config_path": world.config}
    parameters = default_parameters(spec, flow, overrides, {"*": world.server.url})
    parameters["live"]["retry_delay"] = 0  # a 503 is retried as scheduled, without the wait
    parameters["prior_sweep"] = None  # the prior-sweep step is tested in test_pipeline_flow
    state = flow(**parameters, n_paths=50, reports_dir=world.reports, return_state=True)
    return state.state_details.flow_run_id, state.result()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def artifacts(flow_run_id: UUID) -> dict[str, Any]:
    """Artifacts of a flow run and its subflow runs, by key, read through the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
    )

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])
            )
        )
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id, *(c.id for c in children)])
            )
        )
    return {a.key: a for a in found}


def new_rows(down: set[str]) -> int:
    """Rows published in SECOND by the live sources that answer, from the files themselves."""
    total = 0
    for source, dataset in live_datasets():
        if source.name in down:
            continue
        content = (DATA_DIR / dataset.bundled).read_bytes()
        second = rows_through(source, dataset, content, month_end(SECOND)).height
        total += second - rows_through(source, dataset, content, month_end(FIRST)).height
    return total


@pytest.fixture(scope="module")
def first(world: World) -> dict:
    serve_as_of(world.server, DATA_DIR, FIRST)
    flow_run_id, result = scheduled_run(world)
    return {"flow_run_id": flow_run_id, "result": result}


@pytest.fixture(scope="module")
def second(world: World, first: dict) -> dict:
    serve_as_of(world.server, DATA_DIR, SECOND)
    world.server.down = {f"/{DOWN}/"}
    flow_run_id, result = scheduled_run(world)
    return {"flow_run_id": flow_run_id, "result": result}


@pytest.fixture(scope="module")
def third(world: World, second: dict) -> dict:
    world.server.down = {f"/{DOWN}/", "/tariffs/"}
    flow_run_id, result = scheduled_run(world)
    return {"flow_run_id": flow_run_id, "result": result}


def test_the_first_scheduled_run_fetches_fits_and_publishes(world: World, first: dict) -> None:
    result = first["result"]
    assert result.fit is not None and result.fit.healthy
    assert result.staleness.sources == () and not result.too_stale
    assert result.report.latest.resolve() == result.report.folder.resolve()
    [(mode,)] = query(world.db, "SELECT mode FROM ingest_runs")
    assert mode == "live"
    refreshes = query(world.db, "SELECT source, ok FROM source_refreshes")
    assert sorted(refreshes) == sorted((name, True) for name in SOURCES)
    [(last,)] = query(world.db, "SELECT max(date) FROM raw_pla_activity")
    assert last <= month_end(FIRST)
    html = (result.report.folder / "report.html").read_text()
    assert 'id="stale-sources"' not in html


def test_the_next_run_ingests_only_what_is_new_and_keeps_the_down_source(
    world: World, first: dict, second: dict
) -> None:
    one, two = first["result"], second["result"]
    assert two.ingest.inserted == new_rows({DOWN}) > 0
    assert two.ingest.updated == 0
    [(last,)] = query(world.db, "SELECT max(date) FROM raw_pla_activity")
    assert last <= month_end(FIRST)  # nothing of the down source was written
    [(mode, files)] = query(
        world.db, "SELECT mode, files FROM ingest_runs ORDER BY started_at DESC LIMIT 1"
    )
    pla_files = len(SOURCES[DOWN].datasets)
    assert mode == "live" and files == sum(len(s.datasets) for s in SOURCES.values()) - pla_files

    # the panel changed, so the run refitted rather than reusing the first fit
    assert two.fit is not None and two.fit.healthy and two.reused_fit is None
    assert two.panel.data_hash() != one.panel.data_hash()

    [stale] = two.staleness.sources
    assert stale.source == DOWN and not stale.key and "HTTP 503" in stale.error
    [(first_attempt,)] = query(
        world.db, "SELECT attempted_at FROM source_refreshes WHERE source = ? AND ok "
        "ORDER BY attempted_at LIMIT 1", [DOWN],
    )  # fmt: skip
    assert stale.since == first_attempt.replace(tzinfo=dt.UTC)
    assert not two.too_stale  # one of the live sources, not a key one
    assert two.report.latest.resolve() == two.report.folder.resolve()
    assert f"Stale: {DOWN}" in two.describe()


def test_the_report_shows_what_moved_and_the_stale_source(first: dict, second: dict) -> None:
    one, two = first["result"], second["result"]
    html = (two.report.folder / "report.html").read_text()
    moved = html[html.index('<section id="moved"') :]
    moved = moved[: moved.index("</section>")]
    assert one.report.run_id in moved  # compared with the first run
    assert "P(Decoupling)" in moved and "last value" in moved  # headline and drivers

    notice = html[html.index('id="stale-sources"') :]
    notice = notice[: notice.index("</div>")]
    assert html.index('id="stale-sources"') < html.index('<section id="headline"')  # at the top
    since = two.staleness.sources[0].since
    assert f"<strong>{DOWN}</strong>" in notice
    assert f"stale since {since:%Y-%m-%d %H:%M} UTC" in notice
    assert "HTTP 503" in notice
    assert "Too stale" not in notice

    summary = (two.report.folder / "summary.md").read_text()
    assert "Stale sources" in summary and "HTTP 503" in summary


def test_artifacts_and_status_say_which_source_is_stale(world: World, second: dict) -> None:
    found = artifacts(second["flow_run_id"])
    assert "HTTP 503" in found[SUMMARY_KEY].data
    table = {row["source"]: row for row in json.loads(found[SOURCES_KEY].data)}
    assert table.keys() == SOURCES.keys()
    assert table[DOWN]["stale"] and "HTTP 503" in table[DOWN]["why"]
    assert [name for name, row in table.items() if row["stale"]] == [DOWN]
    assert table["gdelt_graph"]["live"] == "frozen mirror"
    assert table["timeline"]["live"] == "bundled only"
    assert table["gdelt"]["live"] == "fixed file"

    result = CliRunner().invoke(app, ["status", "--json", "--db", str(world.db)])
    assert result.exit_code == 0, result.stderr
    rows = {row["source"]: row for row in json.loads(result.stdout)}
    assert rows[DOWN]["stale"] and "HTTP 503" in rows[DOWN]["why"]
    since = second["result"].staleness.sources[0].since
    assert rows[DOWN]["last_refresh"] == since.isoformat()
    assert not rows["fred"]["stale"] and rows["fred"]["live"] == "publisher"


def test_a_stale_key_source_is_published_but_never_becomes_latest(
    world: World, second: dict, third: dict
) -> None:
    result = third["result"]
    assert "tariffs" in KEY_SOURCES and "tariffs" in live_sources()
    assert result.fit is None and result.reused_fit is not None  # no new data: fit reused
    assert result.too_stale and "key source tariffs stale" in result.staleness.too_stale
    assert {s.source for s in result.staleness.sources} == {DOWN, "tariffs"}
    assert result.report is not None and result.report.latest is None
    assert (world.reports / "latest").resolve() == second["result"].report.folder.resolve()
    assert "too stale" in result.describe()
    html = (result.report.folder / "report.html").read_text()
    notice = html[html.index('<div class="alert" id="stale-sources"') :]
    assert "Too stale to replace the latest report (key source tariffs stale)" in notice
    assert "<strong>tariffs</strong> (key source)" in notice
