"""The monthly panel on the real bundle: shape, splices, calendar, and no look-ahead."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from flows.panel import BLOCKS, TABLES, PanelError, build_block, build_panel


@pytest.fixture(scope="module")
def panel(bundled_tables: dict[str, pl.DataFrame]):
    return build_panel(bundled_tables)


def _row(frame: pl.DataFrame, month: str) -> dict:
    return frame.filter(pl.col("month") == dt.date.fromisoformat(month)).row(0, named=True)


def test_one_row_per_month_without_gaps(panel) -> None:
    months = panel.frame["month"]
    assert months.is_sorted() and months.n_unique() == panel.frame.height
    steps = months.dt.offset_by("1mo").head(-1).to_list()
    assert steps == months.tail(-1).to_list()


def test_trade_comes_from_census_before_2016_and_fred_after(
    panel, bundled_tables: dict[str, pl.DataFrame]
) -> None:
    census = bundled_tables["raw_census_trade"]
    fred = bundled_tables["raw_fred"].filter(pl.col("series") == "EXPCH")
    dec15, jan16 = _row(panel.frame, "2015-12-01"), _row(panel.frame, "2016-01-01")
    census_dec15 = census.filter(pl.col("month") == dt.date(2015, 12, 1))["exports"].item()
    fred_jan16 = fred.filter(pl.col("date") == dt.date(2016, 1, 1))["value"].item()
    assert dec15["exports_musd"] == census_dec15
    assert jan16["exports_musd"] == fred_jan16
    assert jan16["exports_yoy_pct"] == pytest.approx(
        100 * (fred_jan16 / _row(panel.frame, "2015-01-01")["exports_musd"] - 1)
    )


def test_missing_months_stay_null(panel) -> None:
    # UNRATE has no 2025-10 release (the shutdown); the panel must not fill it.
    assert _row(panel.frame, "2025-10-01")["unrate"] is None
    assert _row(panel.frame, "2025-09-01")["unrate"] is not None


def test_months_to_us_election(panel) -> None:
    expected = {"2020-11-01": 0, "2024-12-01": 23, "2025-01-01": 22, "2026-08-01": 3}
    for month, months_left in expected.items():
        assert _row(panel.frame, month)["months_to_us_election"] == months_left


def test_coverage_counts_observed_months(panel) -> None:
    coverage = {r["column"]: r for r in panel.coverage.iter_rows(named=True)}
    for column in ("exports_musd", "unrate", "aigpr_usa_china", "signal_decoupling"):
        observed = panel.frame[column].is_not_null().sum()
        assert coverage[column]["months_observed"] == observed
        first = panel.frame.filter(pl.col(column).is_not_null())["month"].min()
        assert coverage[column]["first"] == first


@pytest.mark.parametrize("as_of", ["2017-12-31", "2019-12-31", "2022-07-31", "2025-04-30"])
def test_as_of_sees_nothing_published_later(
    bundled_tables: dict[str, pl.DataFrame], as_of: str
) -> None:
    cutoff = dt.date.fromisoformat(as_of)
    panel = build_panel(bundled_tables, as_of=cutoff)
    frame = panel.frame
    assert frame["month"].max() == cutoff.replace(day=1)
    for block in BLOCKS:
        columns = build_block(block, bundled_tables, cutoff).columns
        known = frame.filter(pl.any_horizontal(pl.col(columns[1:]).is_not_null()))
        if known.is_empty():
            continue
        released = known["month"].max() + dt.timedelta(days=31 * block.lag_months)
        assert released.replace(day=1) <= cutoff, block.name
    # events after the cut are gone, not merely hidden in later rows
    signals = frame.select(pl.col("^signal_.*$")).sum().row(0)
    events = bundled_tables["raw_timeline"].filter(pl.col("date") <= cutoff).height
    assert sum(signals) == events


def test_as_of_agrees_with_the_full_panel_on_old_months(
    bundled_tables: dict[str, pl.DataFrame], panel
) -> None:
    cut = build_panel(bundled_tables, as_of=dt.date(2019, 12, 31)).frame
    old = pl.col("month") <= dt.date(2019, 9, 1)  # published by the cut for every lag
    assert cut.filter(old).equals(panel.frame.filter(old).select(cut.columns))


def test_a_missing_table_is_named(bundled_tables: dict[str, pl.DataFrame]) -> None:
    partial = {t: f for t, f in bundled_tables.items() if t != "raw_cpi"}
    with pytest.raises(PanelError, match="raw_cpi; run `winset ingest` first"):
        build_panel(partial)
    assert "raw_cpi" in TABLES


def test_data_hash_changes_with_the_data(bundled_tables: dict[str, pl.DataFrame], panel) -> None:
    revised = dict(bundled_tables)
    revised["raw_cpi"] = revised["raw_cpi"].with_columns(pl.col("cpi_index") * 1.001)
    assert build_panel(revised).data_hash() != panel.data_hash()
    assert build_panel(bundled_tables).data_hash() == panel.data_hash()


def test_data_hash_ignores_row_order(bundled_tables: dict[str, pl.DataFrame], panel) -> None:
    # The warehouse returns rows in no fixed order; float means must not depend on it.
    shuffled = {name: frame.sample(fraction=1.0, shuffle=True, seed=7) for name, frame in
                bundled_tables.items()}  # fmt: skip
    assert build_panel(shuffled).data_hash() == panel.data_hash()
