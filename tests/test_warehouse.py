"""The warehouse on a real DuckDB file: migrations, idempotent upserts, atomicity, locking."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.fetch import sha256
from flows.sources import fred
from flows.sources.base import Parsed, rejects_frame
from flows.warehouse import (
    Batch,
    WarehouseError,
    connect,
    migrations,
    read_table,
    write_ingest,
)
from flows.warehouse_file import WarehouseBusy

EXPCH = fred.SOURCE.dataset("EXPCH")
T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def _batch(content: bytes, name: str = "EXPCH.csv") -> Batch:
    return Batch(fred.SOURCE, "EXPCH", name, sha256(content), EXPCH.parse(content, name))


def _expch(data_dir: Path) -> bytes:
    return (data_dir / EXPCH.bundled).read_bytes()


def _snapshot(db: Path) -> dict[str, pl.DataFrame]:
    with connect(db, read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: read_table(con, t) for t in sorted(tables)}


def test_migrations_apply_once_in_order(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        versions = [v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()]
    assert versions == [v for v, _, _ in migrations()]
    with connect(db) as con:  # reopening applies nothing twice
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(versions)


def test_readers_refuse_a_warehouse_behind_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:  # as if written by a winset before the newest migration
        newest = migrations()[-1][0]
        con.execute("DELETE FROM schema_migrations WHERE version = ?", [newest])
    behind = rf"migration {newest:03d} not applied.*winset ingest"
    with pytest.raises(WarehouseError, match=behind), connect(db, read_only=True):
        pass
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()  # a DuckDB file winset never wrote
    with pytest.raises(WarehouseError, match="schema is older"), connect(bare, read_only=True):
        pass


def test_same_file_twice_changes_nothing(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        first = write_ingest(
            con, [_batch(_expch(data_dir))], run_id="r1", mode="test", started_at=T0
        )
    before = _snapshot(db)
    later = T0 + dt.timedelta(days=1)
    with connect(db) as con:
        second = write_ingest(
            con, [_batch(_expch(data_dir))], run_id="r2", mode="test", started_at=later
        )
    after = _snapshot(db)
    assert (first.inserted, first.updated) == (121, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 121)
    assert after["raw_fred"].equals(before["raw_fred"])  # not even ingested_at moved
    assert after["ingest_runs"].height == 2


def test_a_revised_value_updates_only_that_row(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "w.duckdb"
    original = _expch(data_dir)
    revised = original.replace(b"2016-02-01,8080.515063", b"2016-02-01,8100.0")
    assert revised != original
    with connect(db) as con:
        write_ingest(con, [_batch(original)], run_id="r1", mode="test", started_at=T0)
        summary = write_ingest(
            con, [_batch(revised, "rev.csv")], run_id="r2", mode="test", started_at=T0
        )
        row = con.execute(
            "SELECT value, file FROM raw_fred WHERE series='EXPCH' AND date='2016-02-01'"
        ).fetchone()
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 120)
    assert row == (8100.0, "rev.csv")


def test_rejected_rows_are_kept_with_reason_once(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "w.duckdb"
    bad = _expch(data_dir).replace(b"2016-03-01,8925.561211", b"2016-03-01,lots")
    for run in ("r1", "r2"):
        with connect(db) as con:
            write_ingest(con, [_batch(bad)], run_id=run, mode="test", started_at=T0)
    rejects = _snapshot(db)["rejects"]
    assert rejects.select("row", "field", "reason", "raw").rows() == [
        (4, "EXPCH", "not a number: 'lots'", "2016-03-01,lots")
    ]


def test_a_failing_batch_rolls_back_the_whole_run(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        write_ingest(con, [_batch(_expch(data_dir))], run_id="r1", mode="test", started_at=T0)
    before = _snapshot(db)
    good = _batch(_expch(data_dir).replace(b"8208.886377", b"1.0"))
    broken_rows = pl.DataFrame({"series": [None], "date": [dt.date(2020, 1, 1)], "value": [1.0]})
    broken = Batch(fred.SOURCE, "EXPCH", "x.csv", "0" * 64, Parsed(broken_rows, rejects_frame([])))
    with connect(db) as con, pytest.raises(duckdb.ConstraintException):
        write_ingest(con, [good, broken], run_id="r2", mode="test", started_at=T0)
    after = _snapshot(db)
    for table, frame in before.items():
        assert after[table].equals(frame), table


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def test_busy_warehouse_gives_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db):
        pass
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(WarehouseBusy) as info, connect(db, wait=0.3):
            pass
        message = str(info.value)
        assert f"in use by process {holder.pid} (python" in message
        assert "waited 0.3 s" in message
        assert "\n" not in message
    finally:
        holder.kill()
        holder.wait()


KILLED_MID_WRITE = """
import datetime as dt, sys, time
from pathlib import Path
import flows.warehouse as wh
from flows.fetch import sha256
from flows.sources import fred

real_upsert = wh._upsert
def upsert_then_hang(con, batch, ingested_at):
    counts = real_upsert(con, batch, ingested_at)
    print("written", flush=True)
    time.sleep(60)
    return counts
wh._upsert = upsert_then_hang

d = fred.SOURCE.dataset("EXPCH")
content = Path(sys.argv[2]).read_bytes().replace(b"8208.886377", b"1.0")
batch = wh.Batch(fred.SOURCE, "EXPCH", "x", sha256(content), d.parse(content, "x"))
with wh.connect(Path(sys.argv[1])) as con:
    wh.write_ingest(con, [batch], run_id="killed", mode="test", started_at=dt.datetime.now(dt.UTC))
"""


def test_a_killed_run_leaves_the_warehouse_unchanged(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        write_ingest(con, [_batch(_expch(data_dir))], run_id="r1", mode="test", started_at=T0)
    before = _snapshot(db)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_WRITE, str(db), str(data_dir / EXPCH.bundled)],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert writer.stdout.readline().strip() == b"written"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait()
    time.sleep(0.1)
    after = _snapshot(db)
    for table, frame in before.items():
        assert after[table].equals(frame), table
