"""Number and date formats every report shares (documented in reports/fmt.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from reports import fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.423, "42%"), (0.0, "0%"), (1.0, "100%"), (0.004, "<1%"), (0.996, ">99%"), (0.07, "7%")],
)
def test_pct(value: float, text: str) -> None:
    assert fmt.pct(value) == text


def test_interval() -> None:
    assert fmt.interval(0.31, 0.55) == "31–55%"
    assert fmt.interval(0.69, 0.999) == "69% to >99%"
    assert fmt.interval(0.001, 0.04) == "<1% to 4%"


def test_signed_and_pp() -> None:
    assert fmt.pp(0.032) == "+3.2 pp"
    assert fmt.pp(-0.01) == "\u22121.0 pp"
    assert fmt.pp(0.0) == "±0.0 pp"
    assert fmt.signed(-0.104) == "\u22120.10"
    assert fmt.signed(0.25) == "+0.25"


def test_pp_interval() -> None:
    assert fmt.pp_interval(-0.031, 0.004) == "\u22123.1 to +0.4 pp"


def test_number() -> None:
    assert fmt.number(1.0042) == "1.004"
    assert fmt.number(812.4) == "812"
    assert fmt.number(0) == "0"
    assert fmt.number(True) == "True"
    assert fmt.number(float("inf")) == "inf"


def test_dates() -> None:
    assert fmt.month(dt.date(2029, 1, 1)) == "2029-01"
    assert fmt.month_long(dt.date(2029, 1, 1)) == "January 2029"
    aware = dt.datetime(2025, 11, 26, 2, 43, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert fmt.timestamp(aware) == "2025-11-26 01:43 UTC"


def test_negative_share_uses_a_true_minus() -> None:
    assert fmt.pct(-0.05) == "\u22125%"  # e.g. a posterior wider than its prior
