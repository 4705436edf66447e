"""The view layer's event table: timeline signals beside the model's smoothed regimes."""

from __future__ import annotations

import datetime as dt

import polars as pl

from reports.view import event_agreement


def test_event_agreement_compares_each_signal_with_its_month() -> None:
    regimes = pl.DataFrame(
        {
            "month": [dt.date(2020, 1, 1), dt.date(2020, 2, 1)],
            "DC": [0.7, 0.1],
            "SE": [0.2, 0.3],
            "MC": [0.1, 0.6],
        }
    )
    events = pl.DataFrame(
        {
            "date": [
                dt.date(2020, 1, 20),  # decoupling in a DC month: agrees
                dt.date(2020, 2, 3),  # selective engagement in an MC month: disagrees
                dt.date(2020, 2, 9),  # a shock signals no pathway
                dt.date(2021, 5, 1),  # after the fitted months: not scored
            ],
            "event": ["a", "b", "c", "d"],
            "category": ["x"] * 4,
            "pathway_signal": ["decoupling", "selective_engagement", "shock", "decoupling"],
        }
    )
    result = event_agreement(events, regimes)
    assert (result.agree, result.signalled) == (1, 2)
    assert [r["model_probability"] for r in result.rows] == [0.7, 0.3, None, None]
    assert [r["model_pathway"] for r in result.rows] == ["DC", "MC", "MC", None]
    assert [r["n"] for r in result.rows] == [1, 2, 3, 4]
