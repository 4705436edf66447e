"""The warehouse file under damage, a full disk and other processes holding it, as a user meets
them through `winset`: one line naming the file and what to do, exit status 2, and the file
left byte for byte as it was (a damaged file is never written to).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.ingest import ingest
from flows.warehouse import connect, replace_tables
from flows.warehouse_file import WarehouseFull

pytestmark = pytest.mark.usefixtures("prefect_server")
HEADER_BYTES = 3 * 4096  # DuckDB's file header and its two database headers
BLOCK_BYTES = 262144


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cpi_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real warehouse: every migration and the CPI source."""
    db = tmp_path_factory.mktemp("whole") / "w.duckdb"
    ingest(db_path=db, sources=["cpi"])
    return db


def damaged_copy(cpi_db: Path, folder: Path, damage: str) -> Path:
    db = folder / f"{damage}.duckdb"
    shutil.copy(cpi_db, db)
    if damage == "half":
        os.truncate(db, db.stat().st_size // 2)
        return db
    if damage == "header-block":  # the first block after the headers (the catalog)
        offset = HEADER_BYTES + 100
    else:  # a data block of raw_cpi, read only when a query reads the table
        with duckdb.connect(str(cpi_db), read_only=True) as con:
            [(block,)] = con.execute(
                "SELECT min(block_id) FROM pragma_storage_info('raw_cpi') WHERE block_id >= 0"
            ).fetchall()
        offset = HEADER_BYTES + block * BLOCK_BYTES + 100
    with db.open("r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xff" * 8)
    return db


@pytest.mark.parametrize("damage", ["half", "header-block", "data-block"])
def test_a_damaged_warehouse_is_refused_and_left_alone(
    cpi_db: Path, tmp_path: Path, damage: str
) -> None:
    db = damaged_copy(cpi_db, tmp_path, damage)
    before = md5(db)
    code, out, err = cli("ingest", "--source", "cpi", "--db", str(db))
    line = one_error_line(err)
    assert code == 2
    assert "Ingested" not in out
    assert line.startswith(f"error: {db}: the warehouse is damaged (")
    assert "it was not written to" in line and "winset run" in line
    assert md5(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [db.name]  # no WAL, nothing beside it


@pytest.mark.parametrize("damage", ["half", "header-block"])
def test_status_of_a_damaged_warehouse_is_one_line(
    cpi_db: Path, tmp_path: Path, damage: str
) -> None:
    db = damaged_copy(cpi_db, tmp_path, damage)
    code, _, err = cli("status", "--db", str(db))
    assert code == 2
    reason = "cut short" if damage == "half" else "fails its checksum"
    assert reason in one_error_line(err)


# ------------------------------------------------------------------ a full disk


@pytest.fixture
def full_disk(cpi_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the warehouse on a small tmpfs that is then filled to the last byte."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    size = cpi_db.stat().st_size + 4 * BLOCK_BYTES
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        db = mount / "w.duckdb"
        shutil.copy(cpi_db, db)
        with (mount / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield db
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_ingest_on_a_full_disk_is_one_line_and_changes_nothing(full_disk: Path) -> None:
    before = md5(full_disk)
    code, out, err = cli("ingest", "--source", "cpi", "--db", str(full_disk))
    assert code == 2
    assert "Ingested" not in out
    line = one_error_line(err)
    assert line.startswith(f"error: {full_disk}: no space left on the device; nothing was written")
    assert md5(full_disk) == before
    assert not Path(f"{full_disk}.wal").exists()  # the failed commit's empty log is removed


def test_a_failed_commit_reports_the_full_disk_not_the_rollback(full_disk: Path) -> None:
    """Storing the panel failed at COMMIT; a ROLLBACK after it buried the reason."""
    before = _contents(full_disk)
    frame = pl.DataFrame({"month": range(200_000), "value": [0.5] * 200_000})
    with (
        pytest.raises(WarehouseFull, match="no space left on the device"),
        connect(full_disk) as con,
    ):
        replace_tables(con, {"panel_monthly": frame})
    assert not Path(f"{full_disk}.wal").exists()
    # DuckDB may have grown the file with blocks the failed commit never linked in, so compare
    # what the warehouse holds, not its bytes
    assert _contents(full_disk) == before


def _contents(db: Path) -> dict[str, list[tuple]]:
    with connect(db, read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=str) for t in tables}


# ------------------------------------------------------------------ other processes


HOLD_READ_ONLY = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(db: Path, seconds: float) -> subprocess.Popen:
    """Another DuckDB client (not winset) holding a read-only connection for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_ONLY, str(db), str(seconds)], stdout=subprocess.PIPE
    )
    assert holder.stdout.readline().strip() == b"holding"
    return holder


def test_a_writer_waits_for_a_reader_and_says_so(
    cpi_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(cpi_db, db)
    holder = hold(db, 2.0)
    started = time.monotonic()
    try:
        with connect(db, wait=60) as con:
            con.execute("CREATE TABLE written AS SELECT 1 AS x")
    finally:
        holder.kill()
        holder.wait()
    assert time.monotonic() - started > 1.0
    told = capsys.readouterr().err
    assert f"is in use by process {holder.pid} (python" in told
    assert "waiting up to 60 s" in told
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT x FROM written").fetchall() == [(1,)]


def test_a_writer_gives_up_after_the_wait_and_names_the_holder(
    cpi_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(cpi_db, db)
    before = md5(db)
    monkeypatch.setenv("WINSET_LOCK_WAIT", "0.5")
    holder = hold(db, 30)
    try:
        code, _, err = cli("ingest", "--source", "cpi", "--db", str(db))
    finally:
        holder.kill()
        holder.wait()
    assert code == 2
    # one error line, after the "waiting" notice when the first attempt came before the deadline
    lines = [line for line in err.splitlines() if line.strip()]
    [line] = [line for line in lines if line.startswith("error: ")]
    assert all("waiting up to 0.5 s" in other for other in lines if other != line), err
    assert f"in use by process {holder.pid} (python" in line
    assert "waited 0.5 s (WINSET_LOCK_WAIT" in line
    assert md5(db) == before
