"""Presidential approval polls: the bundled file, its duplicate keys, and monthly means."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest

from flows.sources.approval import KEY, SOURCE, monthly_approval
from flows.sources.base import Parsed, SourceError
from tests.sources.helpers import edited_excerpt, parse_bundled

DATASET = SOURCE.dataset("polls")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def excerpt(data_dir: Path, tmp_path: Path, rows: int, old: str, new: str) -> bytes:
    return edited_excerpt(DATASET, data_dir, tmp_path, rows, old, new)


def file_rows(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / DATASET.bundled).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_poll_is_kept_or_rejected_with_a_reason(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows, rejects = parsed.rows, parsed.rejects
    assert rows.schema == pl.Schema(SOURCE.schema)
    # PROVENANCE 6a: 12,479 polls; poll_end from 1937-08-09 to 2025-01-19.
    assert rows.height + rejects.height == 12479
    assert (rows["poll_end"].min(), rows["poll_end"].max()) == (
        dt.date(1937, 8, 9),
        dt.date(2025, 1, 19),
    )
    assert rejects.group_by("field").len().sort("field").rows() == [
        ("polling_institute", 10),  # empty pollster name (Trump, 2017-18)
        ("president", 56),  # repeated key; the duplicate-key reject names the key's first field
    ]
    assert not rows.select(KEY).is_duplicated().any()
    assert rows.select(pl.col(KEY).null_count()).sum_horizontal().item() == 0


def test_duplicate_keys_are_mostly_exact_repeats(data_dir: Path) -> None:
    lines = (data_dir / DATASET.bundled).read_text(encoding="utf-8").splitlines()
    duplicates = bundled(data_dir).rejects.filter(pl.col("reason").str.starts_with("duplicate"))
    exact = 0
    for row, reason, raw in duplicates.select("row", "reason", "raw").iter_rows():
        first = int(re.search(r"first seen on row (\d+)", reason).group(1))
        assert first < row and raw == lines[row - 1]
        exact += lines[first - 1] == raw
    assert (exact, duplicates.height - exact) == (34, 22)


def test_poll_counts_per_president_match_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    kept = dict(parsed.rows.group_by("president").len().rows())
    rejected = parsed.rejects.with_columns(
        pl.col("raw").str.extract(r'^\d+,"([^"]+)"').alias("president")
    )
    lost = dict(rejected.group_by("president").len().rows())
    # PROVENANCE 6a: Trump's first term has 6,691 polls, Biden's 390.
    assert kept["Donald Trump"] + lost.get("Donald Trump", 0) == 6691
    assert kept["Joe Biden"] + lost.get("Joe Biden", 0) == 390


def test_non_ascii_pollster_is_kept_as_written(data_dir: Path) -> None:
    rows = bundled(data_dir).rows
    assert rows.filter(pl.col("polling_institute") == "Øptimus Analytics").height > 0


def test_monthly_approval_equals_an_independent_computation(data_dir: Path) -> None:
    """Recompute Biden's months with the csv module: first poll per key, mean by poll_end month."""
    seen: set[tuple[str, ...]] = set()
    by_month: dict[dt.date, list[float]] = defaultdict(list)
    for r in file_rows(data_dir):
        key = tuple(r[k] for k in KEY)
        if not r["polling_institute"] or key in seen:
            continue
        seen.add(key)
        if r["president"] == "Joe Biden":
            end = dt.date.fromisoformat(r["poll_end"])
            by_month[end.replace(day=1)].append(float(r["approval"]))
    monthly = monthly_approval(bundled(data_dir).rows)
    biden = monthly.filter(pl.col("president") == "Joe Biden")
    assert biden["month"].to_list() == sorted(by_month)
    assert biden["n_polls"].to_list() == [len(v) for _, v in sorted(by_month.items())]
    assert biden["approval"].to_list() == pytest.approx(
        [sum(v) / len(v) for _, v in sorted(by_month.items())]
    )


def test_monthly_approval_counts_every_kept_poll_once(data_dir: Path) -> None:
    rows = bundled(data_dir).rows
    monthly = monthly_approval(rows)
    assert monthly.columns == ["month", "president", "approval", "n_polls"]
    assert monthly["n_polls"].sum() == rows.height
    assert not monthly.select("month", "president").is_duplicated().any()
    # The 2021-01 handover month has a row for each president.
    handover = monthly.filter(pl.col("month") == dt.date(2021, 1, 1))["president"].to_list()
    assert handover == ["Donald Trump", "Joe Biden"]


def test_non_numeric_approval_is_rejected_naming_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(
        data_dir, tmp_path, 3, '"Gallup Organization",40,', '"Gallup Organization",4O,'
    )
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "approval")
    assert parsed.rows.height == 2


def test_impossible_poll_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, "2025-01-02,2025-01-15", "2025-01-02,2025-02-30")
    parsed = DATASET.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "poll_end")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, 3, '"sample_size"', '"n"')
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "excerpt.csv")
    assert caught.value.field == "sample_size"


def test_live_path_is_the_repository_csv() -> None:
    assert SOURCE.base_url + DATASET.live_path == (
        "https://raw.githubusercontent.com/lorenzo-ruffino/approval_rate_usa_president/HEAD/"
        "historical_approval_polls.csv"
    )
