"""A publish killed with SIGKILL at each step of its protocol leaves a consistent reports folder
and warehouse, and the next publish finishes the job.

Each case starts from the same state (one healthy report published, a second forecast run
waiting) and runs the real ``publish`` flow in a subprocess that kills itself the moment a
named step returns (``tests/publish_killed_after.py``). The cases run side by side on their
own copies of the warehouse and the folder. Afterwards:

- killed before the commit: the old index, the old ``latest`` and no row, byte for byte;
- killed after it: the row is committed and the folder shows the old state, the new index
  with the old ``latest``, or the new state; never ``latest`` on a report the index does not
  list, never a listed report that is incomplete;
- in every case the next publish works and leaves exactly the new state, with no leftovers.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows.forecast import forecast
from flows.publish import publish
from flows.report_folder import BUILDS, LATEST
from flows.warehouse import connect

# Four publish subprocesses killed at each step, on a fitted warehouse of their own.
pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]

# step -> whether the reports row is committed when the kill lands. Counts (":2") skip the
# calls with which every publish first re-shows the state it found (one report's link, the
# index, latest, the clean-up).
STEPS = {
    "flows.report_folder.write_build": False,  # the build is durable, nothing names it
    "flows.publish._commit_row": True,  # the row is committed, the folder not yet switched
    "flows.report_folder.write_index:2": True,  # the new index, the old latest
    "flows.report_folder.point_latest:2": True,  # everything new, before the clean-up
}


def runs_in(db: Path) -> list[str]:
    with connect(db, read_only=True) as con:
        return [r for (r,) in con.execute("SELECT run_id FROM reports ORDER BY run_id").fetchall()]


def shown(reports: Path) -> tuple[str, list[str]]:
    """Where ``latest`` points and the runs the index links to."""
    index = (reports / "index.html").read_text()
    return os.readlink(reports / LATEST), re.findall(r'href="([^"/]+)/report\.html"', index)


@pytest.fixture(scope="module")
def killed(fitted_db: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from prefect.settings import get_current_settings

    base = tmp_path_factory.mktemp("killed")
    db, reports = base / "w.duckdb", base / "reports"
    shutil.copy(fitted_db["db"], db)
    old = forecast(db_path=db, n_paths=20, max_draws=20, scenarios=["baseline"]).run_id
    new = forecast(db_path=db, n_paths=20, max_draws=20, scenarios=["baseline"]).run_id
    publish(db_path=db, forecast_run_id=old, reports_dir=reports)
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    cases, children = {}, {}
    try:
        for n, step in enumerate(STEPS):
            folder = base / f"case{n}"
            folder.mkdir()
            shutil.copy(db, folder / "w.duckdb")
            shutil.copytree(reports, folder / "reports", symlinks=True)
            cases[step] = folder
            args = [step, folder / "w.duckdb", new, folder / "reports"]
            with (folder / "publish.log").open("wb") as log:
                children[step] = subprocess.Popen(
                    [sys.executable, "-m", "tests.publish_killed_after", *map(str, args)],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
        codes = {step: child.wait(timeout=600) for step, child in children.items()}
    finally:
        for child in children.values():
            child.kill()
            child.wait()
    return {
        "old": old,
        "new": new,
        "before": shown(reports),
        "index": (reports / "index.html").read_bytes(),
        "cases": cases,
        "codes": codes,
    }


@pytest.mark.parametrize("step", list(STEPS))
def test_a_killed_publish_leaves_a_consistent_state_and_the_next_one_finishes(
    killed: dict, step: str
) -> None:
    folder, old, new = killed["cases"][step], killed["old"], killed["new"]
    db, reports = folder / "w.duckdb", folder / "reports"
    assert killed["codes"][step] == -signal.SIGKILL, (folder / "publish.log").read_text()
    assert killed["before"] == (old, [old])
    latest, listed = shown(reports)
    if not STEPS[step]:
        assert runs_in(db) == [old]
        assert (reports / "index.html").read_bytes() == killed["index"]
        assert latest == old
        assert not (reports / new).exists()
    else:  # committed, shown step by step: links, index, then latest
        assert runs_in(db) == sorted([old, new])
        assert (latest, listed) in ((old, [old]), (old, [new, old]), (new, [new, old]))
    assert latest in listed  # never a latest the index does not list
    for run in listed:  # every listed report is complete
        assert (reports / run / "report.html").read_text().rstrip().endswith("</html>")

    record = publish(db_path=db, forecast_run_id=new, reports_dir=reports)
    assert record.latest == reports / LATEST
    assert shown(reports) == (new, [new, old])
    assert runs_in(db) == sorted([old, new])
    with connect(db, read_only=True) as con:
        builds = {b for (b,) in con.execute("SELECT build FROM reports").fetchall()}
    assert {p.name for p in (reports / BUILDS).iterdir()} == builds  # nothing left over
    assert sorted(p.name for p in reports.iterdir() if p.name.startswith(".staging")) == []
    for run in (old, new):
        assert (reports / run).resolve().parent == (reports / BUILDS).resolve()
