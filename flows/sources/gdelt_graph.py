"""Daily USA–CHN edge weights from gzemo/gdelt-graph-data (data/PROVENANCE.md, section 1a).

The repository turns each day of GDELT 2.0 events between bare country actors into a 249×249
country matrix (edge = Goldstein score plus small source, article and tone terms, summed over
the day). The bundled CSV keeps the few cells this project uses, one row per day, 2018-01-01
to 2024-02-23 with about 60 missing days.

There is no live publisher for this CSV: GDELT does not publish these matrices, and the
repository holds them as ``networks/YYYYMMDD_network.zip`` numpy files, not as this table. The
base URL names the repository (raw files, pinned to the commit the bundle was derived from)
for reference, and the dataset has no live path: ``winset ingest --live`` reads the bundled
file, as for the curated timeline. Refreshing it would mean rebuilding it from the matrices.
"""

from __future__ import annotations

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, date, read_csv, required_number, stable_mean

VALUE_COLUMNS: tuple[str, ...] = (
    "usa_chn_edge",
    "usa_row_sum",
    "chn_row_sum",
    "usa_row_abs_sum",
    "chn_row_abs_sum",
    "chn_twn_edge",
    "usa_rus_edge",
    "global_upper_triangle_sum",
)

SCHEMA: dict[str, pl.DataType] = {"date": pl.Date()} | {c: pl.Float64() for c in VALUE_COLUMNS}

BUNDLED = "gzemo_gdelt-graph-data/DERIVED_gdelt_daily_country_edges_USA_CHN_2018-2024.csv"
COMMIT = "8b719115c084afada0325538dc13c1b8fb75e578"


def parse_edges(content: bytes, file: str) -> Parsed:
    """One row per day; every cell is required, since a day either has a matrix or is absent."""
    columns = {"date": date()} | {c: required_number() for c in VALUE_COLUMNS}
    parsed = read_csv(content, file, columns, key=["date"])
    rows = parsed.rows.select(pl.col(name).cast(dtype) for name, dtype in SCHEMA.items())
    return parsed.with_rows(rows)


def monthly_tone(frame: pl.DataFrame) -> pl.DataFrame:
    """Per month: ``gdelt_edge_share``, the mean daily ``usa_chn_edge / usa_row_abs_sum``, and
    ``days``, the number of days observed.

    The raw edge grows with GDELT's news volume, so it is divided by the USA row's absolute
    sum (PROVENANCE's advice) before averaging. ``days`` travels with the mean because some
    months are thin (2023-04 has 17 days) and a model may want to weight or drop them; it
    counts every day in the frame, while a day whose USA row is all zero has no share and
    stays out of the mean instead of adding a division by zero. ``month`` is the first day of
    the month; months without any day are absent.
    """
    abs_sum = pl.col("usa_row_abs_sum")
    share = pl.when(abs_sum != 0).then(pl.col("usa_chn_edge") / abs_sum)
    return (
        frame.group_by(pl.col("date").dt.truncate("1mo").alias("month"))
        .agg(stable_mean(share).alias("gdelt_edge_share"), pl.len().cast(pl.Int64).alias("days"))
        .sort("month")
    )


SOURCE = Source(
    name="gdelt_graph",
    description="GDELT-derived daily USA–CHN country-network edges (gzemo/gdelt-graph-data)",
    table="raw_gdelt_graph",
    schema=SCHEMA,
    key=("date",),
    base_url=f"https://raw.githubusercontent.com/gzemo/gdelt-graph-data/{COMMIT}",
    licence="GPL-3.0 (gzemo/gdelt-graph-data); the underlying GDELT events are open "
    "data, free for any use with citation",
    datasets=(
        Dataset(
            "daily_usa_chn_edges",
            BUNDLED,
            "",  # derived here from the repository's daily matrices: no file to download
            parse_edges,
        ),
    ),
)
