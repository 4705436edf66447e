"""IMF CNY per USD, 2001-2019: the bundled semicolon CSV and what the parser refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Parsed, SourceError
from flows.sources.imf_fx import SOURCE
from tests.sources.helpers import edited_excerpt, parse_bundled

DATASET = SOURCE.dataset("cny_per_usd")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def excerpt(data_dir: Path, tmp_path: Path, rows: int, old: str, new: str) -> bytes:
    return edited_excerpt(DATASET, data_dir, tmp_path, rows, old, new)


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(SOURCE.schema)
    # PROVENANCE 3c says 4,839 rows; the file has 4,840 data lines (the last one has no
    # newline, so `wc -l` counts one less). Every line is a distinct trading day.
    assert rows.height == 4840
    assert rows["date"].n_unique() == rows.height
    assert (rows["date"].min(), rows["date"].max()) == (dt.date(2001, 1, 2), dt.date(2019, 12, 30))
    assert rows["date"].is_sorted()
    # CNY per USD was pegged near 8.28 until 2005 and near 7.0 at the end of 2019.
    assert (
        rows.filter(pl.col("date") < dt.date(2005, 1, 1))["cny_per_usd"]
        .is_between(8.27, 8.28)
        .all()
    )
    assert 6.9 < rows["cny_per_usd"].drop_nulls().tail(1).item() < 7.1


def test_day_without_cny_quote_is_kept_as_null(data_dir: Path) -> None:
    rows = bundled(data_dir).rows
    assert rows.filter(pl.col("date") == dt.date(2001, 1, 15))["cny_per_usd"].item() is None


def test_non_numeric_rate_is_rejected_naming_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "8.2773", "8,27y3")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "CNY")
    assert parsed.rows.height == 2


def test_impossible_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "03-Jan-2001", "30-Feb-2001")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "Date")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, ";CNY;", ";RMB;")
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "excerpt.csv")
    assert caught.value.field == "CNY"


def test_live_path_is_the_mirror_csv() -> None:
    assert SOURCE.base_url + DATASET.live_path == (
        "https://raw.githubusercontent.com/mizydorczyk/"
        "relationship-between-trade-and-the-exchange-rate/HEAD/assets/exchange-rates.csv"
    )
