"""BLS CPI-U via datahub.io: the bundled cpiai.csv and what the parser refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Parsed, SourceError
from flows.sources.cpi import SOURCE
from tests.sources.helpers import edited_excerpt, parse_bundled

DATASET = SOURCE.dataset("cpiai")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def excerpt(data_dir: Path, tmp_path: Path, rows: int, old: str, new: str) -> bytes:
    return edited_excerpt(DATASET, data_dir, tmp_path, rows, old, new)


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(SOURCE.schema)
    # PROVENANCE 6b: monthly, 1913-01 to 2026-05, 1,360 rows. That span is 1,361 months:
    # 2025-10 is absent (BLS published no October 2025 CPI during the shutdown).
    assert rows.height == 1360
    months = pl.date_range(dt.date(1913, 1, 1), dt.date(2026, 5, 1), "1mo", eager=True)
    assert set(months) - set(rows["month"]) == {dt.date(2025, 10, 1)}
    assert rows["month"].is_sorted() and rows["month"].n_unique() == rows.height
    # datapackage.json: the first month has no inflation; it is the only null.
    assert rows["inflation_mom_pct"].null_count() == 1
    assert rows.row(0, named=True)["inflation_mom_pct"] is None


def test_inflation_is_the_change_from_the_previous_row(data_dir: Path) -> None:
    """Month on month, except 2025-11, which the file compares with 2025-09 (no 2025-10)."""
    rows = bundled(data_dir).rows
    implied = 100 * (pl.col("cpi_index") / pl.col("cpi_index").shift(1) - 1)
    gap = rows.select((implied - pl.col("inflation_mom_pct")).abs().max()).item()
    assert gap <= 0.0051  # Inflation is rounded to two decimals


def test_impossible_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "1913-02-01", "1913-02-29")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "Date")


def test_non_numeric_or_missing_index_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "1913-03-01,9.8", "1913-03-01,9.8*")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (4, "Index")
    content = excerpt(data_dir, tmp_path, 3, "1913-03-01,9.8", "1913-03-01,")
    reject = DATASET.parse(content, "excerpt.csv").rejects.row(0, named=True)
    assert (reject["field"], reject["reason"]) == ("Index", "value is missing")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, ",Inflation", ",MoM")
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "excerpt.csv")
    assert caught.value.field == "Inflation"


def test_live_path_is_the_datahub_csv() -> None:
    assert SOURCE.base_url + DATASET.live_path == "https://datahub.io/core/cpi-us/r/cpiai.csv"
