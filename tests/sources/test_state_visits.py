"""State Department trips and visits: both lists as published, and US–China meetings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import SourceError
from flows.sources.state_visits import (
    PRC,
    TRAVELS,
    VISITS,
    monthly_meetings,
    us_china_meetings,
)
from tests.sources.helpers import edited_excerpt, parse_bundled

TRIPS = TRAVELS.dataset("travels")
RECEIVED = VISITS.dataset("visits")


@pytest.fixture(scope="module")
def lists() -> tuple[pl.DataFrame, pl.DataFrame]:
    data_dir = Path(__file__).resolve().parents[2] / "data"
    travels, visits = parse_bundled(TRIPS, data_dir), parse_bundled(RECEIVED, data_dir)
    assert travels.rejects.is_empty() and visits.rejects.is_empty()
    return travels.rows, visits.rows


def test_bundled_lists_match_provenance(lists) -> None:
    travels, visits = lists
    assert travels.schema == pl.Schema(TRAVELS.schema)
    assert visits.schema == pl.Schema(VISITS.schema)
    # PROVENANCE 14: 1,865 trips 2001-01-11 to 2025-02-19, 42 to China; 1,404 visits
    # 2001-02-04 to 2024-11-12.
    assert travels.height == 1865 and visits.height == 1404
    assert (travels["start_date"].min(), travels["start_date"].max()) == (
        dt.date(2001, 1, 11),
        dt.date(2025, 2, 19),
    )
    assert (visits["start_date"].min(), visits["start_date"].max()) == (
        dt.date(2001, 2, 4),
        dt.date(2024, 11, 12),
    )
    assert travels.filter(pl.col("country_id") == "china").height == 42
    # PROVENANCE says 14 visits from China; the file has 21 rows from the PRC (Hu Jintao
    # alone came 8 times; Xi's 2023-11-12 trip is two rows).
    assert visits.filter(pl.col("from_country") == PRC).height == 21


def test_overlapping_trips_are_one_meeting(lists) -> None:
    meetings = us_china_meetings(*lists)
    days = meetings.filter(pl.col("kind") == "us_trip")["date"].to_list()
    # 2017-11-08: the president and the secretary in Beijing together, one meeting.
    assert days.count(dt.date(2017, 11, 8)) == 1
    # 2001-10: the secretary arrived in Shanghai a day before the president (APEC).
    assert [d for d in days if d.year == 2001 and d.month == 10] == [dt.date(2001, 10, 17)]
    received = meetings.filter(pl.col("kind") == "china_visit")["date"].to_list()
    assert received.count(dt.date(2023, 11, 12)) == 1  # two rows of Xi's visit


def test_meetings_outside_china_come_from_the_remarks(lists) -> None:
    days = us_china_meetings(*lists)["date"].to_list()
    assert dt.date(2024, 11, 15) in days  # Lima: "met with ... President Xi Jinping of China"
    assert dt.date(2003, 6, 1) in days  # Evian G-8: "met with Chinese President Hu Jintao"


def test_monthly_count_is_zero_only_where_the_lists_are_complete(lists) -> None:
    monthly = monthly_meetings(*lists)
    assert monthly["month"].min() == dt.date(2001, 1, 1)
    assert monthly["month"].max() == dt.date(2024, 11, 1)  # visits end 2024-11-12
    steps = monthly["month"].dt.offset_by("1mo").head(-1).to_list()
    assert steps == monthly["month"].tail(-1).to_list()  # every recorded month has a row
    meetings = us_china_meetings(*lists).filter(pl.col("date") < dt.date(2024, 12, 1))
    assert monthly["us_china_meetings"].sum() == meetings.height
    row = dict(monthly.select("month", "us_china_meetings").iter_rows())
    assert row[dt.date(2017, 4, 1)] == 1  # Xi at Mar-a-Lago
    assert row[dt.date(2020, 6, 1)] == 0
    assert row[dt.date(2024, 11, 1)] == 1  # Lima, 2024-11-15


def test_until_cuts_the_count_and_the_months(lists) -> None:
    cut = monthly_meetings(*lists, until=dt.date(2017, 4, 5))
    assert cut["month"].max() == dt.date(2017, 4, 1)
    assert cut.row(-1) == (dt.date(2017, 4, 1), 0)  # Mar-a-Lago starts on the 6th


def test_unknown_role_and_repeated_id_are_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = edited_excerpt(TRIPS, data_dir, tmp_path, 3, "269,secretary,", "269,ambassador,")
    parsed = TRIPS.parse(content, "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "role")
    content = edited_excerpt(TRIPS, data_dir, tmp_path, 3, "269,secretary,", "268,secretary,")
    reject = TRIPS.parse(content, "e.csv").rejects.row(0, named=True)
    assert reject["row"] == 3 and "duplicate key id=268" in reject["reason"]


def test_impossible_visit_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = edited_excerpt(RECEIVED, data_dir, tmp_path, 3, "1443,2001-02-04", "1443,2001-02-30")
    parsed = RECEIVED.parse(content, "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (2, "start_date")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = edited_excerpt(RECEIVED, data_dir, tmp_path, 3, ",from_country,", ",country,")
    with pytest.raises(SourceError) as caught:
        RECEIVED.parse(content, "e.csv")
    assert caught.value.field == "from_country"
