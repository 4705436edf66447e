"""The questions file: validation that names file and field, targets relative to the origin,
thresholds relative to the origin's value, and probabilities from draws."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from models.questions import (
    Question,
    QuestionError,
    add_months,
    last_observed,
    load_questions,
    probability,
    series_frame,
)
from tests.conftest import DATA_DIR

ORIGIN = dt.date(2025, 8, 1)


def question(**changes: object) -> Question:
    base = {
        "id": "q", "text": "t", "resolves": "r", "why": "w", "series": "us_tariff",
        "months_ahead": 3, "op": ">", "threshold": 1.0,
    }  # fmt: skip
    return Question.model_validate(base | changes)


def write(tmp_path: Path, questions: list[dict]) -> Path:
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump({"questions": questions}))
    return path


def test_the_bundled_questions_load_and_name_real_series() -> None:
    panel_columns = ("month", "imports_yoy_pct", "pla_aircraft_per_day")
    found = load_questions(DATA_DIR / "questions.yaml", panel_columns).questions
    assert 6 <= len(found) <= 12
    assert all(q.resolves and q.why for q in found)


def test_a_bad_field_is_named_with_the_file(tmp_path: Path) -> None:
    raw = question().model_dump()
    path = write(tmp_path, [raw | {"op": "=="}])
    with pytest.raises(QuestionError, match=r"questions\.yaml: questions\.0\.op"):
        load_questions(path)
    path = write(tmp_path, [raw | {"month": "2027-06"}])  # both kinds of month
    with pytest.raises(QuestionError, match="exactly one of months_ahead"):
        load_questions(path)
    path = write(tmp_path, [raw, raw])
    with pytest.raises(QuestionError, match=r"repeated: \['q'\]"):
        load_questions(path)
    path = write(tmp_path, [raw | {"series": "no_such_column"}])
    with pytest.raises(QuestionError, match=r"questions\.0\.series: 'no_such_column'"):
        load_questions(path, ("month",))
    path = write(tmp_path, [raw | {"colour": "red"}])
    with pytest.raises(QuestionError, match=r"questions\.0\.colour"):
        load_questions(path)


def test_targets_follow_the_origin_and_fixed_months_stop_being_asked() -> None:
    relative = question(months_ahead=3)
    assert relative.target(ORIGIN) == dt.date(2025, 11, 1)
    assert relative.target(dt.date(2025, 11, 1)) == dt.date(2026, 2, 1)
    fixed = question(months_ahead=None, month="2027-06")
    assert fixed.asked_at(ORIGIN)
    assert not fixed.asked_at(dt.date(2027, 6, 1))
    assert add_months(dt.date(2025, 12, 1), 1) == dt.date(2026, 1, 1)
    assert add_months(dt.date(2025, 1, 1), -1) == dt.date(2024, 12, 1)


def test_relative_thresholds_add_the_origin_value() -> None:
    q = question(relative_to_origin=True, threshold=1.0)
    assert q.threshold_at(41.9) == pytest.approx(42.9)
    assert q.threshold_at(None) is None  # never observed: not asked
    assert question(threshold=30.0).threshold_at(None) == 30.0


def test_probability_from_draws_is_never_zero_or_one() -> None:
    q = question(op=">")
    draws = np.arange(100.0)  # 0..99
    assert probability(q, draws, 49.5) == pytest.approx(50.5 / 101)
    assert probability(q, draws, 1000.0) == pytest.approx(0.5 / 101)
    assert 0 < probability(q, draws, -1.0) < 1


def test_series_come_from_their_definitions_and_the_last_value_is_found() -> None:
    panel = pl.DataFrame(
        {
            "month": [dt.date(2025, m, 1) for m in (6, 7, 8)],
            "us_tariff_statutory_pct": [19.6, 30.0, 31.0],
            "tariff_source": ["bridged", "redux", "redux"],
            "imports_yoy_pct": [1.0, None, None],
        }
    )
    frame = series_frame(panel, ["us_tariff", "imports_yoy_pct"])
    assert frame["us_tariff"].to_list() == [None, 30.0, 31.0]  # bridged months are not observed
    assert last_observed(frame, "us_tariff", ORIGIN) == (ORIGIN, 31.0)
    assert last_observed(frame, "imports_yoy_pct", ORIGIN) == (dt.date(2025, 6, 1), 1.0)
    assert last_observed(frame, "us_tariff", dt.date(2025, 6, 1)) is None
