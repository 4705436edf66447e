"""Composite drivers, observed series and labels built from the real monthly panel."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from flows.panel import build_panel
from models.drivers import composite_drivers, model_data, observed_series, timeline_labels

DRIVERS = ("W_US", "W_CN", "W_US_x_W_CN", "INTL")
START = dt.date(2009, 1, 1)


@pytest.fixture(scope="module")
def panel(bundled_tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return build_panel(bundled_tables).frame


def test_composites_are_standardised_on_the_training_window(panel: pl.DataFrame) -> None:
    train_end = dt.date(2019, 12, 1)
    drivers = composite_drivers(panel, DRIVERS, START, train_end).frame
    train = drivers.filter(pl.col("month") <= train_end)
    for name in ("W_US", "W_CN", "INTL"):
        assert train[name].mean() == pytest.approx(0.0, abs=0.05), name
        assert train[name].std(ddof=0) == pytest.approx(1.0, abs=0.05), name


def test_training_window_ignores_later_data(panel: pl.DataFrame) -> None:
    train_end = dt.date(2017, 12, 1)
    before = composite_drivers(panel, DRIVERS, START, train_end).frame
    later = pl.col("month") > train_end
    shifted = panel.with_columns(pl.when(later).then(pl.col("gpr") * 10).otherwise(pl.col("gpr")))
    after = composite_drivers(shifted, DRIVERS, START, train_end).frame
    old = pl.col("month") <= train_end
    assert after.filter(old).equals(before.filter(old))
    assert not after.equals(before)


def test_interaction_is_the_product(panel: pl.DataFrame) -> None:
    drivers = composite_drivers(panel, DRIVERS, START).frame
    np.testing.assert_allclose(drivers["W_US_x_W_CN"], drivers["W_US"] * drivers["W_CN"])


def test_drivers_are_complete_and_imputation_is_counted(panel: pl.DataFrame) -> None:
    result = composite_drivers(panel, DRIVERS, START)
    assert result.frame.select(DRIVERS).null_count().sum_horizontal().item() == 0
    # AI-GPR and GPR end in 2025-12; the panel runs later, so INTL is carried for some months
    assert result.imputed["INTL"] > 0


def test_wider_us_win_set_when_approval_rises(panel: pl.DataFrame) -> None:
    month = pl.col("month") == dt.date(2019, 6, 1)
    base = composite_drivers(panel, ("W_US",), START).frame.filter(month)["W_US"].item()
    higher = panel.with_columns(pl.when(month).then(pl.col("approval") + 10).otherwise("approval"))
    moved = composite_drivers(higher, ("W_US",), START).frame.filter(month)["W_US"].item()
    assert moved > base


def test_labels_follow_the_majority_signal() -> None:
    panel = pl.DataFrame(
        {
            "month": [dt.date(2020, m, 1) for m in range(1, 6)],
            "signal_decoupling": [2, 1, 0, 0, 0],
            "signal_selective_engagement": [0, 0, 0, 1, 0],
            "signal_managed_competition": [1, 1, 0, 0, 0],
            "signal_shock": [0, 0, 3, 0, 0],
        }
    )
    assert timeline_labels(panel).tolist() == [0, -1, -1, 1, -1]


def test_model_data_from_the_real_panel(panel: pl.DataFrame) -> None:
    series = ("bilateral_tension", "us_tariff")
    data, _ = model_data(panel, series, DRIVERS, START)
    assert data.months[0] == np.datetime64("2009-01")
    assert data.series_names == series
    observed = np.isfinite(data.series[:, 0])
    assert observed.sum() >= 200  # AI-GPR covers 2009-01..2025-12
    assert (data.labels >= 0).sum() >= 20


def test_unknown_names_are_errors(panel: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="drivers: no composite called 'W_EU'"):
        composite_drivers(panel, ("W_EU",), START)
    with pytest.raises(ValueError, match="series: unknown \\['tension'\\]"):
        observed_series(panel, ("tension",))
