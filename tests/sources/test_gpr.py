"""Caldara-Iacoviello GPR: the bundled CSV export (BOM, dd/mm/yyyy, codebook columns)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Parsed, SourceError
from flows.sources.gpr import SERIES, SOURCE
from tests.sources.helpers import parse_bundled

DATASET = SOURCE.dataset("gpr_export")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def excerpt(data_dir: Path, tmp_path: Path, first_row: int, rows: int, old: str, new: str) -> bytes:
    """The header (BOM kept) and ``rows`` rows from data row ``first_row``, ``old`` -> ``new``."""
    lines = (data_dir / DATASET.bundled).read_bytes().decode().splitlines(keepends=True)
    text = lines[0] + "".join(lines[first_row : first_row + rows])
    assert old in text
    path = tmp_path / "excerpt.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return path.read_bytes()


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows = parsed.rows
    assert parsed.rejects.is_empty()  # the var_name/var_label codebook columns are ignored
    assert rows.schema == pl.Schema(SOURCE.schema)
    months = pl.date_range(dt.date(1900, 1, 1), dt.date(2025, 12, 1), "1mo", eager=True)
    # PROVENANCE 2 says 1,511 rows for 1900-01 to 2025-12; that span is 1,512 months and the
    # file has all of them (its last line has no newline, so `wc -l` counts one less).
    assert months.len() == 1512
    assert rows.height == months.len() * len(SERIES)
    assert not rows.select(SOURCE.key).is_duplicated().any()
    observed = (
        rows.drop_nulls("value")
        .group_by("series")
        .agg(pl.col("month").min().alias("first"), pl.col("month").max().alias("last"))
    )
    # "The recent indices (GPR, GPRT, GPRA, and GPRC_*) start in 1985-01."
    assert observed.height == len(SERIES)
    assert set(observed["first"]) == {dt.date(1985, 1, 1)}
    assert set(observed["last"]) == {dt.date(2025, 12, 1)}


def test_impossible_or_mid_month_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 1021, 3, "01/02/1985", "29/02/1985")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "month")
    content = excerpt(data_dir, tmp_path, 1021, 3, "01/02/1985", "15/02/1985")
    reject = DATASET.parse(content, "excerpt.csv").rejects.row(0, named=True)
    assert reject["field"] == "month" and "first day" in reject["reason"]


def test_non_numeric_value_is_rejected_naming_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 1021, 3, "01/01/1985,102.17", "01/01/1985,high")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (2, "GPR")
    assert parsed.rows["month"].unique().len() == 2


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 1021, 3, ",GPRC_CHN,", ",GPRC_CN,")
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "excerpt.csv")
    assert caught.value.field == "GPRC_CHN"


def test_live_path_is_the_publishers_workbook() -> None:
    assert SOURCE.base_url + DATASET.live_path == (
        "https://www.matteoiacoviello.com/gpr_files/data_gpr_export.xls"
    )
