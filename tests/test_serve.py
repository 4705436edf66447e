"""``winset serve``: prefect.yaml's deployments built, registered and run.

The first tests build the deployments in this process (no server needed). The last one is the
slow integration test (``-m "not slow"`` leaves it out): a real ``prefect server start`` on a
free port of 127.0.0.1, ``winset serve`` pointed at it (and at a local mirror of the publishers),
and a run of the weekly ingest deployment started through the API and followed to COMPLETED,
downloading into a temporary warehouse.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from flows.serve import PROJECT_FILE, ServeError, prepare, read_project
from flows.sources import SOURCES
from flows.warehouse import connect
from tests.conftest import DATA_DIR
from tests.local_http import LocalServer
from tests.replay import serve_as_of

BIN = Path(sys.executable).parent
PROJECT_WAREHOUSE = PROJECT_FILE.parent / "var" / "winset.duckdb"
DECLARED = {d["name"]: d for d in yaml.safe_load(PROJECT_FILE.read_text())["deployments"]}


PRIOR_SWEEP = "data/sweeps/prior_determined.yaml"


def test_prefect_yaml_declares_the_three_schedules() -> None:
    specs = {s.name: s for s in read_project(PROJECT_FILE)}
    assert specs.keys() == {"monthly-pipeline", "weekly-ingest", "gdelt-backfill"}
    assert specs["monthly-pipeline"].entrypoint == "flows/pipeline.py:pipeline"
    assert [(s.cron, s.timezone) for s in specs["weekly-ingest"].schedules] == [
        ("0 5 * * 1", "UTC")
    ]
    backfill = specs["gdelt-backfill"]
    assert backfill.entrypoint == "flows/gdelt_backfill.py:gdelt_backfill"
    assert [(s.cron, s.timezone) for s in backfill.schedules] == [("0 4 * * *", "UTC")]  # daily
    # capped, and resuming by itself: no `since`, which would restart every run at one point
    assert backfill.parameters["max_files"] > 0 and "since" not in backfill.parameters


def test_deployments_are_built_from_prefect_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # prepare() moves to the project folder; undone after the test
    db = tmp_path / "w.duckdb"
    served = {s.spec.name: s for s in prepare(PROJECT_FILE, db_path=db)}
    assert Path.cwd() == PROJECT_FILE.parent
    for name, declared in DECLARED.items():
        deployment = served[name].deployment
        assert deployment.entrypoint == declared["entrypoint"]
        assert deployment.description == " ".join(declared["description"].split())
        [schedule] = deployment.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (
            declared["schedules"][0]["cron"],
            declared["schedules"][0]["timezone"],
        )
        # config_path not given; the YAML's own parameters kept
        assert deployment.parameters == {**declared["parameters"], "db_path": str(db)}
    assert {s.flow for s in served.values()} == {"pipeline", "ingest", "gdelt-backfill"}
    assert "cron '0 6 10 * *' (UTC)" in served["monthly-pipeline"].describe()


def test_config_goes_only_to_the_flow_that_takes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "model.yaml"
    served = {s.spec.name: s.deployment for s in prepare(PROJECT_FILE, config_path=config)}
    assert served["monthly-pipeline"].parameters == {
        "live": {}, "config_path": str(config), "prior_sweep": PRIOR_SWEEP
    }  # fmt: skip
    assert served["weekly-ingest"].parameters == {"live": {}, "keep_going": True}
    assert served["gdelt-backfill"].parameters == DECLARED["gdelt-backfill"]["parameters"]


def test_scheduled_runs_download_and_base_urls_point_them_at_a_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    urls = {"*": "https://mirror.example/winset", "fred": "https://fred.example"}
    served = {s.spec.name: s.deployment for s in prepare(PROJECT_FILE, base_urls=urls)}
    assert served["monthly-pipeline"].parameters == {
        "live": {"base_urls": urls}, "prior_sweep": PRIOR_SWEEP
    }  # fmt: skip
    assert served["weekly-ingest"].parameters == {"live": {"base_urls": urls}, "keep_going": True}
    assert served["gdelt-backfill"].parameters["live"] == {"base_urls": urls}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d[0]["schedules"][0].update(cron="0 6 41 * *"),
            'deployments.0.schedules.0: Invalid cron string: "0 6 41 * *"',
        ),
        (
            lambda d: d[0]["schedules"][0].update(timezone="Mars/Olympus"),
            "deployments.0.schedules.0: Invalid timezone",
        ),
        (lambda d: d[1].update(interval=3600), "deployments.1.interval: Extra inputs"),
        (lambda d: d[1].update(work_pool={"name": "pool"}), "deployments.1.work_pool.name"),
        (lambda d: d[1].update(entrypoint="flows/ingest.py"), "deployments.1.entrypoint"),
        (lambda d: d[1].update(name="monthly-pipeline"), "names must be unique"),
        (lambda d: d[0].update(entrypoint="flows/nothing.py:pipeline"), "No module named"),
        (lambda d: d[0].update(entrypoint="flows/ingest.py:connect"), "'connect' is not a Prefect"),
        (lambda d: d[0].update(parameters={"dbpath": "x"}), "pipeline has no 'dbpath'"),
        # valid, but outside the project: its entry points would not resolve where runs start
        (lambda d: None, "serve from the folder of prefect.yaml"),
    ],
)
def test_a_bad_prefect_yaml_names_the_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    edit: Callable[[list[dict[str, Any]]], None],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load(PROJECT_FILE.read_text())
    edit(raw["deployments"])
    path = tmp_path / "prefect.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ServeError) as info:
        prepare(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_the_cli_reports_a_bad_file_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--file", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"error: {tmp_path / 'missing.yaml'}: cannot read (No such file or directory)"
    )


# ------------------------------------------------------------------ the slow integration test


def _stat(path: Path) -> tuple[int, int] | None:
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _process(args: list[object], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A child process writing to ``log``; SIGTERM (then SIGKILL) when the block ends."""
    with log.open("wb") as out:
        child = subprocess.Popen(
            [str(a) for a in args], stdout=out, stderr=subprocess.STDOUT, env=env
        )
        try:
            yield child
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


def _wait_for[T](
    what: str,
    probe: Callable[[], T | None],
    child: subprocess.Popen,
    log: Path,
    timeout: float = 90,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if (found := probe()) is not None:
                return found
        if child.poll() is not None:
            pytest.fail(f"{what}: the process exited ({child.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


@pytest.mark.slow
def test_winset_serve_runs_the_ingest_deployment_on_a_real_server(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        _serve_and_run_the_weekly_ingest(tmp_path, stack)


def _serve_and_run_the_weekly_ingest(tmp_path: Path, stack: contextlib.ExitStack) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    project_warehouse = _stat(PROJECT_WAREHOUSE)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WINSET_"))}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/prefect.db",
        "DO_NOT_TRACK": "1",
    }
    served_env = env | {"PREFECT_API_URL": api, "WINSET_VAR_DIR": str(tmp_path / "var")}
    mirror = stack.enter_context(LocalServer().running())  # the publishers' current files
    serve_as_of(mirror, DATA_DIR, "2026-12")
    db = tmp_path / "warehouse.duckdb"
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    server = [BIN / "prefect", "server", "start", "--no-ui", "--host", "127.0.0.1", "--port", port]

    with _process(server, server_log, env) as server:
        _wait_for(
            "server health",
            lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200 or None,
            server,
            server_log,
        )
        with (
            _process(
                [BIN / "winset", "serve", "--db", db, "--base-url", mirror.url],
                serve_log,
                served_env,
            ) as serve,
            temporary_settings({PREFECT_API_URL: api}),
            get_client(sync_client=True) as client,
        ):
            deployments = {
                name: _wait_for(
                    f"deployment {name}",
                    lambda name=name: client.read_deployment_by_name(name),
                    serve,
                    serve_log,
                )
                for name in (
                    "pipeline/monthly-pipeline",
                    "ingest/weekly-ingest",
                    "gdelt-backfill/gdelt-backfill",
                )
            }
            for deployment in deployments.values():
                declared = DECLARED[deployment.name]
                assert deployment.entrypoint == declared["entrypoint"]
                [schedule] = deployment.schedules
                assert schedule.schedule.cron == declared["schedules"][0]["cron"]
                assert schedule.schedule.timezone == "UTC"
                mirrored = {"live": {"base_urls": {"*": mirror.url}}, "db_path": str(db)}
                assert deployment.parameters == {**declared["parameters"], **mirrored}
                assert not deployment.paused
            assert "Serving 3 deployments" in serve_log.read_text()

            flow_run = run_deployment("ingest/weekly-ingest", timeout=120, poll_interval=1)
            assert flow_run.state.type == StateType.COMPLETED, serve_log.read_text()[-3000:]

            serve.send_signal(signal.SIGTERM)
            assert serve.wait(timeout=30) == 0, serve_log.read_text()[-3000:]
            assert "Stopped serving" in serve_log.read_text()
            assert all(client.read_deployment(d.id).paused for d in deployments.values())

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)  # raises if the server does not stop

    with connect(db, read_only=True) as con:
        [(runs, mode)] = con.execute("SELECT count(*), any_value(mode) FROM ingest_runs").fetchall()
        assert (runs, mode) == (1, "live")
        assert con.execute("SELECT count(*) FROM raw_fred").fetchone()[0] > 0
        refreshed = con.execute("SELECT source FROM source_refreshes WHERE ok").fetchall()
        assert sorted(s for (s,) in refreshed) == sorted(SOURCES)
    assert all(mirror.hits.get(f"/fred{d.live_path}") for d in SOURCES["fred"].datasets)
    assert not (tmp_path / "var").exists()
    assert _stat(PROJECT_WAREHOUSE) == project_warehouse  # the project's var/ was not touched
