"""PLA activity around Taiwan: the scraper's file as published, and missing days kept missing."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Parsed, SourceError
from flows.sources.pla_activity import DAILY_REPORTS_START, SOURCE, monthly_activity
from tests.sources.helpers import parse_bundled

DATASET = SOURCE.dataset("daily")
DERIVED = "taiwan-mnd_pla-activity/DERIVED_pla_daily_sorties_2015-2026.csv"


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def derived_rows(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / DERIVED).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def excerpt(data_dir: Path, tmp_path: Path, old: str, new: str) -> bytes:
    """The header (BOM kept) and the first 3 rows, with ``old`` -> ``new``."""
    lines = (data_dir / DATASET.bundled).read_bytes().decode("utf-8").splitlines(keepends=True)
    text = "".join(lines[:4])
    assert old in text
    path = tmp_path / "excerpt.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return path.read_bytes()


def _count(text: str) -> int | None:
    return int(float(text)) if text else None


def test_bundled_file_equals_the_derived_extract(data_dir: Path) -> None:
    """PROVENANCE 11: the DERIVED file is the same counts with ISO dates; 1,970 rows."""
    parsed = bundled(data_dir)
    assert parsed.rejects.is_empty()
    assert parsed.rows.schema == pl.Schema(SOURCE.schema)
    expected = [
        (
            dt.date.fromisoformat(r["date"]),
            _count(r["pla_aircraft_sorties"]),
            _count(r["plan_vessel_sorties"]),
        )
        for r in derived_rows(data_dir)
    ]
    assert len(expected) == 1970
    assert parsed.rows.sort("date").rows() == sorted(expected)


def test_empty_cells_are_missing_not_zero(data_dir: Path) -> None:
    rows = bundled(data_dir).rows
    # Two days carry only Japanese notices; vessels are not counted before 2022.
    both_missing = rows.filter(pl.col("aircraft").is_null() & pl.col("vessels").is_null())
    assert both_missing["date"].to_list() == [dt.date(2022, 6, 1), dt.date(2026, 8, 16)]
    assert rows.filter(pl.col("date") < dt.date(2022, 1, 1))["vessels"].null_count() == (
        rows.filter(pl.col("date") < dt.date(2022, 1, 1)).height
    )


def test_monthly_means_equal_an_independent_computation(data_dir: Path) -> None:
    days: dict[dt.date, list[int]] = defaultdict(list)
    for r in derived_rows(data_dir):
        day = dt.date.fromisoformat(r["date"])
        if day >= DAILY_REPORTS_START and r["pla_aircraft_sorties"]:
            days[day.replace(day=1)].append(int(float(r["pla_aircraft_sorties"])))
    monthly = monthly_activity(bundled(data_dir).rows)
    assert monthly["month"].to_list() == sorted(days)
    assert monthly["pla_days_reported"].to_list() == [len(days[m]) for m in sorted(days)]
    assert monthly["pla_aircraft_per_day"].to_list() == pytest.approx(
        [sum(days[m]) / len(days[m]) for m in sorted(days)]
    )


def test_months_before_daily_reports_have_no_value(data_dir: Path) -> None:
    rows = bundled(data_dir).rows
    assert rows.filter(pl.col("date") < DAILY_REPORTS_START).height > 0  # incident days exist
    assert monthly_activity(rows)["month"].min() == DAILY_REPORTS_START


def test_fractional_or_negative_count_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    parsed = DATASET.parse(excerpt(data_dir, tmp_path, ",2.0,,False", ",2.5,,False"), "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "pla_aircraft_sorties")
    parsed = DATASET.parse(excerpt(data_dir, tmp_path, ",2.0,,False", ",-2.0,,False"), "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "pla_aircraft_sorties")
    assert parsed.rows.height == 2


def test_impossible_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    parsed = DATASET.parse(excerpt(data_dir, tmp_path, "2015/05/21", "2015/02/30"), "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "date")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        DATASET.parse(excerpt(data_dir, tmp_path, "plan_vessel_sorties", "vessels"), "e.csv")
    assert caught.value.field == "plan_vessel_sorties"


def test_live_path_is_the_scrapers_csv() -> None:
    assert SOURCE.base_url + DATASET.live_path == (
        "https://raw.githubusercontent.com/s0914712/pla-data-dashboard/HEAD/data/JapanandBattleship.csv"
    )
