"""Curated event tables: the US-China event timeline 2017-2026 and the 2025-26 US tariff actions.

Neither has a publisher file to download, so both Sources have an empty base URL and every
dataset an empty live path: ``winset ingest --live`` does not download them and re-reads the
bundled files instead (see :class:`flows.sources.base.Dataset`).

* ``timeline/us_china_events_2017_2026.csv`` was compiled for this project from news and agency
  pages (``source``, stored as ``reference``, names the site each entry was read in;
  ``verified`` is ``yes`` when read there, ``partly`` when found only in another data set).
  ``pathway_signal`` is the compiler's judgment with the rules in data/PROVENANCE.md 8a; an
  unknown signal is rejected, because :func:`monthly_signals` would otherwise count it
  nowhere; an unknown ``category`` is rejected for the same reason (:func:`monthly_categories`).
  Treat the signals as noisy labels.
* ``tradewartracker_trade-war-redux-2025/DERIVED_us_tariff_actions_2025-2026_from_README.csv``
  is the dated tariff-action table we parsed from the markdown of the MIT repository
  ``tradewartracker/trade-war-redux-2025``; the file itself is ours, so it is curated too. Its
  last row ("Actions not yet incorporated", pharmaceuticals) has no date; it is kept with a null
  date, and the key uses the date as written (``date_text``, "—" there) so it stays non-null.

This module exports two Sources, one per table: ``SOURCE`` (raw_timeline) and
``TARIFF_ACTIONS`` (raw_tariff_actions).
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, date, one_of, read_csv, text

SIGNALS = ("decoupling", "managed_competition", "selective_engagement", "shock")
# The event categories the pathway rules (data/pathways.yaml) count, one panel column each.
CATEGORIES = (
    "tariffs",
    "export_controls",
    "security",
    "summit",
    "agreement",
    "climate_health",
    "legal",
    "international",
)

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "event": pl.String(),
    "category": pl.String(),
    "pathway_signal": pl.String(),
    "reference": pl.String(),
    "verified": pl.String(),
}


def parse_events(content: bytes, file: str) -> Parsed:
    """One row per event; the file's ``source`` column becomes ``reference``.

    ``source`` is a lineage column of every warehouse table (which connector wrote the row),
    so the site an event was read in needs another name.
    """
    columns = {
        "date": date(),
        "event": text(),
        "category": one_of(CATEGORIES),
        "pathway_signal": one_of(SIGNALS),
        "source": text(),
        "verified": one_of(("yes", "partly")),
    }
    parsed = read_csv(content, file, columns, key=["date", "event"])
    rows = parsed.rows.rename({"source": "reference"}).select(
        pl.col("date").cast(pl.Date),
        *(pl.col(c).cast(pl.String) for c in list(EVENTS_SCHEMA)[1:]),
    )
    return parsed.with_rows(rows)


def parse_tariff_actions(content: bytes, file: str) -> Parsed:
    """One row per action listed in the tracker's README; ``mentions_china_or_hk`` as a bool."""
    columns = {
        "date_iso": date(required=False),
        "date_text": text(),
        "readme_section": text(),
        "authority": text(),
        "reference": text(),
        "description": text(),
        "mentions_china_or_hk": one_of(("0", "1")),
    }
    parsed = read_csv(content, file, columns, key=["date_text", "readme_section", "reference"])
    rows = parsed.rows.select(
        pl.col("date_iso").cast(pl.Date).alias("date"),
        *(pl.col(c).cast(pl.String) for c in list(columns)[1:-1]),
        (pl.col("mentions_china_or_hk") == "1").alias("mentions_china_or_hk"),
    )
    return parsed.with_rows(rows)


def _monthly_counts(frame: pl.DataFrame, column: str, values: tuple[str, ...]) -> pl.DataFrame:
    """Events per month for each of ``values`` of ``column``, one column per value.

    Months run without gaps from the first to the last event's month, with zero counts in
    between, because a quiet month is information for a model, not a missing value.
    """
    counts = frame.group_by(pl.col("date").dt.truncate("1mo").alias("month")).agg(
        (pl.col(column) == v).sum().cast(pl.Int64).alias(v) for v in values
    )
    months = pl.date_range(
        counts["month"].min(), counts["month"].max(), interval="1mo", eager=True
    ).alias("month")
    return (
        months.to_frame()
        .join(counts, on="month", how="left")
        .with_columns(pl.col(v).fill_null(0) for v in values)
    )


def monthly_signals(frame: pl.DataFrame) -> pl.DataFrame:
    """Events per month and pathway signal, one column per signal."""
    return _monthly_counts(frame, "pathway_signal", tuple(SIGNALS))


def monthly_categories(frame: pl.DataFrame) -> pl.DataFrame:
    """Events per month and category (:data:`CATEGORIES`), one column per category.

    Why counts by category beside the compiler's ``pathway_signal``: the operational pathway
    rules judge a month by *what happened* (a tariff, a summit, an export control), not by the
    compiler's reading of it, so the two can be compared. :func:`parse_events` rejects an
    unknown category, which would otherwise count nowhere here.
    """
    return _monthly_counts(frame, "category", tuple(CATEGORIES))


SOURCE = Source(
    name="timeline",
    description="Curated US-China event timeline 2017-2026 with pathway signals",
    table="raw_timeline",
    schema=EVENTS_SCHEMA,
    key=("date", "event"),
    base_url="",
    licence="Compiled for this project; each event cites the page it was read in",
    datasets=(Dataset("events", "timeline/us_china_events_2017_2026.csv", "", parse_events),),
)

TARIFF_ACTIONS = Source(
    name="tariff_actions",
    description="US tariff actions 2025-2026 from the tradewartracker README (curated)",
    table="raw_tariff_actions",
    schema={
        "date": pl.Date(),
        "date_text": pl.String(),
        "readme_section": pl.String(),
        "authority": pl.String(),
        "reference": pl.String(),
        "description": pl.String(),
        "mentions_china_or_hk": pl.Boolean(),
    },
    key=("date_text", "readme_section", "reference"),
    base_url="",
    licence="Derived from tradewartracker/trade-war-redux-2025 (MIT)",
    datasets=(
        Dataset(
            "readme_actions",
            "tradewartracker_trade-war-redux-2025/DERIVED_us_tariff_actions_2025-2026_from_README.csv",
            "",
            parse_tariff_actions,
        ),
    ),
)
