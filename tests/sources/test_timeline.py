"""Curated event timeline and 2025-26 tariff actions; monthly pathway-signal counts."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Dataset, Parsed, SourceError
from flows.sources.timeline import (
    CATEGORIES,
    SIGNALS,
    SOURCE,
    TARIFF_ACTIONS,
    monthly_categories,
    monthly_signals,
)

EVENTS = SOURCE.dataset("events")
ACTIONS = TARIFF_ACTIONS.dataset("readme_actions")


def bundled(data_dir: Path, dataset: Dataset) -> Parsed:
    return dataset.parse((data_dir / dataset.bundled).read_bytes(), dataset.bundled)


def excerpt(
    data_dir: Path, tmp_path: Path, dataset: Dataset, rows: int, old: str, new: str
) -> bytes:
    """The header and first ``rows`` rows of a bundled file, ``old`` replaced by ``new``."""
    lines = (data_dir / dataset.bundled).read_bytes().decode().splitlines(keepends=True)
    text = "".join(lines[: rows + 1])
    assert old in text
    path = tmp_path / "excerpt.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return path.read_bytes()


def test_events_match_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir, EVENTS)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(SOURCE.schema)
    assert rows.height == 39  # PROVENANCE 8a: 39 events, 2017-08-18 to 2026-05-14
    assert (rows["date"].min(), rows["date"].max()) == (dt.date(2017, 8, 18), dt.date(2026, 5, 14))
    assert set(rows["pathway_signal"]) <= set(SIGNALS)
    assert not rows.select(SOURCE.key).is_duplicated().any()


def test_tariff_actions_match_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir, ACTIONS)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(TARIFF_ACTIONS.schema)
    assert rows.height == 34  # PROVENANCE 4b: 34 rows, 2025-02-04 to 2026-08-19
    assert (rows["date"].min(), rows["date"].max()) == (dt.date(2025, 2, 4), dt.date(2026, 8, 19))
    assert rows.filter(pl.col("readme_section") == "Actions not yet incorporated").height == 3
    undated = rows.filter(pl.col("date").is_null())
    assert undated["date_text"].to_list() == ["—"]
    first = rows.row(0, named=True)
    assert first["mentions_china_or_hk"] is True and first["authority"] == "IEEPA"
    key = rows.select(TARIFF_ACTIONS.key)
    assert not key.is_duplicated().any() and key.null_count().sum_horizontal().item() == 0


def test_unknown_pathway_signal_is_rejected_naming_the_field(
    data_dir: Path, tmp_path: Path
) -> None:
    content = excerpt(data_dir, tmp_path, EVENTS, 3, ",tariffs,decoupling,", ",tariffs,detente,")
    parsed = EVENTS.parse(content, "excerpt.csv")
    reject = parsed.rejects.row(0, named=True)
    assert (reject["row"], reject["field"]) == (2, "pathway_signal")
    assert "detente" in reject["reason"] and "managed_competition" in reject["reason"]
    assert parsed.rows.height == 2


def test_impossible_event_date_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, EVENTS, 3, "2018-08-23", "2018-02-30")
    assert EVENTS.parse(content, "excerpt.csv").rejects.select("row", "field").row(0) == (4, "date")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, EVENTS, 3, ",pathway_signal,", ",signal,")
    with pytest.raises(SourceError) as caught:
        EVENTS.parse(content, "excerpt.csv")
    assert caught.value.field == "pathway_signal"


def test_non_flag_mentions_value_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(
        data_dir, tmp_path, ACTIONS, 2, "immediately paused,1", "immediately paused,y"
    )
    parsed = ACTIONS.parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (2, "mentions_china_or_hk")


def test_curated_sources_have_no_live_copy() -> None:
    for source in (SOURCE, TARIFF_ACTIONS):
        assert source.base_url == ""
        assert [d.live_path for d in source.datasets] == [""]


def test_monthly_signals_count_every_event_in_its_month(data_dir: Path) -> None:
    monthly = monthly_signals(bundled(data_dir, EVENTS).rows)
    assert monthly.columns == ["month", *SIGNALS]
    # 2017-08 to 2026-05 without gaps: 106 months.
    assert (
        monthly["month"].to_list()
        == pl.date_range(dt.date(2017, 8, 1), dt.date(2026, 5, 1), "1mo", eager=True).to_list()
    )
    with (data_dir / EVENTS.bundled).open(newline="") as f:
        expected = Counter((r["date"][:7], r["pathway_signal"]) for r in csv.DictReader(f))
    got = Counter(
        {
            (row["month"].isoformat()[:7], signal): row[signal]
            for row in monthly.iter_rows(named=True)
            for signal in SIGNALS
            if row[signal]
        }
    )
    assert got == expected
    assert monthly.select(pl.sum_horizontal(SIGNALS).sum()).item() == 39


def test_an_unknown_category_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = excerpt(data_dir, tmp_path, EVENTS, 3, ",tariffs,", ",trade,")
    parsed = EVENTS.parse(content, "excerpt.csv")
    assert parsed.rows.height == 2 and parsed.rejects.height == 1
    assert parsed.rejects["field"].item() == "category"
    assert "unknown value 'trade'" in parsed.rejects["reason"].item()


def test_monthly_categories_fill_quiet_months_with_zero(data_dir: Path) -> None:
    events = bundled(data_dir, EVENTS).rows
    counts = monthly_categories(events)
    assert counts.select(pl.exclude("month")).sum().row(0) == tuple(
        int((events["category"] == c).sum()) for c in CATEGORIES
    )
    assert counts.height == len(counts["month"].unique())
    assert counts.select(pl.exclude("month")).null_count().sum_horizontal().item() == 0
