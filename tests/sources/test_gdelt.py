"""GDELT 2.0 export parser, against the real 2018-05-08 fixture and files derived from it.

Expected values are computed from the raw lines with plain string splitting (or DuckDB),
never with the parser's own helpers, so a parser bug cannot agree with itself.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from benchmarks.gdelt_parse import measure
from flows.sources.base import SourceError
from flows.sources.gdelt import COLUMNS, SCHEMA, SOURCE, monthly_aggregate, parse_export

DATA = Path(__file__).resolve().parents[2] / "data"
FOLDER = DATA / "jaimelavie_gdelt-analysis"
FIXTURE = FOLDER / "DERIVED_20180508_partial.export.CSV"
I_ID, I_DATE, I_A1, I_A2, I_GOLD, I_URL = (
    COLUMNS.index(c)
    for c in (
        "GLOBALEVENTID",
        "SQLDATE",
        "Actor1CountryCode",
        "Actor2CountryCode",
        "GoldsteinScale",
        "SOURCEURL",
    )
)


@pytest.fixture(scope="module")
def raw() -> bytes:
    return FIXTURE.read_bytes()


@pytest.fixture(scope="module")
def lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\n")[:-1]  # the fixture ends with a newline


def _is_dyad(line: bytes) -> bool:
    cells = line.split(b"\t")
    return {cells[I_A1], cells[I_A2]} == {b"USA", b"CHN"}


@pytest.fixture(scope="module")
def dyad_index(lines: list[bytes]) -> list[int]:
    """0-based positions of the USA–CHN lines in the fixture."""
    return [i for i, line in enumerate(lines) if _is_dyad(line)]


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def _with_field(line: bytes, index: int, value: bytes) -> bytes:
    cells = line.split(b"\t")
    cells[index] = value
    return b"\t".join(cells)


def _ids(parsed_rows: pl.DataFrame) -> list[int]:
    return parsed_rows["global_event_id"].to_list()


# --------------------------------------------------------------------------- the fixture


def test_columns_are_the_codebook_order() -> None:
    names = (FOLDER / "DERIVED_gdelt2_export_column_names.txt").read_text().split()
    assert list(COLUMNS) == names


def test_fixture_has_19_usa_chn_events(raw: bytes, lines: list[bytes], dyad_index: list[int]):
    parsed = parse_export(raw, FIXTURE.name)
    assert len(lines) == 4107
    assert parsed.rows.height == 19 == len(dyad_index)
    assert parsed.rejects.height == 0
    assert dict(parsed.rows.schema) == SCHEMA
    assert _ids(parsed.rows) == [int(lines[i].split(b"\t")[I_ID]) for i in dyad_index]


def test_values_are_the_raw_values(raw: bytes, lines: list[bytes], dyad_index: list[int]):
    parsed = parse_export(raw, FIXTURE.name)
    for row, i in zip(parsed.rows.iter_rows(named=True), dyad_index, strict=True):
        cell = dict(zip(COLUMNS, lines[i].decode().split("\t"), strict=True))
        assert row["event_date"] == dt.datetime.strptime(cell["SQLDATE"], "%Y%m%d").date()
        assert row["event_code"] == cell["EventCode"]  # text: "042" keeps its zero
        assert row["event_root_code"] == cell["EventRootCode"]
        assert row["quad_class"] == int(cell["QuadClass"])
        assert row["goldstein"] == float(cell["GoldsteinScale"])
        assert row["num_mentions"] == int(cell["NumMentions"])
        assert row["avg_tone"] == float(cell["AvgTone"])
        assert row["date_added"] == dt.datetime.strptime(cell["DATEADDED"], "%Y%m%d%H%M%S")
        assert row["source_url"] == cell["SOURCEURL"]
    assert parsed.rows["event_root_code"].str.len_chars().to_list() == [2] * 19


def test_source_describes_the_fixture(raw: bytes) -> None:
    dataset = SOURCE.dataset("export")
    assert (DATA / dataset.bundled).read_bytes() == raw
    assert dataset.parse is parse_export
    assert SOURCE.schema == SCHEMA
    assert SOURCE.key == ("global_event_id",)


def test_zipped_equals_plain(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "20180508000000.export.CSV.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("20180508000000.export.CSV", raw)
    zipped = parse_export(path.read_bytes(), path.name)
    plain = parse_export(raw, FIXTURE.name)
    assert zipped.rows.height == 19
    assert_frame_equal(zipped.rows, plain.rows)


# --------------------------------------------------------------------------- monthly aggregate


def _spread_over_months(lines: list[bytes], dyad_index: list[int]) -> bytes:
    """The fixture with its dyad events moved to four different months (and years)."""
    dates = (b"20180508", b"20180611", b"20181231", b"20190101")
    out = list(lines)
    for k, i in enumerate(dyad_index):
        out[i] = _with_field(out[i], I_DATE, dates[k % len(dates)])
    return _join(out)


def _duckdb_monthly(path: Path) -> pl.DataFrame:
    """The same aggregate computed by DuckDB straight from the raw text."""
    c = {name: f"column{i:02d}" for i, name in enumerate(COLUMNS)}
    quads = [f"count(*) FILTER (WHERE {c['QuadClass']} = '{q}') AS quad{q}" for q in range(1, 5)]
    roots = [
        f"count(*) FILTER (WHERE {c['EventRootCode']} = '{r:02d}') AS root_{r:02d}"
        for r in range(1, 21)
    ]
    query = f"""
        SELECT date_trunc('month', strptime({c["SQLDATE"]}, '%Y%m%d'))::DATE AS month,
               count(*) AS events,
               avg({c["GoldsteinScale"]}::DOUBLE) AS goldstein_mean,
               {", ".join(quads)}, {", ".join(roots)},
               sum({c["NumMentions"]}::BIGINT)::BIGINT AS num_mentions,
               avg({c["AvgTone"]}::DOUBLE) AS tone_mean
        FROM read_csv('{path}', delim = '\t', header = false, all_varchar = true,
                      quote = '', escape = '')
        WHERE ({c["Actor1CountryCode"]} = 'USA' AND {c["Actor2CountryCode"]} = 'CHN')
           OR ({c["Actor1CountryCode"]} = 'CHN' AND {c["Actor2CountryCode"]} = 'USA')
        GROUP BY 1 ORDER BY 1
    """
    with duckdb.connect() as con:
        return con.sql(query).pl()


@pytest.mark.parametrize("spread", [False, True], ids=["fixture", "four-months"])
def test_monthly_aggregate_matches_duckdb(
    spread: bool, raw: bytes, lines: list[bytes], dyad_index: list[int], tmp_path: Path
) -> None:
    path = FIXTURE
    if spread:
        path = tmp_path / "spread.export.CSV"
        path.write_bytes(_spread_over_months(lines, dyad_index))
    ours = monthly_aggregate(parse_export(path.read_bytes(), path.name).rows)
    expected = _duckdb_monthly(path)
    assert ours.height == (4 if spread else 1)
    assert ours.columns == expected.columns
    assert_frame_equal(ours, expected, check_dtypes=False)
    assert ours["events"].sum() == 19


def test_monthly_aggregate_columns_are_zero_filled(raw: bytes) -> None:
    monthly = monthly_aggregate(parse_export(raw, FIXTURE.name).rows)
    roots = [f"root_{r:02d}" for r in range(1, 21)]
    assert monthly.columns == [
        "month",
        "events",
        "goldstein_mean",
        "quad1",
        "quad2",
        "quad3",
        "quad4",
        *roots,
        "num_mentions",
        "tone_mean",
    ]
    assert monthly.select(pl.sum_horizontal(roots)).item() == 19
    assert monthly.select(roots).null_count().sum_horizontal().item() == 0


# --------------------------------------------------------------------------- row quirks


def test_truncated_last_line_is_rejected_and_the_rest_kept(raw: bytes, lines: list[bytes]):
    cut = lines[-1][: len(lines[-1]) // 2]
    parsed = parse_export(_join(lines[:-1]) + cut, "partial.export.CSV")
    assert parsed.rows.height == 19
    assert parsed.rejects.select("row", "raw").rows() == [(4107, cut.decode())]
    assert parsed.rejects["reason"].item().startswith("expected 61 fields, found")


def test_truncated_dyad_row_is_rejected_as_such(lines: list[bytes], dyad_index: list[int]):
    cut = b"\t".join(lines[dyad_index[0]].split(b"\t")[:40])
    parsed = parse_export(_join([*lines, cut]), "partial.export.CSV")
    assert parsed.rows.height == 19
    reject = parsed.rejects.row(0, named=True)
    assert (reject["row"], reject["field"], reject["raw"]) == (4108, COLUMNS[40], cut.decode())
    assert "reads as USA–CHN" in reject["reason"]


def test_stray_garbage_row_is_rejected(lines: list[bytes]) -> None:
    garbage = b"<html><body>502 Bad Gateway</body></html>"
    parsed = parse_export(_join([*lines[:10], garbage, *lines[10:]]), "stray.export.CSV")
    assert parsed.rows.height == 19
    assert parsed.rejects.select("row", "field", "raw").rows() == [
        (11, "SQLDATE", garbage.decode())
    ]
    assert "does not read as USA–CHN" in parsed.rejects["reason"].item()


def test_row_with_extra_fields_is_rejected(lines: list[bytes], dyad_index: list[int]) -> None:
    """A tab pasted into a dyad row shifts its columns; the row must not be kept."""
    i = dyad_index[3]
    shifted = lines[i].replace(b"\t", b"\t\t", 1)
    parsed = parse_export(_join([*lines[:i], shifted, *lines[i + 1 :]]), "extra.export.CSV")
    assert parsed.rows.height == 18
    assert int(lines[i].split(b"\t")[I_ID]) not in _ids(parsed.rows)
    assert parsed.rejects.select("row", "raw").rows() == [(i + 1, shifted.decode())]
    assert "found 62" in parsed.rejects["reason"].item()


def test_trailing_tab_is_rejected_even_on_a_non_dyad_row(lines: list[bytes]) -> None:
    parsed = parse_export(_join([*lines[:5], lines[5] + b"\t", *lines[6:]]), "t.export.CSV")
    assert parsed.rows.height == 19
    assert parsed.rejects["row"].to_list() == [6]


def test_empty_fields_are_fine(lines: list[bytes], dyad_index: list[int]) -> None:
    """Optional fields (names, geography, even the URL) may be empty on a dyad row."""
    i = dyad_index[0]
    cells = lines[i].split(b"\t")
    for name in ("Actor1Code", "Actor1Name", "Actor1Geo_FullName", "ActionGeo_Lat", "SOURCEURL"):
        cells[COLUMNS.index(name)] = b""
    parsed = parse_export(_join([*lines[:i], b"\t".join(cells), *lines[i + 1 :]]), "e.CSV")
    assert parsed.rejects.height == 0
    assert parsed.rows.height == 19
    assert parsed.rows.row(0, named=True)["source_url"] is None


def test_blank_lines_and_crlf_keep_line_numbers(lines: list[bytes], dyad_index: list[int]):
    i = dyad_index[2]
    bad = _with_field(lines[i], I_DATE, b"20180231")
    body = [b"", *lines[:i], bad, *lines[i + 1 :]]
    parsed = parse_export(b"\r\n".join(body) + b"\r\n", "crlf.export.CSV")
    assert parsed.rows.height == 18
    assert parsed.rejects.select("row", "field", "raw").rows() == [(i + 2, "SQLDATE", bad.decode())]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("SQLDATE", b"20180231"),
        ("SQLDATE", b"2018051"),
        ("GoldsteinScale", b"high"),
        ("QuadClass", b"7"),
        ("DATEADDED", b"2018050800"),
        ("GLOBALEVENTID", b"75391x"),
    ],
)
def test_bad_value_on_a_dyad_row_is_rejected_naming_the_field(
    field: str, value: bytes, lines: list[bytes], dyad_index: list[int]
) -> None:
    i = dyad_index[5]
    bad = _with_field(lines[i], COLUMNS.index(field), value)
    parsed = parse_export(_join([*lines[:i], bad, *lines[i + 1 :]]), "bad.export.CSV")
    assert parsed.rows.height == 18
    reject = parsed.rejects.row(0, named=True)
    assert (reject["row"], reject["field"], reject["raw"]) == (i + 1, field, bad.decode())
    assert repr(value.decode()) in reject["reason"]


def test_bad_value_on_a_non_dyad_row_is_ignored(lines: list[bytes], dyad_index: list[int]):
    i = next(i for i in range(len(lines)) if i not in dyad_index)
    bad = _with_field(lines[i], I_GOLD, b"high")
    parsed = parse_export(_join([*lines[:i], bad, *lines[i + 1 :]]), "bad.export.CSV")
    assert (parsed.rows.height, parsed.rejects.height) == (19, 0)


def test_duplicate_event_id_rejects_the_later_row(lines: list[bytes], dyad_index: list[int]):
    first = dyad_index[0]
    event_id = lines[first].split(b"\t")[I_ID].decode()
    parsed = parse_export(_join([*lines, lines[first]]), "dup.export.CSV")
    assert parsed.rows.height == 19
    reject = parsed.rejects.row(0, named=True)
    assert (reject["row"], reject["field"]) == (len(lines) + 1, "GLOBALEVENTID")
    assert reject["reason"] == (
        f"duplicate key GLOBALEVENTID={event_id}: first seen on row {first + 1}"
    )


# --------------------------------------------------------------------------- whole-file errors


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("empty.export.CSV", lambda raw: b"", "file is empty"),
        ("blank.export.CSV", lambda raw: b"\n \n", "file is empty"),
        ("cut.export.CSV.zip", lambda raw: _zip_bytes({"a.CSV": raw})[:5000], "corrupt zip"),
        ("junk.export.CSV.zip", lambda raw: b"PK\x03\x04" + bytes(300), "corrupt zip"),
        ("none.export.CSV.zip", lambda raw: _zip_bytes({}), "zip should hold one .CSV"),
        ("two.export.CSV.zip", lambda raw: _zip_bytes({"a": raw, "b": raw}), "holds a, b"),
        ("hollow.export.CSV.zip", lambda raw: _zip_bytes({"a.CSV": b""}), "is empty"),
        (
            "spaces.export.CSV",
            lambda raw: raw.replace(b"\t", b" "),
            "not a GDELT 2.0 export: 4107 of 4107 rows",
        ),
    ],
)
def test_whole_file_problems_raise(name: str, make, message: str, raw: bytes) -> None:
    with pytest.raises(SourceError) as error:
        parse_export(make(raw), name)
    assert str(error.value).startswith(f"{name}")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_comma_separated_file_is_a_wrong_delimiter() -> None:
    """The same events as written by the repository's R tool: comma-separated, with header."""
    path = FOLDER / "gdelt2_events_20180508_partial.csv"
    with pytest.raises(SourceError) as error:
        parse_export(path.read_bytes(), path.name)
    assert str(error.value) == (
        f"{path.name}, row 1: wrong delimiter: expected tabs, the row is split by ','"
    )


def test_mostly_truncated_file_raises_naming_row_and_field(lines: list[bytes]) -> None:
    short = [b"\t".join(line.split(b"\t")[:20]) for line in lines[:30]]
    with pytest.raises(SourceError) as error:
        parse_export(_join(short + lines[30:40]), "short.export.CSV")
    assert str(error.value).startswith("short.export.CSV, row 1, field 'Actor2Religion1Code'")


# --------------------------------------------------------------------------- benchmark


def test_benchmark_builds_and_times_a_replicated_export(tmp_path: Path) -> None:
    result = measure(rows=10_000, workdir=tmp_path)
    assert result["gdelt_rows"] == 10_000
    assert result["gdelt_parse_seconds"] > 0
    assert result["gdelt_rows_per_s"] == pytest.approx(10_000 / result["gdelt_parse_seconds"])
    assert result["gdelt_csv_module_seconds"] > 0
