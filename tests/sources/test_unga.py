"""UNGA ideal points and agreement (Voeten): the USA/China extract, sessions and shares."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import Parsed, SourceError
from flows.sources.unga import SOURCE, session_start, us_china_alignment
from tests.sources.helpers import edited_excerpt, parse_bundled

DATASET = SOURCE.dataset("ideal_points")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(SOURCE.schema)
    # PROVENANCE 12: 130 rows, USA sessions 1-78, China from its seating (26) to 78.
    assert rows.height == 130
    sessions = {
        iso: (f["session"].min(), f["session"].max(), f.height)
        for (iso,), f in rows.group_by("iso3c")
    }
    assert sessions == {"USA": (1, 78, 77), "CHN": (26, 78, 53)}
    # The one session without a row is the 19th (1964-65), which held no recorded votes.
    usa = set(rows.filter(pl.col("iso3c") == "USA")["session"])
    assert set(range(1, 79)) - usa == {19}


def test_session_78_as_provenance_states(data_dir: Path) -> None:
    rows = bundled(data_dir).rows.filter(pl.col("session") == 78)
    ideal = dict(zip(rows["iso3c"], rows["ideal_point"], strict=True))
    # "session 78: USA ideal point 2.50, China -0.80; China's USAgree 0.165"
    assert round(ideal["USA"], 2) == 2.50 and round(ideal["CHN"], 2) == -0.80
    chn = rows.filter(pl.col("iso3c") == "CHN").row(0, named=True)
    assert round(chn["agree_usa"], 3) == 0.165
    assert chn["session_start"] == dt.date(2023, 9, 1)


def test_alignment_pairs_the_two_countries_by_session(data_dir: Path) -> None:
    rows = bundled(data_dir).rows
    aligned = us_china_alignment(rows)
    assert aligned["session"].to_list() == list(range(26, 79))
    last = aligned.row(-1, named=True)
    usa = rows.filter((pl.col("iso3c") == "USA") & (pl.col("session") == 78))["ideal_point"].item()
    chn = rows.filter((pl.col("iso3c") == "CHN") & (pl.col("session") == 78))
    assert last["unga_ideal_point_gap"] == usa - chn["ideal_point"].item()
    assert last["unga_china_us_agreement"] == chn["agree_usa"].item()


def test_sessions_open_in_september() -> None:
    assert session_start(1) == dt.date(1946, 1, 1)
    assert session_start(2) == dt.date(1947, 9, 1)
    assert session_start(78) == dt.date(2023, 9, 1)


def test_missing_shares_are_null_not_zero(data_dir: Path) -> None:
    usa = bundled(data_dir).rows.filter(pl.col("iso3c") == "USA").sort("session")
    assert usa["agree_china"][0] is None  # China was not seated in 1946


def test_share_out_of_range_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = edited_excerpt(DATASET, data_dir, tmp_path, 3, ",1,0.2142857,", ",1,1.2142857,")
    parsed = DATASET.parse(content, "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (2, "RUSSAgree")
    assert parsed.rows.height == 2


def test_non_numeric_session_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    content = edited_excerpt(DATASET, data_dir, tmp_path, 3, "2,2,2,38,", "2,2,II,38,")
    parsed = DATASET.parse(content, "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "session")


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    content = edited_excerpt(DATASET, data_dir, tmp_path, 3, ",USAgree,", ",USAgreement,")
    with pytest.raises(SourceError) as caught:
        DATASET.parse(content, "e.csv")
    assert caught.value.field == "USAgree"
