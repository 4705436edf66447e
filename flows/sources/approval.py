"""US presidential job approval, individual polls, Roosevelt to Biden (poll_end 1937-08 to 2025-01).

A domestic driver of how much room a president has in China policy. The file is
``historical_approval_polls.csv`` of the repository ``lorenzo-ruffino/approval_rate_usa_president``
(a compilation of Gallup, YouGov, Morning Consult, Rasmussen, Ipsos and other pollsters), read
from the repository's raw GitHub URL. It has no polls of Trump's second term.

Format: quoted CSV; "NA" marks a missing ``no_opinion`` or ``sample_size``; pollster names are
UTF-8 and not all ASCII ("Øptimus Analytics"), which the strict UTF-8 reader keeps as written.
``president_number`` is not kept: the file numbers Trump's first term 46, like Biden's, so it
does not identify a presidency; ``president`` does. ``term_start``/``term_end`` are not kept
either: they follow from ``president`` and ``term_number``.

Natural key: (president, poll_start, poll_end, polling_institute). The suggested key with
``sample_size`` as well cannot be used: 333 polls have no sample size, and a warehouse key
column cannot be null. For the same reason the 10 polls with an empty pollster name (Trump,
2017-18) are rejected. The key is not unique in the file, and the later rows of a repeated
key are rejected as duplicates (56 rows in the bundled file): 34 repeat an earlier row
exactly; the others report a second result for the same pollster and field dates (a
different sample size or different numbers) with no field, such as population or question
wording, to tell the two apart, so the first one published is kept.
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import (
    Dataset,
    Parsed,
    Source,
    date,
    integer,
    number,
    read_csv,
    required_number,
    stable_mean,
    text,
)

KEY = ("president", "poll_start", "poll_end", "polling_institute")


def parse(content: bytes, file: str) -> Parsed:
    """One row per poll; a poll repeated under the same key is rejected with its first row."""
    columns = {
        "president": text(),
        "term_number": integer(missing=(), minimum=1),
        "poll_start": date(),
        "poll_end": date(),
        "polling_institute": text(),
        "approval": required_number(),
        "disapproval": required_number(),
        "no_opinion": number(),
        "sample_size": integer(minimum=1),
    }
    parsed = read_csv(content, file, columns, key=KEY)
    rows = parsed.rows.select(
        pl.col("president").cast(pl.String),
        pl.col("term_number").cast(pl.Int64),
        pl.col("poll_start").cast(pl.Date),
        pl.col("poll_end").cast(pl.Date),
        pl.col("polling_institute").cast(pl.String),
        *(pl.col(c).cast(pl.Float64) for c in ("approval", "disapproval", "no_opinion")),
        pl.col("sample_size").cast(pl.Int64),
    )
    return parsed.with_rows(rows)


def monthly_approval(frame: pl.DataFrame) -> pl.DataFrame:
    """Mean approval and poll count per (month, president), dating each poll by its end.

    A poll counts in the month its fieldwork ended (the last day it could reflect). Polls are
    weighted equally, not by sample size: a third of the early polls have none. A month of a
    handover has one row per president.
    """
    return (
        frame.group_by(pl.col("poll_end").dt.truncate("1mo").alias("month"), "president")
        .agg(stable_mean(pl.col("approval")), pl.len().cast(pl.Int64).alias("n_polls"))
        .sort("month", "president")
    )


SOURCE = Source(
    name="approval",
    description="US presidential approval: individual polls 1937-2025 (Roosevelt to Biden)",
    table="raw_approval",
    schema={
        "president": pl.String(),
        "term_number": pl.Int64(),
        "poll_start": pl.Date(),
        "poll_end": pl.Date(),
        "polling_institute": pl.String(),
        "approval": pl.Float64(),
        "disapproval": pl.Float64(),
        "no_opinion": pl.Float64(),
        "sample_size": pl.Int64(),
    },
    key=KEY,
    base_url="https://raw.githubusercontent.com/lorenzo-ruffino/approval_rate_usa_president/HEAD",
    licence="None stated (compilation of published poll results)",
    datasets=(
        Dataset(
            "polls",
            "lorenzo-ruffino_approval_rate_usa_president/historical_approval_polls.csv",
            "/historical_approval_polls.csv",
            parse,
        ),
    ),
)
