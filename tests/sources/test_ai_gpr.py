"""AI-GPR bilateral: the complete publisher file, its 2026 empty pair cells and known peaks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.ai_gpr import SERIES, SOURCE
from flows.sources.base import Parsed, SourceError
from tests.sources.helpers import edited_excerpt, parse_bundled

DATASET = SOURCE.dataset("bilateral_monthly")
PAIRS = ("USA|China", "China|USA", "China|Taiwan", "USA|Russia", "Russia|USA")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def excerpt(data_dir: Path, tmp_path: Path, rows: int, old: str, new: str) -> bytes:
    return edited_excerpt(DATASET, data_dir, tmp_path, rows, old, new)


def wide(data_dir: Path) -> pl.DataFrame:
    return bundled(data_dir).rows.pivot("series", index="month", values="value")


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    assert parsed.rejects.is_empty()
    assert parsed.rows.schema == pl.Schema(SOURCE.schema)
    table = wide(data_dir)
    # PROVENANCE 9a: monthly, 1960-01 to 2026-03, 795 rows, consecutive months.
    assert (
        table["month"].to_list()
        == pl.date_range(dt.date(1960, 1, 1), dt.date(2026, 3, 1), "1mo", eager=True).to_list()
    )
    assert parsed.rows.height == 795 * len(SERIES)
    # PROVENANCE 9b: first and last filled rows of the five pairs.
    first = table.filter(pl.col("month") == dt.date(1960, 1, 1)).select(PAIRS).row(0)
    last = table.filter(pl.col("month") == dt.date(2025, 12, 1)).select(PAIRS).row(0)
    assert first == (0.0, 1.6835, 0.5612, 8.9788, 21.5117)
    assert last == (2.4836, 5.1742, 1.2418, 2.4836, 1.8627)


def test_2026_pair_cells_are_null_and_the_headline_is_filled(data_dir: Path) -> None:
    table = wide(data_dir)
    recent = table.filter(pl.col("month") >= dt.date(2026, 1, 1))
    assert recent.height == 3
    assert recent["GPR_AI"].null_count() == 0
    pairs = [s for s in SERIES if s != "GPR_AI"]
    assert recent.select(pl.col(pairs).is_null().all()).row(0) == (True,) * len(pairs)
    assert table.filter(pl.col("month") < dt.date(2026, 1, 1)).null_count().row(0) == (0,) * (
        len(SERIES) + 1
    )


def test_peaks_and_zero_months_match_provenance(data_dir: Path) -> None:
    table = wide(data_dir).filter(pl.col("month") < dt.date(2026, 1, 1))
    for series, month, peak in (
        ("China|USA", dt.date(1989, 6, 1), 20.95),
        ("USA|China", dt.date(2025, 4, 1), 29.17),
        ("Russia|Ukraine", dt.date(2022, 3, 1), 252.58),
        ("Russia|USA", dt.date(1961, 9, 1), 62.92),
    ):
        top = table.sort(series, descending=True).row(0, named=True)
        assert (top["month"], round(top[series], 2)) == (month, peak), series
    zeros = {p: table.filter(pl.col(p) == 0).height for p in ("USA|China", "China|USA")}
    assert zeros == {"USA|China": 265, "China|USA": 313}
    assert table.filter(pl.col("China|Taiwan") == 0).height == 534


def test_non_numeric_cell_is_rejected_naming_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "1960-02-01,", "1960-02-01,n.a.x")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "GPR_AI")


def test_impossible_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "1960-02-01,", "1960-02-30,")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "Date")


def test_missing_pair_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, ",China|USA,", ",PRC|USA,")
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "excerpt.csv")
    assert caught.value.field == "China|USA"


def test_live_path_is_the_publisher_csv() -> None:
    assert SOURCE.base_url + DATASET.live_path == (
        "https://www.matteoiacoviello.com/ai_gpr_files/ai_gpr_bilateral_monthly.csv"
    )
