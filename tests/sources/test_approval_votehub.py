"""VoteHub approval polls of Trump's second term: the bundled CSV, the API's JSON, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from flows.sources.approval_votehub import SOURCE, as_approval_polls, one_per_survey
from flows.sources.base import Parsed, SourceError
from tests.sources.helpers import edited_excerpt, parse_bundled, votehub_json

DATASET = SOURCE.dataset("polls")


def bundled(data_dir: Path) -> Parsed:
    return parse_bundled(DATASET, data_dir)


def file_rows(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / DATASET.bundled).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def excerpt(data_dir: Path, tmp_path: Path, old: str, new: str) -> bytes:
    return edited_excerpt(DATASET, data_dir, tmp_path, 3, old, new)


def test_bundled_file_matches_provenance(data_dir: Path) -> None:
    parsed = bundled(data_dir)
    rows = parsed.rows
    assert parsed.rejects.is_empty()
    assert rows.schema == pl.Schema(SOURCE.schema)
    # PROVENANCE 10: 1,021 rows, no repeated poll_id, 91 pollsters, 2025-01-20 to 2026-08-03.
    assert rows.height == 1021 and rows["poll_id"].n_unique() == 1021
    assert rows["pollster"].n_unique() == 91
    assert (rows["date_end"].min(), rows["date_end"].max()) == (
        dt.date(2025, 1, 20),
        dt.date(2026, 8, 3),
    )
    assert rows.filter(pl.col("poll_id").str.starts_with("supp-")).height == 12
    assert rows.select(pl.col("approve", "disapprove").is_null().any()).row(0) == (False, False)


def test_every_cell_is_kept_as_written(data_dir: Path) -> None:
    rows = {r["poll_id"]: r for r in bundled(data_dir).rows.iter_rows(named=True)}
    for r in file_rows(data_dir):
        kept = rows[r["poll_id"]]
        assert kept["approve"] == float(r["approve"])
        assert kept["disapprove"] == float(r["disapprove"])
        assert kept["population"] == r["population"]
        assert kept["sample_size"] == (int(r["n"]) if r["n"] else None)
        assert kept["internal"] == (r["internal"] == "Y")


def test_the_api_json_lands_the_same_rows_as_the_csv(data_dir: Path) -> None:
    csv_rows = bundled(data_dir).rows
    content = votehub_json((data_dir / DATASET.bundled).read_bytes())
    parsed = DATASET.parse(content, "polls.json")
    assert parsed.rejects.is_empty()
    assert parsed.rows.sort("poll_id").equals(csv_rows.sort("poll_id"))


def test_one_row_per_survey_prefers_adults(data_dir: Path) -> None:
    """Recompute with the csv module: per (pollster, dates) the A row, else RV, LV, V."""
    order = {"A": 0, "RV": 1, "LV": 2, "V": 3}
    best: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in file_rows(data_dir):
        k = (r["pollster"], r["date_start"], r["date_end"])
        if k not in best or order[r["population"]] < order[best[k]["population"]]:
            best[k] = r
    surveys = one_per_survey(bundled(data_dir).rows)
    assert surveys.height == len(best) < 1021
    chosen = {
        (r["pollster"], str(r["date_start"]), str(r["date_end"])): r["population"]
        for r in surveys.iter_rows(named=True)
    }
    assert chosen == {k: r["population"] for k, r in best.items()}
    polls = as_approval_polls(bundled(data_dir).rows)
    assert polls.columns == ["president", "poll_end", "approval"]
    assert set(polls["president"]) == {"Donald Trump"}


def test_unknown_population_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    parsed = DATASET.parse(excerpt(data_dir, tmp_path, ",RV,800,", ",XX,800,"), "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (2, "population")
    assert parsed.rows.height == 2


def test_non_numeric_or_impossible_share_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    parsed = DATASET.parse(excerpt(data_dir, tmp_path, ",56.0,39.0,", ",5G.0,39.0,"), "e.csv")
    assert parsed.rejects.select("row", "field").row(0) == (2, "approve")
    parsed = DATASET.parse(excerpt(data_dir, tmp_path, ",56.0,39.0,", ",156.0,39.0,"), "e.csv")
    assert "0..100" in parsed.rejects.row(0, named=True)["reason"]
    content = excerpt(data_dir, tmp_path, ",56.0,39.0,17.0,", ",66.0,39.0,27.0,")
    parsed = DATASET.parse(content, "e.csv")
    assert parsed.rejects.select("row", "field", "reason").rows() == [
        (2, "approve", "approve + disapprove exceeds 100")
    ]


def test_net_value_that_disagrees_is_rejected_with_its_line(data_dir: Path, tmp_path: Path) -> None:
    parsed = DATASET.parse(
        excerpt(data_dir, tmp_path, ",56.0,39.0,17.0,", ",56.0,39.0,7.0,"), "e.csv"
    )
    reject = parsed.rejects.row(0, named=True)
    assert (reject["row"], reject["field"]) == (2, "value")
    assert reject["raw"].startswith("2025-01-20,2025-01-20,InsiderAdvantage")
    assert parsed.rows.height == 2


def test_missing_column_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        DATASET.parse(excerpt(data_dir, tmp_path, ",approve,", ",approval,"), "e.csv")
    assert caught.value.field == "approve"


def test_json_record_without_an_answer_is_rejected_by_position(data_dir: Path) -> None:
    polls = json.loads(votehub_json((data_dir / DATASET.bundled).read_bytes()))[:3]
    polls[1]["answers"] = polls[1]["answers"][:1]
    polls[2]["end_date"] = "2025-02-30"
    parsed = DATASET.parse(json.dumps(polls).encode(), "polls.json")
    assert parsed.rejects.select("row", "field").rows() == [(2, "answers"), (3, "end_date")]
    assert parsed.rows.height == 1


def test_json_that_is_not_a_list_of_polls_is_refused() -> None:
    with pytest.raises(SourceError, match="not valid JSON"):
        DATASET.parse(b"[{", "polls.json")
    with pytest.raises(SourceError, match="expected a JSON list"):
        DATASET.parse(b'{"polls": []}', "polls.json")


def test_live_path_is_the_votehub_api() -> None:
    assert SOURCE.base_url + DATASET.live_path == (
        "https://api.votehub.com/polls?subject=Donald%20Trump&poll_type=approval"
    )
