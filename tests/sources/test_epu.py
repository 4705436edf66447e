"""Baker-Bloom-Davis EPU: the bundled CSV of the workbook's EPU sheet, Year + Month columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Parsed, SourceError
from flows.sources.epu import SERIES, SOURCE
from tests.sources.helpers import edited_excerpt, parse_bundled

DATASET = SOURCE.dataset("all_country")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def excerpt(data_dir: Path, tmp_path: Path, rows: int, old: str, new: str) -> bytes:
    return edited_excerpt(DATASET, data_dir, tmp_path, rows, old, new)


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(SOURCE.schema)
    # PROVENANCE 5a: monthly, 1985-01 to 2025-10, 490 rows; US data start in 1985.
    months = pl.date_range(dt.date(1985, 1, 1), dt.date(2025, 10, 1), "1mo", eager=True)
    assert months.len() == 490
    assert rows.height == 490 * len(SERIES)
    assert not rows.select(SOURCE.key).is_duplicated().any()
    us = rows.filter(pl.col("series") == "US").sort("month")
    assert us["month"].to_list() == months.to_list()
    assert us["value"].null_count() == 0
    assert us["value"].head(1).item() == pytest.approx(103.7488021850586)


def test_blank_cells_are_null_values(data_dir: Path) -> None:
    """China's indices are blank before 1997; they must stay null, not become zero."""
    rows = bundled(data_dir).rows
    china = rows.filter(pl.col("series") == "China")
    assert china.filter(pl.col("month") < dt.date(1997, 1, 1))["value"].is_null().all()
    assert china.filter(pl.col("month") == dt.date(1997, 1, 1))["value"].item() == pytest.approx(
        73.02674707651113
    )


def test_month_thirteen_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "1985,2,", "1985,13,")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "Month")
    assert parsed.rows["month"].unique().len() == 2


def test_non_numeric_value_is_rejected_naming_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, ",103.7488021850586,", ",103.74.88,")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (2, "US")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, ",Mainland China,", ",PRC,")
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "excerpt.csv")
    assert caught.value.field == "Mainland China"
