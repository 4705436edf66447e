"""The GDELT backfill against a real HTTP server on 127.0.0.1 serving real export rows.

The mirror (tests/gdelt_mirror.py) splits the bundled real export into 15-minute zip files
listed with their true sizes and md5s. Expected events are read from the raw lines by plain
string splitting; the server counts requests (``hits``) and complete downloads (``served``).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.gdelt_backfill import BackfillStopped, gdelt_backfill, parse_moment, window
from flows.gdelt_filelist import read_list
from flows.ingest import LiveOptions
from flows.serve import default_parameters, load_flow, read_project
from flows.sources.base import SourceError
from flows.sources.gdelt import COLUMNS
from flows.warehouse import connect
from tests import gdelt_mirror
from tests.gdelt_mirror import MirrorFile
from tests.local_http import LocalServer

pytestmark = pytest.mark.usefixtures("prefect_server")
WINSET = Path(sys.executable).parent / "winset"
A1, A2, ID = (COLUMNS.index(c) for c in ("Actor1CountryCode", "Actor2CountryCode", "GLOBALEVENTID"))
N_FILES = 6


def dyad_ids(file: MirrorFile) -> set[int]:
    ids = set()
    for line in file.lines:
        cells = line.split(b"\t")
        if {cells[A1], cells[A2]} == {b"USA", b"CHN"}:
            ids.add(int(cells[ID]))
    return ids


@pytest.fixture(scope="module")
def files() -> list[MirrorFile]:
    return gdelt_mirror.split_into_files(gdelt_mirror.fixture_lines(), N_FILES)


@pytest.fixture
def mirror(http_server: LocalServer, files: list[MirrorFile]) -> str:
    return gdelt_mirror.serve(http_server, files)


def run(tmp_path: Path, base: str, **kw: object):
    live = LiveOptions(base_urls={"gdelt": base}, retries=kw.pop("retries", 1), retry_delay=0)
    return gdelt_backfill(
        db_path=tmp_path / "w.duckdb", cache_dir=tmp_path / "cache", live=live, **kw
    )


def stored(db: Path) -> dict[str, list]:
    with connect(db, read_only=True) as con:
        events = con.execute("SELECT global_event_id, file FROM raw_gdelt_events").fetchall()
        done = con.execute("SELECT url FROM gdelt_export_files ORDER BY file_time").fetchall()
    return {"events": events, "files": [u for (u,) in done]}


def export_hits(server: LocalServer, counts: dict[str, int]) -> dict[str, int]:
    return {path: n for path, n in counts.items() if ".export." in path}


# --------------------------------------------------------------------------- a whole window


def test_backfill_writes_each_event_once_and_downloads_each_file_once(
    tmp_path: Path, http_server: LocalServer, mirror: str, files: list[MirrorFile]
) -> None:
    summary = run(tmp_path, mirror, since="2018-05-08", until="2018-05-08", workers=3)
    expected = {i: f"{mirror}/{f.name}" for f in files for i in dyad_ids(f)}
    got = stored(tmp_path / "w.duckdb")
    assert sorted(got["events"]) == sorted(expected.items())
    assert len(expected) == 19  # the bundled export's USA–CHN rows, now spread over files
    assert got["files"] == [f"{mirror}/{f.name}" for f in files]
    assert (summary.listed, summary.files, summary.downloaded, summary.inserted) == (6, 6, 6, 19)
    assert summary.list_url.endswith("/masterfilelist.txt")
    assert export_hits(http_server, http_server.served) == {f.path: 1 for f in files}
    assert not any(".mentions." in p for p in http_server.hits)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [f.name for f in files]

    again = run(tmp_path, mirror, since="2018-05", workers=3)  # everything is written already
    assert (again.listed, again.already, again.files) == (6, 6, 0)
    assert export_hits(http_server, http_server.hits) == {f.path: 1 for f in files}


def test_a_new_warehouse_is_filled_from_the_cache(
    tmp_path: Path, http_server: LocalServer, mirror: str, files: list[MirrorFile]
) -> None:
    run(tmp_path, mirror, since="2018-05")
    (tmp_path / "w.duckdb").unlink()
    summary = run(tmp_path, mirror, since="2018-05")
    assert (summary.files, summary.from_cache, summary.inserted) == (6, 6, 19)
    assert export_hits(http_server, http_server.hits) == {f.path: 1 for f in files}


def test_max_files_caps_a_run_and_the_next_resumes_after_the_last_file(
    tmp_path: Path, http_server: LocalServer, mirror: str, files: list[MirrorFile]
) -> None:
    first = run(tmp_path, mirror, since="2018-05", max_files=2)
    assert (first.files, first.left) == (2, 4)
    assert stored(tmp_path / "w.duckdb")["files"] == [f"{mirror}/{f.name}" for f in files[:2]]
    rest = run(tmp_path, mirror)  # no --since: from the last file written
    assert rest.start == files[1].time + dt.timedelta(seconds=1)
    assert (rest.files, rest.left) == (4, 0)
    assert len(stored(tmp_path / "w.duckdb")["events"]) == 19
    assert export_hits(http_server, http_server.hits) == {f.path: 1 for f in files}


def test_the_daily_deployment_caps_each_run_and_resumes_by_itself(
    tmp_path: Path, mirror: str, files: list[MirrorFile]
) -> None:
    """The ``gdelt-backfill`` deployment's flow with prefect.yaml's parameters, as ``winset
    serve --db ... --base-url gdelt=<mirror>`` builds them: no ``since``, so each run starts
    after the last file written; ``start_if_empty`` only places a new warehouse's first run."""
    [spec] = [s for s in read_project() if s.name == "gdelt-backfill"]
    flow = load_flow(spec)
    db = tmp_path / "w.duckdb"
    parameters = default_parameters(spec, flow, {"db_path": db}, {"gdelt": mirror})
    assert "since" not in parameters and parameters["max_files"] > 0
    cache = tmp_path / "cache"

    # a new warehouse starts at start_if_empty; this run is capped below the six files
    first = flow(**parameters | {"start_if_empty": "2018-05-08", "max_files": 4}, cache_dir=cache)
    assert (first.start, first.files, first.left) == (dt.datetime(2018, 5, 8), 4, 2)

    # the next run, with the YAML's own start_if_empty (after the mirror's files), resumes
    second = flow(**parameters, cache_dir=cache)
    assert second.start == files[3].time + dt.timedelta(seconds=1)
    assert (second.files, second.left) == (2, 0)
    assert stored(db)["files"] == [f"{mirror}/{f.name}" for f in files]
    assert len(stored(db)["events"]) == 19


def test_only_the_newest_file_missing_reads_lastupdate(
    tmp_path: Path, http_server: LocalServer, mirror: str, files: list[MirrorFile]
) -> None:
    run(tmp_path, mirror, since="2018-05", max_files=N_FILES - 1)
    summary = run(tmp_path, mirror)
    assert summary.list_url.endswith("/lastupdate.txt")
    assert summary.files == 1
    assert http_server.hits[f"{gdelt_mirror.PREFIX}/masterfilelist.txt"] == 1


def test_codes_without_leading_zeros_are_counted_in_the_summary(
    tmp_path: Path, http_server: LocalServer
) -> None:
    """The real rows with every dyad row's CAMEO codes written as integers ("042" -> "42")."""
    fields = [COLUMNS.index(c) for c in ("EventCode", "EventBaseCode", "EventRootCode")]
    stripped, changed, roots = [], 0, set()
    for line in gdelt_mirror.fixture_lines():
        cells = line.split(b"\t")
        if {cells[A1], cells[A2]} == {b"USA", b"CHN"}:
            roots.add(cells[fields[2]].decode())
            for k in fields:
                changed += cells[k].startswith(b"0")
                cells[k] = b"%d" % int(cells[k])
        stripped.append(b"\t".join(cells))
    base = gdelt_mirror.serve(http_server, gdelt_mirror.split_into_files(stripped, 2))
    summary = run(tmp_path, base, since="2018-05")
    assert changed > 0
    assert (summary.inserted, summary.rejected, summary.codes_normalised) == (19, 0, changed)
    with connect(tmp_path / "w.duckdb", read_only=True) as con:
        [(per_file,)] = con.execute(
            "SELECT sum(codes_normalised) FROM gdelt_export_files"
        ).fetchall()
        stored_roots = con.execute(
            "SELECT DISTINCT event_root_code FROM raw_gdelt_events"
        ).fetchall()
    assert per_file == changed
    assert {r for (r,) in stored_roots} == roots


# --------------------------------------------------------------------------- md5 checks


def corrupt(file: MirrorFile) -> bytes:
    """The same size with one byte changed inside the compressed data."""
    body = bytearray(file.zipped)
    body[len(body) // 2] ^= 0xFF
    return bytes(body)


def test_an_md5_mismatch_is_retried_then_refused_and_nothing_is_written_for_it(
    tmp_path: Path, http_server: LocalServer, mirror: str, files: list[MirrorFile]
) -> None:
    bad = files[2]
    http_server.bodies[bad.path] = [corrupt(bad)]
    with pytest.raises(BackfillStopped) as stopped:
        run(tmp_path, mirror, since="2018-05", workers=2, retries=2)
    message = str(stopped.value)
    assert message.startswith(f"{mirror}/{bad.name}: md5 mismatch: the file list says {bad.md5}")
    assert "(3 attempts)" in message
    assert http_server.hits[bad.path] == 3
    got = stored(tmp_path / "w.duckdb")
    assert got["files"] == [f"{mirror}/{f.name}" for f in files[:2]]
    assert {i for i, _ in got["events"]} == dyad_ids(files[0]) | dyad_ids(files[1])
    assert not (tmp_path / "cache" / bad.name).exists()

    http_server.bodies.pop(bad.path)  # the publisher fixed it: the next run resumes there
    summary = run(tmp_path, mirror, workers=2)
    assert summary.start == files[1].time + dt.timedelta(seconds=1)
    assert summary.files == N_FILES - 2
    assert len(stored(tmp_path / "w.duckdb")["events"]) == 19


def test_a_broken_transfer_is_tried_again(
    tmp_path: Path, http_server: LocalServer, mirror: str, files: list[MirrorFile]
) -> None:
    bad = files[0]
    http_server.bodies[bad.path] = [corrupt(bad), bad.zipped]
    summary = run(tmp_path, mirror, since="2018-05", retries=1)
    assert summary.files == N_FILES
    assert http_server.hits[bad.path] == 2 and http_server.served[bad.path] == 2
    assert (tmp_path / "cache" / bad.name).read_bytes() == bad.zipped


def test_a_bad_list_line_names_the_row_and_field(files: list[MirrorFile]) -> None:
    lines = [f"{len(f.zipped)} {f.md5} http://x/{f.name}" for f in files]
    lines[3] = lines[3].replace(files[3].md5, "not-an-md5")
    with pytest.raises(SourceError) as error:
        read_list(lines, "masterfilelist.txt", files[0].time, files[-1].time)
    assert str(error.value) == (
        "masterfilelist.txt, row 4, field 'md5': not an md5 digest: 'not-an-md5'"
    )
    # outside the window the line is not needed, so it is not checked
    assert len(read_list(lines, "masterfilelist.txt", files[0].time, files[3].time)) == 3


def test_window_reads_months_days_and_slots() -> None:
    now = dt.datetime(2026, 1, 1)
    assert window("2024-03", "2024-03", None, now) == (
        dt.datetime(2024, 3, 1),
        dt.datetime(2024, 4, 1),
    )
    assert window("2024-12-31", "2024-12", None, now)[1] == dt.datetime(2025, 1, 1)
    last = dt.datetime(2025, 6, 1, 12, 45)
    assert window(None, None, last, now) == (last + dt.timedelta(seconds=1), now)
    assert parse_moment("20240315103000", "--since")[0] == dt.datetime(2024, 3, 15, 10, 30)
    with pytest.raises(ValueError, match="--since '2024-13': expected YYYY-MM"):
        window("2024-13", None, None, now)
    with pytest.raises(ValueError, match=r"say where to start with --since YYYY-MM"):
        window(None, None, None, now)
    assert window(None, None, None, now, "2024-02-24")[0] == dt.datetime(2024, 2, 24)
    assert window(None, None, last, now, "2024-02-24")[0] == last + dt.timedelta(seconds=1)


def test_cli_without_a_start_on_an_empty_warehouse(tmp_path: Path, mirror: str) -> None:
    result = CliRunner().invoke(
        app,
        ["ingest", "--source", "gdelt", "--backfill", "--base-url", f"gdelt={mirror}",
         "--db", str(tmp_path / "w.duckdb"), "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no GDELT export file has been backfilled" in lines[0]
    assert "--since YYYY-MM" in lines[0]


# --------------------------------------------------------------------------- killed mid-way


@pytest.mark.slow
def test_a_killed_backfill_resumes_without_writing_or_downloading_twice(
    tmp_path: Path, http_server: LocalServer, mirror: str, files: list[MirrorFile]
) -> None:
    """Files 2 and 5 are held by the server: the run writes file 1, caches 3 and 4 (written
    only in time order, after 2) and is killed; the restart finishes from the cache."""
    from prefect.settings import get_current_settings

    held = {files[1].path, files[4].path}
    http_server.held = set(held)
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    args = [WINSET, "ingest", "--source", "gdelt", "--backfill", "--since", "2018-05",
            "--workers", "2", "--base-url", f"gdelt={mirror}", "--timeout", "120",
            "--db", tmp_path / "w.duckdb", "--cache-dir", tmp_path / "cache"]  # fmt: skip
    log = tmp_path / "first.log"
    cached = [tmp_path / "cache" / files[k].name for k in (2, 3)]
    with log.open("wb") as out:
        child = subprocess.Popen(
            [str(a) for a in args], stdout=out, stderr=subprocess.STDOUT, env=env
        )
        try:
            deadline = time.monotonic() + 120
            while not (
                files[0].name in log.read_text()
                and all(p.exists() for p in cached)
                and all(http_server.hits.get(p) == 1 for p in held)  # both are waiting
            ):
                assert child.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
    http_server.release(drop_waiting=True)  # the killed run's two requests get no answer
    assert stored(tmp_path / "w.duckdb")["files"] == [f"{mirror}/{files[0].name}"]

    # the restart runs in this process: a second CLI process would only add its start-up
    second = run(tmp_path, mirror, workers=2)
    assert (second.files, second.downloaded, second.from_cache) == (5, 3, 2)
    expected = {i: f"{mirror}/{f.name}" for f in files for i in dyad_ids(f)}
    got = stored(tmp_path / "w.duckdb")
    assert sorted(got["events"]) == sorted(expected.items())
    assert got["files"] == [f"{mirror}/{f.name}" for f in files]
    assert export_hits(http_server, http_server.served) == {f.path: 1 for f in files}
    assert export_hits(http_server, http_server.hits) == {
        f.path: 2 if f.path in held else 1 for f in files
    }
