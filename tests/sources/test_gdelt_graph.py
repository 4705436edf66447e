"""gzemo/gdelt-graph-data daily USA–CHN edges: the bundled file and files derived from it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.sources.base import SourceError
from flows.sources.gdelt_graph import (
    BUNDLED,
    SCHEMA,
    SOURCE,
    VALUE_COLUMNS,
    monthly_tone,
    parse_edges,
)

PATH = Path(__file__).resolve().parents[2] / "data" / BUNDLED


@pytest.fixture(scope="module")
def raw() -> bytes:
    return PATH.read_bytes()


@pytest.fixture(scope="module")
def edges(raw: bytes) -> pl.DataFrame:
    parsed = parse_edges(raw, PATH.name)
    assert parsed.rejects.height == 0
    return parsed.rows


def test_bundled_file_parses_completely(raw: bytes, edges: pl.DataFrame) -> None:
    records = list(csv.DictReader(io.StringIO(raw.decode())))
    assert edges.height == len(records) == 2149
    assert dict(edges.schema) == SCHEMA
    assert edges["date"].min() == dt.date(2018, 1, 1)
    assert edges["date"].max() == dt.date(2024, 2, 23)
    last = edges.row(-1, named=True)
    assert {c: last[c] for c in VALUE_COLUMNS} == {c: float(records[-1][c]) for c in VALUE_COLUMNS}


def test_source_points_at_the_repository_not_gdelt() -> None:
    assert SOURCE.table == "raw_gdelt_graph"
    assert SOURCE.key == ("date",)
    assert SOURCE.schema == SCHEMA
    assert SOURCE.base_url.startswith("https://raw.githubusercontent.com/gzemo/gdelt-graph-data/")
    assert [d.bundled for d in SOURCE.datasets] == [BUNDLED]


def test_monthly_tone_matches_duckdb(edges: pl.DataFrame) -> None:
    query = f"""
        SELECT date_trunc('month', date)::DATE AS month,
               avg(usa_chn_edge / usa_row_abs_sum) AS gdelt_edge_share,
               count(*) AS days
        FROM read_csv('{PATH}', header = true)
        GROUP BY 1 ORDER BY 1
    """
    with duckdb.connect() as con:
        expected = con.sql(query).pl()
    assert_frame_equal(monthly_tone(edges), expected, check_dtypes=False)


def test_monthly_tone_reproduces_provenance_checks(edges: pl.DataFrame) -> None:
    """PROVENANCE 1a: the share turns negative in 2020-07; 2023-04 has only 17 days."""
    monthly = monthly_tone(edges).filter(pl.col("month").dt.year() >= 2020)
    by_month = {row["month"]: row for row in monthly.iter_rows(named=True)}
    assert by_month[dt.date(2020, 6, 1)]["gdelt_edge_share"] > 0
    assert by_month[dt.date(2020, 7, 1)]["gdelt_edge_share"] < 0
    assert by_month[dt.date(2023, 4, 1)]["days"] == 17


def test_day_without_usa_edges_counts_but_has_no_share() -> None:
    frame = pl.DataFrame(
        {
            "date": [dt.date(2019, 3, 1), dt.date(2019, 3, 2)],
            "usa_chn_edge": [10.0, 0.0],
            "usa_row_abs_sum": [40.0, 0.0],
        }
    )
    assert monthly_tone(frame).rows() == [(dt.date(2019, 3, 1), 0.25, 2)]


def test_row_quirks_are_rejected_with_line_numbers(raw: bytes) -> None:
    lines = raw.decode().splitlines()
    missing = lines[3].rsplit(",", 1)[0] + ","  # last value emptied
    impossible = "2019-02-30" + lines[4][len("2018-01-03") :]
    body = [lines[0], *lines[1:3], missing, impossible, *lines[5:], lines[1]]
    parsed = parse_edges("\n".join(body).encode(), "quirks.csv")
    assert parsed.rows.height == 2149 - 2
    assert parsed.rejects.select("row", "field").rows() == [
        (4, "global_upper_triangle_sum"),
        (5, "date"),
        (len(body), "date"),
    ]
    assert "duplicate key" in parsed.rejects["reason"][-1]


def test_semicolon_file_is_a_wrong_delimiter(raw: bytes) -> None:
    with pytest.raises(SourceError) as error:
        parse_edges(raw.replace(b",", b";"), "edges_semicolon.csv")
    assert str(error.value).startswith("edges_semicolon.csv, row 1: wrong delimiter")
