"""Systematic rejects and normalised values, met through ``winset ingest`` and Prefect's UI.

A file whose rejects are systematic ends the run with one line naming the file, the pattern
and an example row, exit status 2 and the warehouse unchanged; a file with values in another
unambiguous spelling lands the same rows as the original and the summary (the terminal and the
run's Prefect artifact) says how many were normalised in that file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.ingest import ingest
from flows.ingest_summary import INGEST_KEY
from flows.sources import fred, gdelt
from tests.test_ingest_flow import (
    assert_same,
    cli,
    ingest_file,
    one_error_line,
    rejected,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("prefect_server")
EXPCH = fred.SOURCE.dataset("EXPCH")
GDELT_EXPORT = gdelt.SOURCE.dataset("export")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse holding the real FRED series: a refused file must leave it as it was."""
    db = tmp_path / "w.duckdb"
    code, _, err = cli("ingest", "--source", "fred", "--db", str(db))
    assert code == 0, err
    return db


@pytest.fixture
def expch(data_dir: Path) -> bytes:
    return (data_dir / EXPCH.bundled).read_bytes()


def test_a_gdelt_export_with_a_shifted_column_is_refused_whole(
    warehouse: Path, tmp_path: Path, data_dir: Path
) -> None:
    lines = (data_dir / GDELT_EXPORT.bundled).read_bytes().splitlines()
    shifted = [
        b"\t".join([*x.split(b"\t")[:6], b"", *x.split(b"\t")[6:]]) if i % 10 < 3 else x
        for i, x in enumerate(lines)
    ]
    path = tmp_path / "20180508000000.export.CSV"
    path.write_bytes(b"\n".join(shifted))
    before = snapshot(warehouse)
    code, _, err = ingest_file(warehouse, path, "gdelt")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(f"error: {path}: systematic rejects, the file is refused whole: ")
    assert "rows rejected (30.0%)" in line and "e.g. row 1 field 'SOURCEURL'" in line
    assert_same(before, snapshot(warehouse))  # not even its rejects are stored


def test_dates_in_float_notation_land_the_same_rows_and_are_counted(
    warehouse: Path, tmp_path: Path, expch: bytes
) -> None:
    header, *body = expch.splitlines()
    floaty = [b"%s.0,%s" % tuple(x.replace(b"-", b"").split(b",")) for x in body]
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(b"\n".join([header, *floaty]))
    before = snapshot(warehouse)["raw_fred"].drop("file", "sha256", "ingested_at")
    code, out, err = ingest_file(warehouse, path)
    assert code == 0, err
    assert f"0 rows new, 0 changed, {len(body)} unchanged, 0 rejected" in out
    assert f"{path}: normalised: {len(body)} dates written in float notation" in out
    after = snapshot(warehouse)["raw_fred"].drop("file", "sha256", "ingested_at")
    assert after.sort("series", "date").equals(before.sort("series", "date"))


def test_crlf_bom_and_one_stray_row_are_accepted_with_the_reject_kept(
    warehouse: Path, tmp_path: Path, expch: bytes
) -> None:
    lines = expch.splitlines()
    lines.insert(50, b"stray,row,here")
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    code, out, err = ingest_file(warehouse, path)
    assert code == 0, err
    normalised = f"{path}: normalised: 1 UTF-8 byte-order mark, {len(lines)} lines ending in CRLF"
    assert normalised in out
    assert rejected(warehouse) == [
        (
            str(path),
            51,
            None,
            "expected 2 fields, found 3 (truncated or stray row)",
            "stray,row,here",
        )
    ]


def test_the_runs_prefect_artifact_lists_what_was_normalised_per_file(
    tmp_path: Path, data_dir: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    gpr = tmp_path / "data_gpr_export.csv"  # the bundled file: a byte-order mark and CRLF
    gpr.write_bytes((data_dir / "caldara-iacoviello_gpr/data_gpr_export.csv").read_bytes())
    state = ingest(db_path=tmp_path / "w.duckdb", files=[("gpr", None, gpr)], return_state=True)
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    assert artifact.key == INGEST_KEY
    lines = gpr.read_bytes().count(b"\r\n")
    assert f"| 1 UTF-8 byte-order mark, {lines:,} lines ending in CRLF |" in artifact.data
    assert "Ingested 1 files:" in artifact.data
