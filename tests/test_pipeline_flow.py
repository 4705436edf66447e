"""The ``pipeline`` flow end to end, as scheduled runs meet it: on the real bundle, with real
Prefect runs and their artifacts read back through the Prefect API.

One warehouse (a copy of the session's tiny healthy fit) goes through four runs in order: a
run whose extra scenario has a hostile title, a second run on unchanged data, a run whose fit
is forced to fail the health gate, and a run killed while it fits. Each must leave what an
analyst relies on intact: escaped text, one posterior per config and panel, ``latest`` only
ever on a healthy report, and a warehouse a killed run did not touch.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import polars as pl
import pytest
import yaml

from flows.artifacts import HEADLINE_KEY, REPORT_KEY, SUMMARY_KEY
from flows.pipeline import PipelineResult, pipeline
from flows.warehouse import connect, read_table
from tests.conftest import DATA_DIR, tiny_config

if TYPE_CHECKING:
    from prefect.client.schemas.objects import Artifact

pytestmark = pytest.mark.usefixtures("prefect_server")
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
WINSET = Path(sys.executable).with_name("winset")


@dataclass(frozen=True)
class World:
    folder: Path
    db: Path
    config: Path
    reports: Path
    posteriors: Path


def _data_dir_with_hostile_scenario(folder: Path) -> Path:
    """The bundle (linked, not copied) plus a scenario whose title and description are HTML.

    A scenario's *name* must be ``[a-z0-9_]+`` and match its file, so the hostile text goes where
    free text is allowed and shown: the title and the description.
    """
    data = folder / "data"
    (data / "scenarios").mkdir(parents=True)
    for entry in DATA_DIR.iterdir():
        if entry.name != "scenarios":
            (data / entry.name).symlink_to(entry)
    for scenario in (DATA_DIR / "scenarios").iterdir():
        (data / "scenarios" / scenario.name).symlink_to(scenario)
    hostile = {
        "name": "hostile_title",
        "title": HOSTILE,
        "description": f"A scenario whose title and description are markup: {HOSTILE}.",
        "shocks": [],
    }
    (data / "scenarios" / "hostile_title.yaml").write_text(yaml.safe_dump(hostile))
    return data


@pytest.fixture(scope="module")
def world(fitted_db: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("pipeline")
    db = folder / "w.duckdb"
    shutil.copy(fitted_db["db"], db)
    data = _data_dir_with_hostile_scenario(folder)
    with pytest.MonkeyPatch.context() as env:  # settings are read per call, in this process
        env.setenv("WINSET_DATA_DIR", str(data))
        env.setenv("WINSET_VAR_DIR", str(folder / "var"))
        var = folder / "var"
        yield World(folder, db, fitted_db["config"], var / "reports", var / "posteriors")


# A prior sweep of one prior axis, two refits with the tiny config's sampling.
PRIOR_SWEEP = {
    "description": "Test-sized prior sweep: the stickiness at two values.",
    "base_scenario": "baseline",
    "n_paths": 20,
    "max_draws": 20,
    "seed": 7,
    "horizon": "2029-01",
    "parameters": {"priors.stay_logit": {"values": [1.5, 4.0]}},
}


def run_pipeline(
    world: World, config: Path | None = None, prior_sweep: bool = False
) -> tuple[UUID, PipelineResult]:
    grid = None
    if prior_sweep:
        grid = world.folder / "prior_sweep.yaml"
        grid.write_text(yaml.safe_dump(PRIOR_SWEEP))
    state = pipeline(
        db_path=world.db, config_path=config or world.config, n_paths=50,
        reports_dir=world.reports, prior_sweep=grid, prior_sweep_sampling=world.config,
        return_state=True,
    )  # fmt: skip
    return state.state_details.flow_run_id, state.result()


def count(db: Path, table: str, where: str = "true") -> int:
    with connect(db, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def artifacts(flow_run_id: UUID) -> dict[str, Artifact]:
    """Artifacts of a flow run and of its subflow runs, by key, read through the Prefect API."""
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


@pytest.fixture(scope="module")
def first(world: World) -> dict:
    fits_before = count(world.db, "model_runs", "purpose = 'fit'")
    run_id, result = run_pipeline(world, prior_sweep=True)
    fits_after = count(world.db, "model_runs", "purpose = 'fit'")
    return {"flow_run_id": run_id, "result": result, "before": fits_before, "after": fits_after}


@pytest.fixture(scope="module")
def second(world: World, first: dict) -> dict:
    _, result = run_pipeline(world, prior_sweep=True)
    return {"result": result, "after": count(world.db, "model_runs", "purpose = 'fit'")}


# ------------------------------------------------------------------ (a) hostile text, artifacts


def test_a_fit_without_a_prior_sweep_gets_one_before_its_report(
    world: World, first: dict, second: dict
) -> None:
    result = first["result"]
    swept = result.prior_sweep
    assert swept is not None and swept.model_run_id == (result.reused_fit or result.fit.run_id)
    assert len(swept.refits) == 2 and "Sweep sweep-" in result.describe()
    with connect(world.db, read_only=True) as con:
        [(determined,)] = con.execute(
            "SELECT prior_determined FROM sweeps WHERE sweep_id = ?", [swept.sweep_id]
        ).fetchall()
    html = (result.report.folder / "report.html").read_text()
    assert 'id="prior-spread"' in html and "No prior sweep has been run" not in html
    assert ("prior-determined</h2>" in html) is determined
    # the second run reuses the fit, and the fit keeps its sweep
    assert second["result"].reused_fit and second["result"].prior_sweep is None


def test_a_hostile_scenario_title_is_escaped_in_the_report(first: dict) -> None:
    report = first["result"].report
    assert "hostile_title" in first["result"].forecast.at_horizon  # it was forecast
    html = (report.folder / "report.html").read_text()
    summary = (report.folder / "summary.md").read_text()
    assert ESCAPED in html
    assert HOSTILE not in html
    assert "<script>alert" not in html
    assert ESCAPED in summary and HOSTILE not in summary


def test_the_run_leaves_artifacts_that_match_the_warehouse(world: World, first: dict) -> None:
    report = first["result"].report
    found = artifacts(first["flow_run_id"])
    assert {SUMMARY_KEY, HEADLINE_KEY, REPORT_KEY} <= found.keys()

    summary = found[SUMMARY_KEY]
    assert summary.type == "markdown"
    assert summary.data == (report.folder / "summary.md").read_text()  # health and headline
    assert "Healthy: the fit passed the diagnostics gate." in summary.data
    assert ESCAPED in summary.data and HOSTILE not in summary.data

    with connect(world.db, read_only=True) as con:
        stored = con.execute(
            "SELECT scenario, measure, pathway, mean FROM forecast_summaries WHERE run_id = ? "
            "AND uncertainty = 'posterior' AND measure IN ('pathway_at_horizon', 'ever_DC')",
            [report.run_id],
        ).fetchall()
    expected: dict[str, dict[str, float]] = {}
    for scenario, measure, pathway, mean in stored:
        column = "ever_DC" if measure == "ever_DC" else pathway
        expected.setdefault(scenario, {})[column] = round(mean, 4)
    table = json.loads(found[HEADLINE_KEY].data)
    assert found[HEADLINE_KEY].type == "table"
    assert {row["scenario"]: {k: row[k] for k in ("DC", "SE", "MC", "ever_DC")} for row in table} \
        == expected  # fmt: skip
    assert {row["title"] for row in table} >= {"Baseline (calendar only)", HOSTILE}

    link = (report.folder / "report.html").absolute().as_uri()
    assert (report.folder / "report.html").is_file()
    assert found[REPORT_KEY].data == f"[Report {report.run_id}]({link})"


def test_status_and_report_show_how_current_each_input_is(world: World, first: dict) -> None:
    """After a run on the bundle: the second-term approval polls and PLA activity reach
    2026-08 and the China macro series are there; and at the forecast origin every driver not
    observed for more than the carry limit, and every driver input lagging it by more, is
    flagged in the report (what counts is read from the warehouse and the fit's config)."""
    from typer.testing import CliRunner

    from flows.cli import app
    from models.config import ModelConfig
    from models.drivers import CARRY_MONTHS
    from reports.view import months_between

    status = CliRunner().invoke(app, ["status", "--json", "--db", str(world.db)])
    assert status.exit_code == 0, status.stderr
    rows = {row["source"]: row for row in json.loads(status.stdout)}
    assert rows["approval_votehub"]["last"].startswith("2026-08")
    assert rows["pla_activity"]["last"].startswith("2026-08")
    assert rows["china_macro"]["rows"] > 0 and rows["china_macro"]["live"] == "bundled only"

    report = first["result"].report
    html = (report.folder / "report.html").read_text()
    with connect(world.db, read_only=True) as con:
        [(origin,)] = con.execute("SELECT max(month) FROM panel_monthly").fetchall()
        coverage = con.execute('SELECT "column", "last" FROM panel_coverage').fetchall()
        [(fit, config)] = con.execute(
            "SELECT f.model_run_id, m.config_json FROM forecast_runs f "
            "JOIN model_runs m ON m.run_id = f.model_run_id WHERE f.run_id = ?",
            [report.run_id],
        ).fetchall()
        at_origin = con.execute(
            "SELECT driver, months_since_observed FROM driver_flags WHERE run_id = ? "
            "AND month = (SELECT max(month) FROM driver_flags WHERE run_id = ?)",
            [fit, fit],
        ).fetchall()
    old = [d for d, since in at_origin if since is not None and since > CARRY_MONTHS]
    assert old  # INTL's AI-GPR and GPR end in 2025-12: the check below is not vacuous
    notice = html[html.index('id="carried-drivers"') : html.index('<section id="headline"')]
    for driver in old:
        assert f"<strong>{driver}</strong>" in notice or f"({driver})</strong>" in notice
    table = html[html.index('<table id="coverage">') :]
    table = table[: table.index("</table>")]
    model = ModelConfig.model_validate(json.loads(config))
    inputs = {c.column for k in model.composites if k.name in model.drivers for c in k.components}
    lagging = set()
    for column, last in coverage:
        row = table[table.index(f"<code>{column}</code>") :]
        row = row[: row.index("</tr>")]
        if column in inputs and (last is None or months_between(last, origin) > CARRY_MONTHS):
            lagging.add(column)
        assert ("not current" in row) == (column in lagging), column
    assert lagging  # e.g. China's policy uncertainty ends in 2025-10: not vacuous either


# ------------------------------------------------------------------ (b) reuse
# ------------------------------------------------------------------ (b) reuse


def test_a_second_run_on_unchanged_data_reuses_the_posterior(first: dict, second: dict) -> None:
    one, two = first["result"], second["result"]
    assert one.fit is None and two.fit is None
    assert one.reused_fit is not None
    assert two.reused_fit == one.reused_fit
    assert first["before"] == first["after"] == second["after"]  # no new fit
    assert two.report.run_id != one.report.run_id  # forecast and published again
    assert two.report.latest.resolve() == two.report.folder.resolve()


# ------------------------------------------------------------------ (c) unhealthy fit


def config_with(folder: Path, *, healthy_gate: bool = True, **changes: dict) -> Path:
    """The tiny test config, with some of its sections changed."""
    folder.mkdir()
    path = tiny_config(folder, healthy_gate=healthy_gate)
    raw = yaml.safe_load(path.read_text())
    for section, values in changes.items():
        raw[section] = {**raw[section], **values}
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def unhealthy(world: World, second: dict) -> dict:
    # a minimum ESS no short run reaches: the fit must fail the gate
    config = config_with(world.folder / "unhealthy", healthy_gate=False, health={"min_ess": 1e9})
    reports_before = count(world.db, "reports")
    run_id, result = run_pipeline(world, config)
    return {"flow_run_id": run_id, "result": result, "reports_before": reports_before}


def test_an_unhealthy_fit_is_recorded_and_does_not_replace_latest(
    world: World, second: dict, unhealthy: dict
) -> None:
    result = unhealthy["result"]
    assert result.fit is not None and not result.fit.healthy
    assert result.forecast is None and result.report is None
    with connect(world.db, read_only=True) as con:
        [(healthy, problems)] = con.execute(
            "SELECT healthy, problems FROM model_runs WHERE run_id = ?", [result.fit.run_id]
        ).fetchall()
    assert healthy is False and "min bulk ESS" in problems
    assert count(world.db, "model_runs", "purpose = 'fit'") == second["after"] + 1
    assert count(world.db, "reports") == unhealthy["reports_before"]
    assert (world.reports / "latest").resolve() == second["result"].report.folder.resolve()

    summary = artifacts(unhealthy["flow_run_id"])[SUMMARY_KEY]
    assert "failed the health gate" in summary.data
    assert result.fit.run_id in summary.data


# ------------------------------------------------------------------ (d) killed mid-fit


def snapshot(db: Path) -> dict[str, pl.DataFrame]:
    with connect(db, read_only=True) as con:
        names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: read_table(con, t) for t in sorted(names)}


def test_killing_the_pipeline_mid_fit_leaves_the_warehouse_and_latest(
    world: World, unhealthy: dict
) -> None:
    from prefect.settings import get_current_settings

    folder = world.folder / "killed"
    # a new config (so no fit to reuse) whose sampling runs for minutes: the kill lands in it
    config = config_with(folder, sampler={"draws": 20000, "tune": 2000})
    before, latest = snapshot(world.db), os.readlink(world.reports / "latest")
    posteriors = sorted(world.posteriors.glob("*"))
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    log = folder / "run.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [WINSET, "run", "--verbose", "--db", world.db, "--config", config],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while "for flow 'fit'" not in log.read_text(errors="replace"):
                assert child.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            time.sleep(2)  # into the sampler, which runs for minutes with these draws
            assert child.poll() is None, log.read_text()
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
    after = snapshot(world.db)
    assert after.keys() == before.keys()
    for table, frame in before.items():
        if table == "ingest_runs":  # the run's ingest step had committed before the fit began
            assert after[table].height == frame.height + 1
        else:
            assert after[table].equals(frame), table
    assert os.readlink(world.reports / "latest") == latest
    assert sorted(world.posteriors.glob("*")) == posteriors
