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
    # Published by the cut for every block: monthly lags are at most 2 months, and the UNGA
    # session that opened in 2019-09 closes only in 2020, so its months stay out.
    old = pl.col("month") <= dt.date(2019, 8, 1)
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


# ------------------------------------------------------------------ the sources added in 2026


def _months(panel, column: str) -> dict[dt.date, object]:
    return dict(panel.frame.select("month", column).iter_rows())


def test_approval_runs_through_the_second_term(
    panel, bundled_tables: dict[str, pl.DataFrame]
) -> None:
    approval, president = _months(panel, "approval"), _months(panel, "president")
    assert panel.frame.filter(pl.col("approval").is_not_null())["month"].max() == dt.date(
        2026, 8, 1
    )
    second_term = [m for m in approval if dt.date(2025, 2, 1) <= m <= dt.date(2026, 8, 1)]
    assert all(approval[m] is not None and president[m] == "Donald Trump" for m in second_term)
    # 2025-03 by hand: one poll per (pollster, dates), the adults' figure where there is one.
    polls = bundled_tables["raw_approval_votehub"]
    march = polls.filter(pl.col("date_end").dt.truncate("1mo") == dt.date(2025, 3, 1))
    best: dict[tuple, tuple[int, float]] = {}
    for r in march.iter_rows(named=True):
        rank = ("A", "RV", "LV", "V").index(r["population"])
        key = (r["pollster"], r["date_start"], r["date_end"])
        if key not in best or rank < best[key][0]:
            best[key] = (rank, r["approve"])
    values = [v for _, v in best.values()]
    assert approval[dt.date(2025, 3, 1)] == pytest.approx(sum(values) / len(values))
    assert _months(panel, "approval_polls")[dt.date(2025, 3, 1)] == len(values)


def test_pla_activity_is_null_before_daily_reports_never_zero(panel) -> None:
    aircraft = _months(panel, "pla_aircraft_per_day")
    # The file has incident days in 2019, but no daily reports: unobserved, not calm.
    assert all(v is None for m, v in aircraft.items() if m < dt.date(2020, 9, 1))
    assert all(v is not None for m, v in aircraft.items() if m >= dt.date(2020, 9, 1))
    vessels = _months(panel, "pla_vessels_per_day")
    assert vessels[dt.date(2021, 6, 1)] is None and vessels[dt.date(2024, 6, 1)] is not None


def test_quarterly_gdp_fills_its_quarter_and_monthly_series_stop_in_2025_04(
    panel, bundled_tables: dict[str, pl.DataFrame]
) -> None:
    macro = bundled_tables["raw_china_macro"]
    q1 = macro.filter(
        (pl.col("series") == "gdp_real_yoy") & (pl.col("period_end") == dt.date(2024, 3, 31))
    )["value"].item()
    gdp = _months(panel, "china_gdp_yoy_pct")
    assert [gdp[dt.date(2024, m, 1)] for m in (1, 2, 3)] == [q1, q1, q1]
    assert gdp[dt.date(2025, 3, 1)] == 5.4 and gdp[dt.date(2025, 4, 1)] is None
    pmi, cpi = _months(panel, "china_pmi"), _months(panel, "china_cpi_yoy_pct")
    assert pmi[dt.date(2025, 4, 1)] == 49.0 and pmi[dt.date(2025, 5, 1)] is None
    assert cpi[dt.date(2025, 4, 1)] is not None and cpi[dt.date(2025, 5, 1)] is None


def test_unga_session_fills_its_twelve_months(panel) -> None:
    agreement = _months(panel, "unga_china_us_agreement")
    session_78 = [agreement[dt.date(2023, 9, 1)], agreement[dt.date(2024, 8, 1)]]
    assert [round(v, 3) for v in session_78] == [0.165, 0.165]
    assert agreement[dt.date(2023, 8, 1)] != agreement[dt.date(2023, 9, 1)]
    assert agreement[dt.date(2024, 9, 1)] is None  # no later session in the release
    assert agreement[dt.date(1971, 8, 1)] is None  # China seated in session 26 (1971-09)


def test_meetings_count_zero_only_while_recorded(panel) -> None:
    meetings = _months(panel, "us_china_meetings")
    assert meetings[dt.date(2017, 4, 1)] == 1 and meetings[dt.date(2020, 6, 1)] == 0
    assert meetings[dt.date(2000, 12, 1)] is None and meetings[dt.date(2024, 12, 1)] is None


def test_coverage_reflects_the_new_columns(panel) -> None:
    coverage = {r["column"]: r for r in panel.coverage.iter_rows(named=True)}
    expected = {
        "pla_aircraft_per_day": ("2020-09-01", "2026-08-01"),
        "china_gdp_yoy_pct": ("1992-01-01", "2025-03-01"),
        "china_pmi": ("2005-01-01", "2025-04-01"),
        "unga_ideal_point_gap": ("1971-09-01", "2024-08-01"),
        "us_china_meetings": ("2001-01-01", "2024-11-01"),
        "approval": ("1937-08-01", "2026-08-01"),
    }
    for column, (first, last) in expected.items():
        row = coverage[column]
        assert (str(row["first"]), str(row["last"])) == (first, last), column
        assert row["months_observed"] == panel.frame[column].is_not_null().sum()


def test_as_of_admits_a_quarter_or_a_session_only_once_it_is_over(
    bundled_tables: dict[str, pl.DataFrame],
) -> None:
    frame = build_panel(bundled_tables, as_of=dt.date(2024, 6, 15)).frame
    gdp = dict(frame.select("month", "china_gdp_yoy_pct").iter_rows())
    assert gdp[dt.date(2024, 3, 1)] is not None and gdp[dt.date(2024, 4, 1)] is None
    unga = dict(frame.select("month", "unga_ideal_point_gap").iter_rows())
    assert unga[dt.date(2023, 8, 1)] is not None and unga[dt.date(2023, 9, 1)] is None
    meetings = dict(frame.select("month", "us_china_meetings").iter_rows())
    assert meetings[dt.date(2024, 4, 1)] == 1 and meetings[dt.date(2024, 6, 1)] == 0


def test_timeline_categories_count_the_events_of_each_month(
    panel, bundled_tables: dict[str, pl.DataFrame]
) -> None:
    events = bundled_tables["raw_timeline"]
    by_month = events.group_by(pl.col("date").dt.truncate("1mo").alias("month"), "category").len()
    for month, category, count in by_month.iter_rows():
        assert _row(panel.frame, str(month))[f"events_{category}"] == count
    first, last = events["date"].min().replace(day=1), events["date"].max().replace(day=1)
    inside = panel.frame.filter(pl.col("month").is_between(first, last))
    assert inside["events_tariffs"].null_count() == 0  # quiet months are 0, not missing
    assert _row(panel.frame, str(first - dt.timedelta(days=1))[:8] + "01")["events_tariffs"] is None


def test_observed_tariff_change_is_null_across_the_bridge(panel) -> None:
    frame = panel.frame.filter(pl.col("tariff_source").is_not_null())
    bridged = frame.filter(pl.col("tariff_source") == "bridged")
    assert bridged["us_tariff_change_pts"].null_count() == 0  # the carried 0s
    assert bridged["us_tariff_change_observed_pts"].null_count() == bridged.height
    after = frame.filter(pl.col("month") == bridged["month"].max().replace(day=1))
    first_redux = _row(frame, str(bridged["month"].max())[:5] + "02-01")
    assert after.height == 1 and first_redux["us_tariff_change_observed_pts"] is None
    tracked = frame.filter(
        (pl.col("tariff_source") != "bridged") & (pl.col("tariff_source").shift(1) != "bridged")
    )
    assert (
        tracked["us_tariff_change_observed_pts"].to_list()
        == tracked["us_tariff_change_pts"].to_list()
    )
