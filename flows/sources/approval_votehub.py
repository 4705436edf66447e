"""Trump second-term job approval, individual polls from VoteHub (2025-01-20 to 2026-08).

The historical compilation behind :mod:`flows.sources.approval` stops at Biden, so without this
source the panel's approval series would end in January 2025. VoteHub's public polls API
(``https://api.votehub.com/polls?subject=Donald%20Trump&poll_type=approval``, JSON, no key)
collects the pollsters' published toplines; it is the live path. The bundle is the repository
``us-elections-2026/us-elections-2026.github.io``'s CSV normalisation of that API (one row per
poll and population, ``approve``/``disapprove`` picked from the answers), plus 12 rows with
``supp-`` ids that the repository's author added from the pollsters' own toplines when the feed
paused in July 2026. :func:`parse` reads either shape, so the bundle and the API land the same
rows.

Validation: ``population`` must be one of VoteHub's codes (A adults, RV registered voters, LV
likely voters, V voters); percentages must lie in 0..100 and approve + disapprove may not exceed
100; in the CSV, ``value`` must equal approve - disapprove, which catches a shifted column.
A JSON record without both an "Approve" and a "Disapprove" answer is refused with its position
in the list as the row number (1 = the first record).

One poll can appear once per population (YouGov publishes adults and registered voters from the
same fieldwork). :func:`one_per_survey` keeps one row per (pollster, fieldwork dates), adults
first, so one survey is not averaged in twice; the raw table keeps every row.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from typing import Any

import polars as pl

from flows.sources.base import (
    Converter,
    Dataset,
    Parsed,
    Source,
    SourceError,
    date,
    decode,
    integer,
    one_of,
    read_csv,
    rejects_frame,
    required_number,
    text,
)

PRESIDENT = "Donald Trump"
POPULATIONS = ("A", "RV", "LV", "V")
# Adults first, as the public approval trackers do: approval is a question about the whole
# public, and RV/LV screens run systematically warmer for Trump in this file.
POPULATION_PREFERENCE = {p: i for i, p in enumerate(POPULATIONS)}

SCHEMA: dict[str, pl.DataType] = {
    "poll_id": pl.String(),
    "date_end": pl.Date(),
    "date_start": pl.Date(),
    "pollster": pl.String(),
    "sponsor": pl.String(),
    "population": pl.String(),
    "sample_size": pl.Int64(),
    "approve": pl.Float64(),
    "disapprove": pl.Float64(),
    "partisan": pl.String(),
    "internal": pl.Boolean(),
    "source_url": pl.String(),
}


def percent(text_value: str) -> float:
    """A share of respondents in 0..100."""
    try:
        value = float(text_value.strip())
    except ValueError:
        raise ValueError(f"not a number: {text_value!r}") from None
    if not 0 <= value <= 100:
        raise ValueError(f"not a percentage in 0..100: {text_value!r}")
    return value


def flag(yes: str) -> Converter:
    """A yes/no column written as ``yes`` or an empty cell."""

    def convert(value: str) -> bool:
        v = value.strip()
        if v not in ("", yes):
            raise ValueError(f"expected {yes!r} or an empty cell: {value!r}")
        return v == yes

    return convert


def parse(content: bytes, file: str) -> Parsed:
    """VoteHub's JSON list of polls (live) or the repository's CSV of it (bundle)."""
    if decode(content, file).lstrip()[:1] in ("[", "{"):
        return _parse_json(content, file)
    return _parse_csv(content, file)


def _parse_csv(content: bytes, file: str) -> Parsed:
    columns = {
        "poll_id": text(),
        "date_end": date(),
        "date_start": date(),
        "pollster": text(),
        "sponsor": text(required=False),
        "population": one_of(POPULATIONS),
        "n": integer(minimum=1),
        "approve": percent,
        "disapprove": percent,
        "value": required_number(),
        "partisan": text(required=False),
        "internal": flag("Y"),
        "source_url": text(required=False),
    }
    parsed = read_csv(content, file, columns, key=["poll_id"])
    rows = parsed.rows.rename({"n": "sample_size"})
    lines = decode(content, file).splitlines()
    bad_sum = rows.filter(pl.col("approve") + pl.col("disapprove") > 100)
    bad_net = rows.filter(
        (pl.col("value") - (pl.col("approve") - pl.col("disapprove"))).abs() > 0.05
    )
    problems = {r: ("value", "value is not approve - disapprove") for r in bad_net["poll_id"]}
    problems |= {r: ("approve", "approve + disapprove exceeds 100") for r in bad_sum["poll_id"]}
    if problems:  # one reject per poll, the first problem in column order
        line_of = _lines_by_id(lines)
        extra = rejects_frame(
            [(line_of[p], fld, why, lines[line_of[p] - 1]) for p, (fld, why) in problems.items()]
        )
        rows = rows.filter(~pl.col("poll_id").is_in(list(problems)))
        rejects = pl.concat([parsed.rejects, extra]).sort("row")
    else:
        rejects = parsed.rejects
    return replace(parsed, rows=_typed(rows), rejects=rejects)


def _lines_by_id(lines: list[str]) -> dict[str, int]:
    """Line number of each poll_id, for rejects found after the row-by-row read."""
    column = next(csv.reader(lines[:1])).index("poll_id")
    out = {}
    for number, cells in enumerate(csv.reader(lines[1:]), start=2):
        if len(cells) > column:
            out.setdefault(cells[column].strip(), number)
    return out


def _parse_json(content: bytes, file: str) -> Parsed:
    try:
        records = json.loads(decode(content, file))
    except json.JSONDecodeError as exc:
        raise SourceError(file, f"not valid JSON: {exc.msg}", row=exc.lineno) from None
    if not isinstance(records, list):
        raise SourceError(file, "expected a JSON list of polls")
    rows: list[dict[str, Any]] = []
    rejects: list[tuple[int, str | None, str, str]] = []
    seen: dict[str, int] = {}
    for position, record in enumerate(records, start=1):
        raw = json.dumps(record, ensure_ascii=False)
        try:
            row = _record(record)
        except _Refused as refused:
            rejects.append((position, refused.field, refused.reason, raw))
            continue
        if row["poll_id"] in seen:
            reason = (
                f"duplicate key poll_id={row['poll_id']}: first seen on row {seen[row['poll_id']]}"
            )
            rejects.append((position, "poll_id", reason, raw))
            continue
        seen[row["poll_id"]] = position
        rows.append(row)
    return Parsed(pl.DataFrame(rows, schema=SCHEMA), rejects_frame(rejects))


class _Refused(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(reason)


def _record(record: Any) -> dict[str, Any]:
    """One API record as a row of :data:`SCHEMA`, or :class:`_Refused` naming the field."""
    if not isinstance(record, dict):
        raise _Refused("id", "a poll must be a JSON object")
    answers = {
        a.get("choice"): a.get("pct") for a in record.get("answers") or [] if isinstance(a, dict)
    }
    out: dict[str, Any] = {}
    checks: list[tuple[str, str, Any, Converter]] = [
        ("poll_id", "id", record.get("id"), text()),
        ("date_end", "end_date", record.get("end_date"), date()),
        ("date_start", "start_date", record.get("start_date"), date()),
        ("pollster", "pollster", record.get("pollster"), text()),
        ("population", "population", (record.get("population") or "").upper(), one_of(POPULATIONS)),
        ("sample_size", "sample_size", record.get("sample_size"), integer(minimum=1)),
        ("approve", "answers", answers.get("Approve"), percent),
        ("disapprove", "answers", answers.get("Disapprove"), percent),
    ]
    for column, field, value, convert in checks:
        if column in ("approve", "disapprove") and value is None:
            raise _Refused(field, f"no {column.capitalize()} answer")
        try:
            out[column] = convert("" if value is None else str(value))
        except ValueError as exc:
            raise _Refused(field, str(exc)) from None
    if out["approve"] + out["disapprove"] > 100:
        raise _Refused("answers", "approve + disapprove exceeds 100")
    out["sponsor"] = "; ".join(record.get("sponsors") or []) or None
    out["partisan"] = record.get("partisan") or None
    out["internal"] = bool(record.get("internal"))
    out["source_url"] = record.get("url") or None
    return {c: out[c] for c in SCHEMA}


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(t) for c, t in SCHEMA.items())


def one_per_survey(polls: pl.DataFrame) -> pl.DataFrame:
    """One row per (pollster, fieldwork dates): the adults' figure where published, else RV,
    LV, V. Averaging every population row would count a survey two or three times."""
    rank = pl.col("population").replace_strict(POPULATION_PREFERENCE, return_dtype=pl.Int64)
    return (
        polls.with_columns(rank.alias("_rank"))
        .sort("pollster", "date_start", "date_end", "_rank", "poll_id")
        .unique(["pollster", "date_start", "date_end"], keep="first", maintain_order=True)
        .drop("_rank")
    )


def as_approval_polls(polls: pl.DataFrame) -> pl.DataFrame:
    """The polls in :mod:`flows.sources.approval`'s columns, one per survey, so both tables
    feed one monthly series (``president``, ``poll_end``, ``approval``)."""
    return one_per_survey(polls).select(
        pl.lit(PRESIDENT).alias("president"),
        pl.col("date_end").alias("poll_end"),
        pl.col("approve").alias("approval"),
    )


SOURCE = Source(
    name="approval_votehub",
    description="Trump second-term approval: individual polls from VoteHub, 2025-01 onward",
    table="raw_approval_votehub",
    schema=SCHEMA,
    key=("poll_id",),
    base_url="https://api.votehub.com",
    licence="None stated (poll toplines as collected by VoteHub; cite VoteHub and the pollster)",
    datasets=(
        Dataset(
            "polls",
            "votehub_trump2-approval/approval_polls_2025-2026.csv",
            "/polls?subject=Donald%20Trump&poll_type=approval",
            parse,
        ),
    ),
)
