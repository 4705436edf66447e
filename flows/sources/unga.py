"""UN General Assembly voting: ideal points and vote agreement, by country and annual session.

A slow alignment indicator: how far apart the USA and China vote at the UN, session by session.
Publisher: Erik Voeten et al., "United Nations General Assembly Voting Data" (Harvard
Dataverse), ideal points by Bailey, Strezhnev and Voeten (2017), June 2024 release. The bundle
keeps the rows of the USA (``ccode`` 2) and China (710) from the copy of
``IdealpointestimatesAll_Jun2024.csv`` in ``tongyu03/DSE3101-Predictive-Modelling-of-Global-
Trade-Flows`` (a filter, all columns unchanged). Dataverse serves the release behind a
per-version file id, not a stable URL, and the mirror deleted its copy, so there is no live
path: ``winset ingest --live`` reads the bundled file; a newer release (all countries) can be
ingested with ``--file``, and every country is kept.

Sessions are dated by their opening: session ``n`` opens in September of ``1945 + n`` and runs
to the following summer (session 1 met in January 1946). ``NA`` marks a missing agreement
share (before China was seated in 1971, or for the country with itself).

Natural key: (iso3c, session).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, integer, number, read_csv, text

COLUMNS = {
    "IdealPointAll": "ideal_point",
    "Q5%All": "ideal_point_q5",
    "Q95%All": "ideal_point_q95",
    "USAgree": "agree_usa",
    "ChinaAgree": "agree_china",
    "RUSSAgree": "agree_russia",
}


def session_start(session: int) -> dt.date:
    """The month a session opened: September of 1945 + n (the first met in January 1946)."""
    return dt.date(1946, 1, 1) if session == 1 else dt.date(1945 + session, 9, 1)


def share(text_value: str) -> float | None:
    """An agreement share in 0..1 (``NA`` = null)."""
    value = number()(text_value)
    if value is not None and not 0 <= value <= 1:
        raise ValueError(f"not a share in 0..1: {text_value!r}")
    return value


def parse(content: bytes, file: str) -> Parsed:
    """One row per (country, session)."""
    columns = {
        "iso3c": text(),
        "ccode": integer(missing=(), minimum=1),
        "session": integer(missing=(), minimum=1),
        "NVotesAll": integer(minimum=0),
        "IdealPointAll": number(),
        "Q5%All": number(),
        "Q95%All": number(),
        "USAgree": share,
        "ChinaAgree": share,
        "RUSSAgree": share,
    }
    parsed = read_csv(content, file, columns, key=["iso3c", "session"])
    rows = parsed.rows.select(
        pl.col("iso3c").cast(pl.String),
        pl.col("ccode").cast(pl.Int64),
        pl.col("session").cast(pl.Int64),
        pl.col("session").map_elements(session_start, return_dtype=pl.Date).alias("session_start"),
        pl.col("NVotesAll").cast(pl.Int64).alias("votes"),
        *(pl.col(c).cast(pl.Float64).alias(n) for c, n in COLUMNS.items()),
    )
    return parsed.with_rows(rows)


def us_china_alignment(frame: pl.DataFrame) -> pl.DataFrame:
    """Per session: China's share of votes agreeing with the USA, and the distance between
    their ideal points (USA minus China; larger = further apart)."""
    usa = frame.filter(pl.col("iso3c") == "USA").select("session", "ideal_point")
    chn = frame.filter(pl.col("iso3c") == "CHN").select(
        "session", "session_start", pl.col("ideal_point").alias("ideal_point_chn"), "agree_usa"
    )
    return (
        chn.join(usa, on="session", how="inner")
        .select(
            "session",
            "session_start",
            pl.col("agree_usa").alias("unga_china_us_agreement"),
            (pl.col("ideal_point") - pl.col("ideal_point_chn")).alias("unga_ideal_point_gap"),
        )
        .sort("session")
    )


SOURCE = Source(
    name="unga",
    description="UN General Assembly voting: ideal points and agreement (Voeten), by session",
    table="raw_unga",
    schema={
        "iso3c": pl.String(),
        "ccode": pl.Int64(),
        "session": pl.Int64(),
        "session_start": pl.Date(),
        "votes": pl.Int64(),
        **{n: pl.Float64() for n in COLUMNS.values()},
    },
    key=("iso3c", "session"),
    base_url="",
    licence="None stated in the mirror; the dataset asks for citation of Voeten et al.",
    datasets=(
        Dataset(
            "ideal_points",
            "voeten_unga-ideal-points/DERIVED_IdealpointestimatesAll_Jun2024_USA_CHN.csv",
            "",  # no stable publisher URL (see above)
            parse,
        ),
    ),
)
