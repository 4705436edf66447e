"""GPR and EPU live: the publishers' workbooks, served by a real HTTP server on 127.0.0.1.

The workbooks are built from the bundle's real CSV copies in the publishers' layouts
(:mod:`tests.sources.workbooks`): GPR's ``data_gpr_export.xls`` (sheet ``Sheet1``, written
with xlwt) and EPU's ``All_Country_Data.xlsx`` (sheet ``EPU`` with the notes under the table,
written with xlsxwriter). A live ingest of them must land the bundle's rows; a workbook whose
layout changed is refused with one line naming the file, sheet, row and column.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flows.ingest import LiveOptions, ingest
from flows.sources import epu, gpr
from flows.sources.base import SourceError
from flows.sources.excel import column_letter
from tests.local_http import LocalServer
from tests.sources.workbooks import epu_xlsx_built_from_bundle, gpr_xls_built_from_bundle
from tests.test_ingest_flow import assert_same, cli, one_error_line, snapshot

GPR = gpr.SOURCE.dataset("gpr_export")
EPU = epu.SOURCE.dataset("all_country")


def bundled_rows(dataset, data_dir: Path) -> pl.DataFrame:
    return dataset.parse((data_dir / dataset.bundled).read_bytes(), dataset.bundled).rows


def stored(db: Path, table: str) -> pl.DataFrame:
    return snapshot(db)[table].select("series", "month", "value").sort("series", "month")


@pytest.mark.usefixtures("prefect_server")
def test_live_gpr_and_epu_read_the_publishers_workbooks(
    http_server: LocalServer, data_dir: Path, tmp_path: Path
) -> None:
    http_server.routes[GPR.live_path] = gpr_xls_built_from_bundle(data_dir)
    http_server.routes[EPU.live_path] = epu_xlsx_built_from_bundle(data_dir)
    assert GPR.live_path.endswith("/data_gpr_export.xls")
    assert EPU.live_path.endswith("/All_Country_Data.xlsx")
    db = tmp_path / "live.duckdb"
    live = LiveOptions(base_urls={"gpr": http_server.url, "epu": http_server.url})
    summary = ingest(db_path=db, sources=["gpr", "epu"], live=live)
    assert summary.rejected == 0
    assert http_server.served == {GPR.live_path: 1, EPU.live_path: 1}

    gpr_rows = stored(db, "raw_gpr")
    assert gpr_rows.equals(bundled_rows(GPR, data_dir).sort("series", "month"))
    assert set(snapshot(db)["raw_gpr"]["file"]) == {http_server.url + GPR.live_path}

    epu_rows = stored(db, "raw_epu")
    expected = bundled_rows(EPU, data_dir).sort("series", "month")
    assert epu_rows.select("series", "month").equals(expected.select("series", "month"))
    assert epu_rows["value"].is_null().equals(expected["value"].is_null())
    # xlsxwriter writes a number with 16 significant digits, so the last bit may differ
    both = epu_rows.with_columns(expected=expected["value"]).drop_nulls("value")
    assert ((both["value"] - both["expected"]).abs() <= 1e-12 * both["expected"].abs()).all()


def _set(row: int, column: str, value: object):
    def edit(cells: list[list[object]]) -> None:
        cells[row][cells[0].index(column)] = value

    return edit


@pytest.mark.parametrize(
    ("build", "parse", "name", "expected"),
    [
        (
            lambda d: gpr_xls_built_from_bundle(d, sheet="GPR"),
            GPR.parse,
            "data_gpr_export.xls",
            "data_gpr_export.xls: no sheet 'Sheet1' (the workbook has: GPR)",
        ),
        (
            lambda d: gpr_xls_built_from_bundle(d, _set(0, "GPRC_CHN", "GPRC_CN")),
            GPR.parse,
            "data_gpr_export.xls",
            "data_gpr_export.xls, sheet 'Sheet1', row 1, field 'GPRC_CHN': missing column",
        ),
        (
            lambda d: gpr_xls_built_from_bundle(d, _set(1022, "GPR", "n.a.")),
            GPR.parse,
            "data_gpr_export.xls",
            "data_gpr_export.xls, sheet 'Sheet1', row 1023, field 'GPR': not a number: "
            "'n.a.' (column B)",
        ),
        (
            lambda d: epu_xlsx_built_from_bundle(d, _set(5, "Month", 13)),
            EPU.parse,
            "All_Country_Data.xlsx",
            "All_Country_Data.xlsx, sheet 'EPU', row 6, field 'Month': above the maximum 12: "
            "'13' (column B)",
        ),
        (
            lambda d: epu_xlsx_built_from_bundle(d, _set(3, "China", "high")),
            EPU.parse,
            "All_Country_Data.xlsx",
            "All_Country_Data.xlsx, sheet 'EPU', row 4, field 'China': not a number: 'high' "
            "(column I)",
        ),
        (
            lambda d: b"PK\x03\x04" + b"\0" * 200,
            EPU.parse,
            "All_Country_Data.xlsx",
            "All_Country_Data.xlsx: not a readable Excel workbook",
        ),
    ],
    ids=["no-sheet", "no-column", "text-in-numbers", "bad-month", "text-in-xlsx", "corrupt"],
)
def test_a_changed_workbook_is_refused_naming_file_sheet_row_and_column(
    build, parse, name: str, expected: str, data_dir: Path
) -> None:
    with pytest.raises(SourceError) as caught:
        parse(build(data_dir), name)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


@pytest.mark.usefixtures("prefect_server")
def test_a_bad_live_workbook_fails_the_run_and_writes_nothing(
    http_server: LocalServer, data_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    code, _, err = cli("ingest", "--source", "gpr", "--db", str(db))
    assert code == 0, err
    before = snapshot(db)
    http_server.routes[GPR.live_path] = gpr_xls_built_from_bundle(
        data_dir, _set(1500, "GPRC_USA", "—")
    )
    code, _, err = cli(
        "ingest", "--live", "--source", "gpr", "--base-url", f"gpr={http_server.url}",
        "--db", str(db),
    )  # fmt: skip
    assert code == 2
    url = http_server.url + GPR.live_path
    column = column_letter(bundled_header(data_dir).index("GPRC_USA"))
    assert one_error_line(err) == (
        f"error: {url}, sheet 'Sheet1', row 1501, field 'GPRC_USA': not a number: '—' "
        f"(column {column})"
    )
    assert_same(before, snapshot(db))


def bundled_header(data_dir: Path) -> list[str]:
    first = (data_dir / GPR.bundled).read_bytes().decode("utf-8-sig").splitlines()[0]
    return first.split(",")


@pytest.mark.usefixtures("prefect_server")
def test_a_downloaded_workbook_is_ingested_with_file(data_dir: Path, tmp_path: Path) -> None:
    """``--file`` takes the publisher's workbook as well as its CSV export."""
    path = tmp_path / "data_gpr_export.xls"
    path.write_bytes(gpr_xls_built_from_bundle(data_dir))
    db = tmp_path / "w.duckdb"
    code, _, err = cli("ingest", "--source", "gpr", "--file", str(path), "--db", str(db))
    assert code == 0, err
    assert stored(db, "raw_gpr").equals(bundled_rows(GPR, data_dir).sort("series", "month"))
