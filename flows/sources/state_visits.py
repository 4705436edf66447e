"""High-level US–China contacts: presidents' and secretaries of state's trips abroad, and
foreign leaders' visits to the United States (U.S. Department of State, Office of the
Historian), 2001 onward.

A dialogue indicator: managed competition is, by definition, a relationship in which leaders
meet. The Office of the Historian keeps both lists as XML in the public-domain repositories
``HistoryAtState/travels`` (one ``<trip>`` per trip) and ``HistoryAtState/visits`` (one
``<visit>`` per visit); the bundle holds their flattening to CSV from 2001 (every country,
fields copied, whitespace collapsed). The XML is split over dozens of files per president and
secretary, so the CSVs have no live path; ``winset ingest --live`` reads the bundled files.

Which rows are US–China meetings (:func:`monthly_meetings`): a trip to China, a trip elsewhere
whose remarks say the president or secretary met a Chinese leader (G-8, G20, APEC), and a visit
of a leader of the People's Republic to the United States. The lists are updated after the
fact, so the count is complete only to the earlier of the two files' last dates; months after
that are unobserved (null), not meeting-free.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, date, one_of, read_csv, text

PRC = "China, People’s Republic of"
# "Met with Chinese President Hu Jintao", "met with President Hu of China", "met with ...
# President Xi Jinping of China", "met with the leaders of ..., China, ...".
MET_CHINESE_LEADER = r"(?i)\bmet with\b[^.]*\b(chinese|china)\b"


def parse_travels(content: bytes, file: str) -> Parsed:
    columns = {
        "id": text(),
        "role": one_of(("president", "secretary")),
        "name": text(),
        "start_date": date(),
        "end_date": date(),
        "country_id": text(),
        "country": text(),
        "locale": text(required=False),
        "remarks": text(required=False),
    }
    parsed = read_csv(content, file, columns, key=["id"])
    return parsed.with_rows(
        parsed.rows.select(pl.col(c).cast(t) for c, t in TRAVELS_SCHEMA.items())
    )


def parse_visits(content: bytes, file: str) -> Parsed:
    columns = {
        "id": text(),
        "start_date": date(),
        "end_date": date(),
        "visitor": text(),
        "from_country": text(),
        "description": text(required=False),
    }
    parsed = read_csv(content, file, columns, key=["id"])
    return parsed.with_rows(parsed.rows.select(pl.col(c).cast(t) for c, t in VISITS_SCHEMA.items()))


def us_china_meetings(travels: pl.DataFrame, visits: pl.DataFrame) -> pl.DataFrame:
    """The dated meetings (``date``, ``kind``). Trips or visits of one kind whose dates overlap
    are one meeting: the president and the secretary travelling to the same summit a day apart
    met the same Chinese leaders once, not twice."""
    trips = travels.filter(
        (pl.col("country_id") == "china")
        | pl.col("remarks").fill_null("").str.contains(MET_CHINESE_LEADER)
    )
    received = visits.filter(pl.col("from_country") == PRC)
    return pl.concat(
        [_merge_overlaps(trips, "us_trip"), _merge_overlaps(received, "china_visit")]
    ).sort("date", "kind")


def _merge_overlaps(rows: pl.DataFrame, kind: str) -> pl.DataFrame:
    """One row per run of overlapping [start_date, end_date] spans, dated by its first day."""
    spans = rows.select("start_date", "end_date").sort("start_date", "end_date")
    reach = pl.col("end_date").cum_max().shift(1)
    return (
        spans.with_columns(
            (reach.is_null() | (pl.col("start_date") > reach)).cum_sum().alias("meeting")
        )
        .group_by("meeting")
        .agg(pl.col("start_date").min().alias("date"))
        .select("date", pl.lit(kind).alias("kind"))
    )


def monthly_meetings(
    travels: pl.DataFrame, visits: pl.DataFrame, until: dt.date | None = None
) -> pl.DataFrame:
    """High-level US–China meetings per month, 0 in recorded months without one.

    Recorded months run from the first month of either list to the month of the earlier of the
    two lists' last dates (and of ``until``, a backtest's cut, after which nothing counts);
    later months get no row, so the panel shows them as unobserved.
    """
    if travels.is_empty() or visits.is_empty():
        return pl.DataFrame(schema={"month": pl.Date, "us_china_meetings": pl.Int64})
    first = min(travels["start_date"].min(), visits["start_date"].min()).replace(day=1)
    last = min(travels["start_date"].max(), visits["start_date"].max()).replace(day=1)
    meetings = us_china_meetings(travels, visits)
    if until is not None:
        last = min(last, until.replace(day=1))
        meetings = meetings.filter(pl.col("date") <= until)
    meetings = meetings.filter(pl.col("date").dt.truncate("1mo") <= last)
    months = pl.date_range(first, last, "1mo", eager=True)
    counts = meetings.group_by(pl.col("date").dt.truncate("1mo").alias("month")).agg(
        pl.len().cast(pl.Int64).alias("us_china_meetings")
    )
    return (
        months.alias("month")
        .to_frame()
        .join(counts, on="month", how="left")
        .with_columns(pl.col("us_china_meetings").fill_null(0))
    )


TRAVELS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "role": pl.String(),
    "name": pl.String(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
    "country_id": pl.String(),
    "country": pl.String(),
    "locale": pl.String(),
    "remarks": pl.String(),
}
VISITS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
    "visitor": pl.String(),
    "from_country": pl.String(),
    "description": pl.String(),
}
LICENCE = "Public domain / CC0 (U.S. Department of State, Office of the Historian)"

TRAVELS = Source(
    name="us_travels",
    description="US presidents' and secretaries of state's trips abroad (Office of the "
    "Historian), 2001 onward",
    table="raw_us_travels",
    schema=TRAVELS_SCHEMA,
    key=("id",),
    base_url="",
    licence=LICENCE,
    datasets=(
        Dataset(
            "travels",
            "state-dept_travels-visits/DERIVED_us_president_secretary_travels_2001-2025.csv",
            "",  # the publisher's XML is spread over one file per traveller (see above)
            parse_travels,
        ),
    ),
)
VISITS = Source(
    name="leader_visits",
    description="Foreign leaders' visits to the United States (Office of the Historian), "
    "2001 onward",
    table="raw_leader_visits",
    schema=VISITS_SCHEMA,
    key=("id",),
    base_url="",
    licence=LICENCE,
    datasets=(
        Dataset(
            "visits",
            "state-dept_travels-visits/DERIVED_foreign_leader_visits_to_us_2001-2024.csv",
            "",
            parse_visits,
        ),
    ),
)
