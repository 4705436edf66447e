"""Census c5700 trade with China: the bundled semicolon CSV and what the parser refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Parsed, SourceError
from flows.sources.census_trade import SOURCE
from tests.sources.helpers import edited_excerpt, parse_bundled

DATASET = SOURCE.dataset("c5700")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def excerpt(data_dir: Path, tmp_path: Path, rows: int, old: str, new: str) -> bytes:
    return edited_excerpt(DATASET, data_dir, tmp_path, rows, old, new)


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(SOURCE.schema)
    assert rows.height == 228  # PROVENANCE 3b: 2001-01 to 2019-12, 228 rows
    assert (
        rows["month"].to_list()
        == pl.date_range(dt.date(2001, 1, 1), dt.date(2019, 12, 1), "1mo", eager=True).to_list()
    )
    first = rows.row(0, named=True)
    assert first["exports"] == 1187.5  # the "1,187.5" thousands-separator example
    assert rows.select(pl.col("month").is_duplicated().any()).item() is False


def test_balance_is_exports_minus_imports(data_dir: Path) -> None:
    """A check the parser could fail by dropping or misreading a thousands separator."""
    rows = bundled(data_dir).rows
    gap = rows.select((pl.col("exports") - pl.col("imports") - pl.col("balance")).abs().max())
    assert gap.item() < 0.15


def test_non_numeric_amount_is_rejected_naming_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "6,375.6", "6,37x.6")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rows.height == 2
    assert parsed.rejects.row(0, named=True)["row"] == 3
    assert parsed.rejects.row(0, named=True)["field"] == "Imports"


def test_month_that_does_not_exist_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "March 2001", "Marchember 2001")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects["field"].to_list() == ["Month"]
    assert parsed.rows.height == 2


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "Balance", "Net")
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "excerpt.csv")
    assert caught.value.field == "Balance"


def test_live_path_is_the_mirror_csv() -> None:
    assert SOURCE.base_url + DATASET.live_path == (
        "https://raw.githubusercontent.com/mizydorczyk/"
        "relationship-between-trade-and-the-exchange-rate/HEAD/assets/usa-china-trade-data.csv"
    )
