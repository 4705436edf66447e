"""The ingest flow end to end: real Prefect runs, a real DuckDB file, a real HTTP server.

Every bad-input case goes through the ``winset`` command line, as a user would meet it: one
line naming the file, row and field (or rejected rows with reasons), exit status 2 for a
failed run, and a warehouse left exactly as it was.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.ingest import ingest
from flows.sources import SOURCES, approval_votehub, china_macro, fred, gdelt
from flows.warehouse import LINEAGE_COLUMNS, connect, read_table
from tests.local_http import LocalServer
from tests.sources.helpers import votehub_json
from tests.sources.workbooks import gpr_xls_built_from_bundle

pytestmark = pytest.mark.usefixtures("prefect_server")
GDELT_EXPORT = gdelt.SOURCE.dataset("export")
EXPCH = fred.SOURCE.dataset("EXPCH")
VOTEHUB = approval_votehub.SOURCE.dataset("polls")


def snapshot(db: Path) -> dict[str, pl.DataFrame]:
    with connect(db, read_only=True) as con:
        names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: read_table(con, t) for t in sorted(names)}


def raw_tables(db: Path, drop: tuple[str, ...] = ()) -> dict[str, pl.DataFrame]:
    tables = {s.table: s for s in SOURCES.values()}
    out = {}
    for name, frame in snapshot(db).items():
        if name in tables:
            out[name] = frame.drop(drop).sort(tables[name].key, nulls_last=True)
    return out


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_same(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]) -> None:
    assert before.keys() == after.keys()
    for table, frame in before.items():
        assert after[table].equals(frame), table


# ------------------------------------------------------------------ whole-bundle behaviour


@pytest.fixture(scope="module")
def bundled_db(ingested_db: dict) -> Path:
    """The session's warehouse of the whole bundle (read-only here)."""
    return ingested_db["db"]


def test_every_bundled_source_lands(bundled_db: Path) -> None:
    code, out, _ = cli("status", "--json", "--db", str(bundled_db))
    assert code == 0
    status = {row["source"]: row for row in json.loads(out)}
    assert set(status) == set(SOURCES)
    assert all(row["rows"] > 0 for row in status.values())
    assert status["gdelt"]["rows"] == 19
    assert status["fred"]["rows"] == sum(
        d.parse((Path("data") / d.bundled).read_bytes(), d.bundled).rows.height
        for d in fred.SOURCE.datasets
    )


def test_status_lists_the_new_sources_with_their_spans(bundled_db: Path) -> None:
    code, out, _ = cli("status", "--json", "--db", str(bundled_db))
    assert code == 0
    status = {row["source"]: row for row in json.loads(out)}
    spans = {
        name: (status[name]["rows"], status[name]["first"], status[name]["last"])
        for name in (
            "approval_votehub",
            "pla_activity",
            "china_macro",
            "unga",
            "us_travels",
            "leader_visits",
        )
    }
    assert spans == {
        "approval_votehub": (1021, "2025-01-20", "2026-08-03"),
        "pla_activity": (1970, "2015-03-30", "2026-08-22"),
        "china_macro": (133 + 244 + 460, "1987-01-31", "2025-04-30"),
        "unga": (130, "1946-01-01", "2023-09-01"),
        "us_travels": (1865, "2001-01-11", "2025-02-19"),
        "leader_visits": (1404, "2001-02-04", "2024-11-12"),
    }


def test_ingesting_everything_twice_changes_nothing(ingested_db: dict, tmp_path: Path) -> None:
    """The second ingest runs on a copy of the session's first one (copying is cheap,
    ingesting the bundle is not)."""
    db = tmp_path / "twice.duckdb"
    shutil.copy(ingested_db["db"], db)
    first = ingested_db["record"]
    before = raw_tables(db)
    rejects = snapshot(db)["rejects"].height
    second = ingest(db_path=db)
    after = raw_tables(db)
    assert first.inserted > 30_000 and second.inserted == 0 and second.updated == 0
    assert second.unchanged == first.inserted
    assert_same(before, after)  # lineage included: not even ingested_at moved
    assert snapshot(db)["rejects"].height == rejects


def _serve_live(server: LocalServer, data_dir: Path) -> None:
    """Every source's published files at <server>/<source><live path>, GDELT as its zip,
    VoteHub's polls as the API's JSON and GPR as its .xls workbook (built from the bundle).
    EPU is served as the bundle's CSV, which its connector also reads: its .xlsx, whose
    writer keeps 16 significant digits, is compared within that in test_excel_live.py."""
    for source in SOURCES.values():
        for d in source.datasets:
            if not d.live_path:
                continue
            content = (data_dir / d.bundled).read_bytes()
            if d is VOTEHUB:
                content = votehub_json(content)
            if d.live_path.endswith(".xls"):
                content = gpr_xls_built_from_bundle(data_dir)
            if d.live_path.endswith(".zip"):
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr(Path(d.live_path).stem, content)
                content = buffer.getvalue()
            server.routes[f"/{source.name}{d.live_path}"] = content


def test_live_ingest_lands_the_same_rows_as_the_bundle(
    http_server: LocalServer, data_dir: Path, bundled_db: Path, tmp_path: Path
) -> None:
    _serve_live(http_server, data_dir)
    db = tmp_path / "live.duckdb"
    code, _, err = cli("ingest", "--live", "--base-url", http_server.url, "--db", str(db))
    assert code == 0, err
    served = [p for p in http_server.hits if p.startswith("/gdelt/")]
    assert served == ["/gdelt/20180508000000.export.CSV.zip"]
    assert_same(raw_tables(bundled_db, LINEAGE_COLUMNS), raw_tables(db, LINEAGE_COLUMNS))
    urls = snapshot(db)["raw_fred"]["file"].unique().to_list()
    assert all(u.startswith(f"{http_server.url}/fred/graph/fredgraph.csv?id=") for u in urls)


def test_live_votehub_reads_the_apis_json(
    http_server: LocalServer, data_dir: Path, tmp_path: Path
) -> None:
    bundled = (data_dir / VOTEHUB.bundled).read_bytes()
    http_server.routes[VOTEHUB.live_path] = votehub_json(bundled)
    db = tmp_path / "votehub.duckdb"
    base = f"approval_votehub={http_server.url}"
    code, _, err = cli(
        "ingest", "--live", "--source", "approval_votehub", "--base-url", base, "--db", str(db)
    )
    assert code == 0, err
    polls = snapshot(db)["raw_approval_votehub"]
    assert polls.height == VOTEHUB.parse(bundled, VOTEHUB.bundled).rows.height == 1021
    assert set(polls["file"]) == {http_server.url + VOTEHUB.live_path}
    assert http_server.hits == {VOTEHUB.live_path: 1}


def test_live_retries_a_server_error_then_succeeds(
    http_server: LocalServer, data_dir: Path, tmp_path: Path
) -> None:
    http_server.routes[f"/fred{EXPCH.live_path}"] = (data_dir / EXPCH.bundled).read_bytes()
    base = f"fred={http_server.url}/fail-once/fred"
    db = tmp_path / "w.duckdb"
    # only EXPCH is served: ask for the one dataset through a one-source mirror
    code, _, err = cli(
        "ingest", "--live", "--source", "fred", "--base-url", base, "--retry-delay", "0",
        "--db", str(db),
    )  # fmt: skip
    assert code == 2  # the other FRED series are not served: 404, no retry for those
    assert http_server.hits[f"/fail-once/fred{EXPCH.live_path}"] == 2  # 503, then 200
    assert "HTTP 404" in err and "503" not in err


# ------------------------------------------------------------------ a source that is down


def _down_fred_up_cpi(server: LocalServer, data_dir: Path) -> list[str]:
    cpi = SOURCES["cpi"].datasets[0]
    server.routes[f"/cpi{cpi.live_path}"] = (data_dir / cpi.bundled).read_bytes()
    server.down = {"/fred/"}
    return [
        "ingest", "--live", "--source", "cpi", "--source", "fred", "--base-url", server.url,
        "--retry-delay", "0",
    ]  # fmt: skip


def test_a_manual_live_ingest_is_all_or_nothing(
    warehouse: Path, http_server: LocalServer, data_dir: Path
) -> None:
    before = snapshot(warehouse)
    code, _, err = cli(*_down_fred_up_cpi(http_server, data_dir), "--db", str(warehouse))
    assert code == 2 and "HTTP 503" in err and "Nothing was written" in err
    assert_same(before, snapshot(warehouse))  # cpi was readable, yet nothing was written
    assert snapshot(warehouse)["source_refreshes"].is_empty()


def test_keep_going_writes_the_others_and_records_the_stale_source(
    warehouse: Path, http_server: LocalServer, data_dir: Path
) -> None:
    fred_before = snapshot(warehouse)["raw_fred"]
    args = _down_fred_up_cpi(http_server, data_dir)
    code, out, err = cli(*args, "--keep-going", "--db", str(warehouse))
    assert code == 0, err
    assert "Stale sources (their last good rows are kept):" in out
    never = "stale since always (never refreshed from its publisher)"
    assert f"  fred: {never}: {http_server.url}/fred/graph/fredgraph.csv?id=" in out
    after = snapshot(warehouse)
    assert after["raw_fred"].equals(fred_before)  # its last good rows, untouched
    assert (
        after["raw_cpi"].height
        == SOURCES["cpi"]
        .datasets[0]
        .parse((data_dir / SOURCES["cpi"].datasets[0].bundled).read_bytes(), "cpiai.csv")
        .rows.height
    )
    outcomes = dict(after["source_refreshes"].select("source", "error").rows())
    assert outcomes["cpi"] is None
    assert outcomes["fred"].startswith(f"{http_server.url}/fred/graph/fredgraph.csv?id=")
    assert outcomes["fred"].endswith("HTTP 503 from server")
    assert http_server.hits[f"/fred{EXPCH.live_path}"] == 3  # tried, and retried twice

    code, out, _ = cli("status", "--json", "--db", str(warehouse))
    rows = {row["source"]: row for row in json.loads(out)}
    assert rows["fred"]["stale"] and rows["fred"]["last_refresh"] is None  # never refreshed
    assert rows["fred"]["why"] == outcomes["fred"]
    assert not rows["cpi"]["stale"] and rows["cpi"]["last_refresh"] is not None
    assert rows["unga"]["live"] == "bundled only" and rows["unga"]["last_attempt"] is None
    assert rows["epu"]["live"] == "publisher" and rows["epu"]["last_attempt"] is None  # not asked


def test_keep_going_needs_live(warehouse: Path) -> None:
    code, _, err = cli("ingest", "--keep-going", "--db", str(warehouse))
    assert code == 2 and "--keep-going applies to --live downloads only" in err


# ------------------------------------------------------------------ bad input, one case each


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse that already holds the real FRED data, to prove failures change nothing."""
    db = tmp_path / "w.duckdb"
    code, _, err = cli("ingest", "--source", "fred", "--db", str(db))
    assert code == 0, err
    return db


@pytest.fixture
def expch(data_dir: Path) -> bytes:
    return (data_dir / EXPCH.bundled).read_bytes()


def ingest_file(db: Path, path: Path, source: str = "fred:EXPCH") -> tuple[int, str, str]:
    return cli("ingest", "--source", source, "--file", str(path), "--db", str(db))


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def fails_cleanly(db: Path, path: Path, expected: str, source: str = "fred:EXPCH") -> None:
    before = snapshot(db)
    code, _, err = ingest_file(db, path, source)
    assert code == 2
    assert one_error_line(err) == f"error: {expected}"
    assert_same(before, snapshot(db))


def rejected(db: Path) -> list[tuple]:
    return snapshot(db)["rejects"].select("file", "row", "field", "reason", "raw").rows()


def test_truncated_file_rejects_the_cut_row(warehouse: Path, tmp_path: Path, expch: bytes) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(expch.rstrip().rsplit(b"\n", 1)[0] + b"\n2026-01-01")  # cut mid-row
    code, _, err = ingest_file(warehouse, path)
    assert code == 0, err
    assert rejected(warehouse) == [
        (str(path), 122, None, "expected 2 fields, found 1 (truncated or stray row)", "2026-01-01")
    ]


def test_wrong_delimiter(warehouse: Path, tmp_path: Path, expch: bytes) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(expch.replace(b",", b";"))
    fails_cleanly(
        warehouse, path, f"{path}, row 1: wrong delimiter: expected ',', the header is split by ';'"
    )


def test_wind_export_resaved_as_utf8_is_refused(
    warehouse: Path, tmp_path: Path, data_dir: Path
) -> None:
    pmi = china_macro.SOURCE.dataset("manufacturing_pmi")
    path = tmp_path / "pmi.csv"
    path.write_bytes((data_dir / pmi.bundled).read_bytes().decode("gbk").encode("utf-8"))
    expected = f"{path}: UTF-8 text; Wind exports are GBK-encoded (re-export from Wind)"
    fails_cleanly(warehouse, path, expected, source="china_macro:manufacturing_pmi")


def test_missing_column(warehouse: Path, tmp_path: Path, expch: bytes) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(expch.replace(b"observation_date,EXPCH", b"observation_date,EXPORTS"))
    fails_cleanly(
        warehouse, path,
        f"{path}, row 1, field 'EXPCH': missing column (header has: observation_date, EXPORTS)",
    )  # fmt: skip


def test_non_numeric_value_is_rejected(warehouse: Path, tmp_path: Path, expch: bytes) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(expch.replace(b"2016-03-01,8925.561211", b"2016-03-01,n/a?"))
    code, _, _ = ingest_file(warehouse, path)
    assert code == 0
    assert rejected(warehouse) == [
        (str(path), 4, "EXPCH", "not a number: 'n/a?'", "2016-03-01,n/a?")
    ]


def test_impossible_date_is_rejected(warehouse: Path, tmp_path: Path, expch: bytes) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(expch.replace(b"2016-02-01,", b"2016-02-30,"))
    code, _, _ = ingest_file(warehouse, path)
    assert code == 0
    [(_, row, field, reason, _)] = rejected(warehouse)
    assert (row, field, reason) == (
        3,
        "observation_date",
        "not a date in format %Y-%m-%d: '2016-02-30'",
    )


def test_duplicate_key_within_a_file_is_rejected(
    warehouse: Path, tmp_path: Path, expch: bytes
) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(expch.replace(b"2016-02-01,", b"2016-01-01,"))
    code, _, _ = ingest_file(warehouse, path)
    assert code == 0
    [(_, row, field, reason, _)] = rejected(warehouse)
    assert (row, field) == (3, "observation_date")
    assert reason == "duplicate key observation_date=2016-01-01: first seen on row 2"


def test_empty_file(warehouse: Path, tmp_path: Path) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(b"")
    fails_cleanly(warehouse, path, f"{path}: file is empty")


def test_corrupt_zip(warehouse: Path, tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "20180508000000.export.CSV.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "20180508000000.export.CSV", (data_dir / GDELT_EXPORT.bundled).read_bytes()
        )
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    before = snapshot(warehouse)
    code, _, err = ingest_file(warehouse, path, "gdelt")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(f"error: {path}: ") and "zip" in line
    assert_same(before, snapshot(warehouse))


def live_fails_cleanly(db: Path, server: LocalServer, path: str, *extra: str) -> str:
    before = snapshot(db)
    code, _, err = cli(
        "ingest", "--live", "--source", "cpi", "--base-url", f"cpi={server.url}{path}",
        "--retries", "1", "--retry-delay", "0", "--db", str(db), *extra,
    )  # fmt: skip
    assert code == 2
    assert_same(before, snapshot(db))
    return one_error_line(err)


def test_http_404(warehouse: Path, http_server: LocalServer) -> None:
    line = live_fails_cleanly(warehouse, http_server, "/nowhere")
    url = f"{http_server.url}/nowhere{SOURCES['cpi'].datasets[0].live_path}"
    assert line == f"error: {url}: HTTP 404 Not Found"
    assert http_server.hits[url.removeprefix(http_server.url)] == 1  # a 404 is not retried


def test_timeout(warehouse: Path, http_server: LocalServer, data_dir: Path) -> None:
    cpi = SOURCES["cpi"].datasets[0]
    http_server.routes[cpi.live_path] = (data_dir / cpi.bundled).read_bytes()
    http_server.slow_seconds = 2.0
    line = live_fails_cleanly(warehouse, http_server, "/slow", "--timeout", "0.3")
    assert line.endswith("timed out after 0.3 s")
    assert http_server.hits[f"/slow{cpi.live_path}"] == 2  # the first try and one retry


def test_response_over_the_size_cap(
    warehouse: Path, http_server: LocalServer, data_dir: Path
) -> None:
    cpi = SOURCES["cpi"].datasets[0]
    http_server.routes[cpi.live_path] = (data_dir / cpi.bundled).read_bytes()
    line = live_fails_cleanly(warehouse, http_server, "", "--max-mb", "0.01")
    assert line.endswith("response is larger than the size cap of 10,485 bytes")


def test_busy_warehouse_through_the_cli(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINSET_LOCK_WAIT", "0")  # waiting is tested in test_warehouse_file.py
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print(1, flush=True); "
    hold += "time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(warehouse)], stdout=subprocess.PIPE)
    try:
        holder.stdout.readline()
        code, _, err = cli("ingest", "--source", "cpi", "--db", str(warehouse))
    finally:
        holder.kill()
        holder.wait()
    assert code == 2
    assert f"in use by process {holder.pid} (python" in one_error_line(err)


def test_unknown_source(warehouse: Path) -> None:
    code, _, err = cli("ingest", "--source", "imf", "--db", str(warehouse))
    assert code == 2
    assert one_error_line(err).startswith("error: unknown source 'imf' (known: fred, ")
