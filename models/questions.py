"""Dated binary questions with resolution rules, answered from predictive draws.

Why questions beside the quantities: an analyst asks "will tariffs be higher in three months?",
not "what is the CRPS of the tariff forecast?". Each question carries its rule in words and as
a machine rule over one series (a month, an operator, a threshold), the way forecasting
platforms write a resolution rule beside every question, so a published probability can be
checked later by anyone against the data, with no judgement left.

A question is asked of a forecast made at an *origin* (the panel's last month): either a fixed
month or ``months_ahead`` of the origin, so every monthly forecast asks the relative ones again.
A threshold ``relative_to_origin`` is added to the series' last value observed at the origin;
that value is fixed when the forecast is published, so a later revision of it never moves the
goalposts of a question already asked.

Pure: no files beyond reading the YAML, no warehouse. The flows hand in the panel and draws.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import ValidationError, field_validator, model_validator

from models.drivers import OBSERVED_SERIES
from models.strict import StrictModel, field_errors, read_yaml

OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class QuestionError(ValueError):
    """A questions file that cannot be used; the message names the file and the field."""


def _month(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}") from None


def add_months(month: dt.date, n: int) -> dt.date:
    """The first of the month ``n`` months after ``month`` (negative: before)."""
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


class Question(StrictModel):
    id: str
    text: str
    resolves: str  # the resolution rule in words
    why: str  # where the threshold comes from
    series: str
    months_ahead: int | None = None
    month: str | None = None
    op: Literal[">", ">=", "<", "<="]
    threshold: float
    relative_to_origin: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not value or not all(c.islower() or c.isdigit() or c == "_" for c in value):
            raise ValueError(f"must be lower-case letters, digits and _, got {value!r}")
        return value

    @field_validator("month")
    @classmethod
    def _valid_month(cls, value: str | None) -> str | None:
        if value is not None:
            _month(value)
        return value

    @field_validator("months_ahead")
    @classmethod
    def _ahead(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 60:
            raise ValueError(f"must be between 1 and 60 months, got {value}")
        return value

    @model_validator(mode="after")
    def _one_month(self) -> Question:
        if (self.months_ahead is None) == (self.month is None):
            raise ValueError("give exactly one of months_ahead (relative) or month (YYYY-MM)")
        return self

    def target(self, origin: dt.date) -> dt.date:
        """The month the question asks about, for a forecast made at ``origin``."""
        if self.month is not None:
            return _month(self.month)
        return add_months(origin, self.months_ahead or 0)

    def asked_at(self, origin: dt.date) -> bool:
        """Only months after the origin are forecasts; a fixed month in the past is not asked."""
        return self.target(origin) > origin

    def threshold_at(self, origin_value: float | None) -> float | None:
        """The number the value is compared with; None when a relative question has no origin
        value (the series was never observed before the origin), which leaves it unasked."""
        if not self.relative_to_origin:
            return self.threshold
        return None if origin_value is None else origin_value + self.threshold

    def holds(self, values: np.ndarray, threshold: float) -> np.ndarray:
        """The rule applied to values (draws or one observation): True where it resolves YES."""
        return OPS[self.op](np.asarray(values, dtype=float), threshold)


class QuestionSet(StrictModel):
    questions: tuple[Question, ...]

    @field_validator("questions")
    @classmethod
    def _distinct(cls, questions: tuple[Question, ...]) -> tuple[Question, ...]:
        if not questions:
            raise ValueError("no questions")
        ids = [q.id for q in questions]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"question ids must be unique; repeated: {repeated}")
        return questions


def load_questions(path: str | Path, columns: tuple[str, ...] | None = None) -> QuestionSet:
    """The questions file, validated; ``columns`` (the panel's), when given, must hold every
    question's series unless it is one of the model's observed series."""
    path = Path(path)
    raw = read_yaml(path, QuestionError)
    if not isinstance(raw, dict):
        raise QuestionError(f"{path}: expected a mapping with `questions:`")
    try:
        found = QuestionSet.model_validate(raw)
    except ValidationError as exc:
        raise QuestionError(f"{path}: " + "; ".join(field_errors(exc))) from None
    if columns is not None:
        for i, q in enumerate(found.questions):
            if q.series not in OBSERVED_SERIES and q.series not in columns:
                raise QuestionError(
                    f"{path}: questions.{i}.series: {q.series!r} is neither an observed series "
                    f"({', '.join(OBSERVED_SERIES)}) nor a panel column"
                )
    return found


def series_frame(panel: pl.DataFrame, names: tuple[str, ...] | list[str]) -> pl.DataFrame:
    """``month`` and each named series from the panel: an observed series by its definition in
    :data:`models.drivers.OBSERVED_SERIES` (so tariffs exclude bridged months), else the column."""
    exprs = [
        (OBSERVED_SERIES[n] if n in OBSERVED_SERIES else pl.col(n)).cast(pl.Float64).alias(n)
        for n in dict.fromkeys(names)
    ]
    return panel.sort("month").select(pl.col("month").cast(pl.Date), *exprs)


def value_at(frame: pl.DataFrame, series: str, month: dt.date) -> float | None:
    """The series' observed value for ``month``, or None when the panel has none."""
    row = frame.filter(pl.col("month") == month)
    if not row.height:
        return None
    value = row[series][0]
    return None if value is None or not np.isfinite(value) else float(value)


def last_observed(
    frame: pl.DataFrame, series: str, origin: dt.date
) -> tuple[dt.date, float] | None:
    """The series' last observed month at or before ``origin`` and its value."""
    seen = frame.filter((pl.col("month") <= origin) & pl.col(series).is_not_null())
    seen = seen.filter(pl.col(series).is_finite())
    if not seen.height:
        return None
    return seen["month"][-1], float(seen[series][-1])


def probability(question: Question, draws: np.ndarray, threshold: float) -> float:
    """P(YES) from predictive draws of the question's month, ``(k + 1/2) / (N + 1)``.

    Why not k / N: a finite set of draws that never crosses the threshold does not mean the
    event is impossible, and a probability of exactly 0 or 1 gets an unbounded log score on its
    first miss; the half-count keeps it strictly inside (0, 1) by about 1/(2N).
    """
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        raise ValueError(f"{question.id}: no finite draws to answer from")
    k = int(question.holds(draws, threshold).sum())
    return (k + 0.5) / (draws.size + 1)
