"""Composite drivers, observed series and labels built from the real monthly panel."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from flows.panel import build_panel
from models.drivers import (
    DEFAULT_COMPOSITES,
    FLAG_STATUSES,
    composite_drivers,
    flag_summary,
    model_data,
    observed_series,
    overlap,
    timeline_labels,
)

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


def test_overlap_rises_with_each_win_set_and_shrinks_when_either_narrows() -> None:
    grid = np.linspace(-4.0, 4.0, 81)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    value = overlap(a, b)
    # strictly increasing in each argument, everywhere on the grid
    assert np.all(np.diff(value, axis=0) > 0) and np.all(np.diff(value, axis=1) > 0)
    # either win-set closing closes the overlap, however wide the other is
    assert overlap(-8.0, 8.0) < -0.99 and overlap(8.0, -8.0) < -0.99
    assert overlap(0.0, 0.0) == pytest.approx(0.0)
    # the defect of a product of z-scores: two narrow win-sets made a wide overlap
    assert overlap(-2.0, -2.0) < overlap(-2.0, 0.0) < overlap(0.0, 0.0)
    # float32 in, float32 out (the simulator's precision), same values
    single = overlap(a.astype(np.float32), b.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, value, atol=1e-6)


def test_interaction_is_the_overlap_of_the_win_sets(panel: pl.DataFrame) -> None:
    drivers = composite_drivers(panel, DRIVERS, START).frame
    expected = overlap(drivers["W_US"].to_numpy(), drivers["W_CN"].to_numpy())
    np.testing.assert_allclose(drivers["W_US_x_W_CN"], expected)


def test_imports_are_not_a_driver_of_china_win_set(panel: pl.DataFrame) -> None:
    # US imports from China are an outcome of the pathways, never a driver of them
    later = pl.col("month") >= dt.date(2018, 1, 1)
    changed = panel.with_columns(
        pl.when(later).then(pl.col("imports_yoy_pct") * -5).otherwise("imports_yoy_pct")
    )
    assert composite_drivers(changed, DRIVERS, START).frame.equals(
        composite_drivers(panel, DRIVERS, START).frame
    )


def test_every_driver_month_is_flagged(panel: pl.DataFrame) -> None:
    result = composite_drivers(panel, DRIVERS, START)
    assert result.frame.select(DRIVERS).null_count().sum_horizontal().item() == 0
    flags = result.flags
    assert flags.height == result.frame.height * 3  # one row per month and base driver
    assert set(flags["status"]) <= set(FLAG_STATUSES)
    # AI-GPR and GPR end in 2025-12; the panel runs to 2026-08, so INTL is carried 1..8 months
    intl = flags.filter(pl.col("driver") == "INTL", pl.col("month") > dt.date(2025, 12, 1))
    assert intl["status"].unique().to_list() == ["carried_forward"]
    assert intl["months_since_observed"].to_list() == list(range(1, intl.height + 1))
    assert intl["components_observed"].sum() == 0
    last = result.frame.filter(pl.col("month") >= dt.date(2025, 12, 1))["INTL"]
    assert last.n_unique() == 1  # the December 2025 value, carried
    observed = flags.filter(pl.col("status") == "observed")
    assert (observed["months_since_observed"] == 0).all()
    assert (observed["components_observed"] >= 1).all()


def _blank(panel: pl.DataFrame, when: pl.Expr, columns: tuple[str, ...]) -> pl.DataFrame:
    return panel.with_columns(
        pl.when(when).then(None).otherwise(pl.col(c)).alias(c) for c in columns
    )


def test_carry_stops_at_the_configured_limit(panel: pl.DataFrame) -> None:
    intl = next(c for c in DEFAULT_COMPOSITES if c.name == "INTL")
    short = intl.model_copy(update={"max_carry_months": 2})
    composites = tuple(short if c.name == "INTL" else c for c in DEFAULT_COMPOSITES)
    gap = pl.col("month") >= dt.date(2020, 1, 1)
    gapped = _blank(panel, gap, ("aigpr_china_taiwan", "aigpr_russia_ukraine", "gpr"))
    result = composite_drivers(gapped, ("INTL",), START, dt.date(2019, 12, 1), composites)
    statuses = result.flags.filter(gap)["status"].to_list()
    # the limit counts from the last observation: two months carried, then the mean (0)
    assert statuses[:2] == ["carried_forward"] * 2
    assert set(statuses[2:]) == {"beyond_carry_limit"}
    values = result.frame.filter(gap)["INTL"].to_list()
    assert values[0] != 0.0 and all(v == 0.0 for v in values[2:])
    # with the default limit (a year) the same gap carries twelve months, then stops
    default = composite_drivers(gapped, ("INTL",), START, dt.date(2019, 12, 1))
    counts = default.flags.filter(gap).group_by("status").len()
    assert dict(counts.rows())["carried_forward"] == 12


def test_months_before_the_first_observation_are_flagged(panel: pl.DataFrame) -> None:
    early = pl.col("month") < dt.date(2010, 1, 1)
    gapped = _blank(panel, early, ("epu_china", "cny_per_usd"))
    result = composite_drivers(gapped, ("W_CN",), START)
    flags = result.flags.filter(early)
    assert set(flags["status"]) == {"before_first_observation"}
    assert flags["months_since_observed"].null_count() == flags.height
    assert (result.frame.filter(early)["W_CN"] == 0).all()


def test_election_countdown_is_a_known_part_of_w_us(panel: pl.DataFrame) -> None:
    result = composite_drivers(panel, DRIVERS, START)
    [part] = result.known
    assert (part.driver, part.column) == ("W_US", "months_to_us_election")
    months = result.frame["month"].to_numpy().astype("datetime64[M]")
    assert part.history.shape == months.shape
    # the projection from the calendar reproduces the last month's share exactly ...
    assert part.project(months[-1:])[0] == pytest.approx(part.history[-1])
    # ... and the sawtooth: narrowest in an election month, widest just after it
    votes = part.project(np.array(["2026-10", "2026-11", "2026-12"], dtype="datetime64[M]"))
    assert votes[1] < votes[0] < votes[2]
    # the rest of W_US (what the forecast simulates) has no sawtooth left in it
    rest = result.frame["W_US"].to_numpy() - part.history
    countdown = panel.filter(pl.col("month") >= START)["months_to_us_election"].to_numpy()
    assert abs(np.corrcoef(rest, countdown)[0, 1]) < abs(
        np.corrcoef(result.frame["W_US"].to_numpy(), countdown)[0, 1]
    )


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


def test_flag_summary_counts_each_drivers_months(panel: pl.DataFrame) -> None:
    result = composite_drivers(panel, DRIVERS, START)
    summary = {row["driver"]: row for row in flag_summary(result.flags).iter_rows(named=True)}
    assert list(summary) == ["W_US", "W_CN", "INTL"]
    months = result.frame.height
    for row in summary.values():
        total = sum(row[s] for s in FLAG_STATUSES)
        assert total == months and row["partial"] <= row["observed"]
    intl = summary["INTL"]
    assert (intl["carried_forward"], intl["longest_carry"]) == (8, 8)
    assert (intl["last_status"], intl["last_since"]) == ("carried_forward", 8)
    # the second-term polls reach the panel's end, so W_US is never carried forward
    assert summary["W_US"]["carried_forward"] == 0 and summary["W_US"]["last_status"] == "observed"
    assert summary["W_US"]["last_since"] == 0
