"""Prefect's home, its temporary server's start-up, and processes that must not outlive winset.

The commands run as real subprocesses with real Prefect servers: what is checked is what a
user sees (exit status, one line, no traceback) and which processes remain afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows import prefect_api

WINSET = Path(sys.executable).with_name("winset")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who never configured Prefect, with state in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WINSET_"))}
    return env | {"WINSET_VAR_DIR": str(tmp_path / "var"), "HOME": str(tmp_path)} | extra


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


# ------------------------------------------------------------------------- where Prefect lives


def test_prefect_home_defaults_to_the_var_folder(tmp_path: Path) -> None:
    code = "import os, flows; print(os.environ['PREFECT_HOME'])"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True
    )
    assert result.stdout.strip() == str(tmp_path / "var" / "prefect")


@pytest.mark.parametrize(
    "choice",
    [
        {"PREFECT_HOME": "/srv/prefect-home"},
        {"PREFECT_API_URL": "http://127.0.0.1:4200/api"},
        {"PREFECT_PROFILE": "team"},
    ],
)
def test_a_users_own_prefect_choice_wins(tmp_path: Path, choice: dict[str, str]) -> None:
    code = "import os, flows; print(os.environ.get('PREFECT_HOME', 'unset'))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path, **choice), capture_output=True, text=True
    )
    assert result.stdout.strip() == choice.get("PREFECT_HOME", "unset")


def test_an_active_profile_with_a_server_wins(tmp_path: Path) -> None:
    (tmp_path / ".prefect").mkdir()
    (tmp_path / ".prefect" / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n'
    )
    code = "import os, flows; print(os.environ.get('PREFECT_HOME', 'unset'))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True
    )
    assert result.stdout.strip() == "unset"


def test_startup_timeout_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(prefect_api.TIMEOUT_VARIABLE, raising=False)
    assert prefect_api.startup_timeout() == prefect_api.DEFAULT_STARTUP_TIMEOUT_S
    monkeypatch.setenv(prefect_api.TIMEOUT_VARIABLE, "240")
    assert prefect_api.startup_timeout() == 240


# ------------------------------------------------------------------ commands that need no server


@pytest.mark.parametrize("args", [["--help"], ["status"], ["status", "--json"], ["ingest", "-h"]])
def test_commands_without_flows_never_import_prefect(tmp_path: Path, args: list[str]) -> None:
    """No Prefect import means no server: the cheapest proof that none was started."""
    code = (
        "import sys\nfrom flows.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print('PREFECT-IMPORTED' if 'prefect' in sys.modules else 'NO-PREFECT', file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True
    )
    assert result.stderr.strip().endswith("NO-PREFECT"), result.stderr[-2000:]


# ------------------------------------------------------------------------------- start-up failure


def test_a_server_that_does_not_start_in_time_is_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, **{prefect_api.TIMEOUT_VARIABLE: "1"})
    result = subprocess.run(
        [str(WINSET), "ingest", "--source", "cpi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "did not start" in result.stderr and prefect_api.TIMEOUT_VARIABLE in result.stderr
    assert not (tmp_path / "var" / "winset.duckdb").exists()


# -------------------------------------------------------------- no process outlives the command

_START_SERVER_THEN_WAIT = """
import os, sys, time
from flows import prefect_api
prefect_api.ensure_api_server()
print(prefect_api._server.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_the_server_ends_when_winset_is_killed(tmp_path: Path) -> None:
    """kill -9 runs no handler; the server's own watchdog must notice its parent is gone."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _START_SERVER_THEN_WAIT],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert _alive(server_pid)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(server_pid), "Prefect's server outlived the killed winset process"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_flow_command_with_a_message(
    tmp_path: Path, data_dir: Path, signum: signal.Signals
) -> None:
    """Ctrl-C (or SIGTERM) during a flow: exit 128+n within seconds, one line, no children."""
    process = subprocess.Popen(
        [str(WINSET), "ingest"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    children: list[int] = []
    while not children and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        children = _children(process.pid)
    assert children, "winset started no Prefect server"
    process.send_signal(signum)
    try:
        _, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 128 + signum
    assert "Interrupted" in stderr and "Traceback" not in stderr
    time.sleep(1)
    assert not [pid for pid in children if _alive(pid)]
