"""Tariff trackers and PIIE anchors: parsing, and the monthly splice built from them."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources import tariffs
from flows.sources.base import Parsed, SourceError
from flows.sources.tariffs import SOURCE, monthly_us_tariff

DERIVED = "mwaugh0328_tradewar-tracker/DERIVED_monthly_trade_weighted_tariffs_2015-2020.csv"


def bundled(data_dir: Path, name: str) -> Parsed:
    dataset = SOURCE.dataset(name)
    return dataset.parse((data_dir / dataset.bundled).read_bytes(), dataset.bundled)


def raw_tariffs(data_dir: Path) -> pl.DataFrame:
    """Every bundled dataset, as the raw table would hold them."""
    return pl.concat(bundled(data_dir, d.name).rows for d in SOURCE.datasets)


def excerpt(data_dir: Path, tmp_path: Path, name: str, rows: int, old: str, new: str) -> bytes:
    """The header and first ``rows`` rows of a bundled file, ``old`` replaced by ``new``."""
    dataset = SOURCE.dataset(name)
    lines = (data_dir / dataset.bundled).read_bytes().decode().splitlines(keepends=True)
    text = "".join(lines[: rows + 1])
    assert old in text
    path = tmp_path / "excerpt.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return path.read_bytes()


def value(frame: pl.DataFrame, dataset: str, series: str, day: dt.date) -> float:
    return frame.filter(
        (pl.col("dataset") == dataset) & (pl.col("series") == series) & (pl.col("date") == day)
    )["value_pct"].item()


# --------------------------------------------------------------------------- parsing


def test_every_dataset_parses_cleanly_into_the_schema_with_a_unique_key(data_dir: Path) -> None:
    frame = raw_tariffs(data_dir)
    for d in SOURCE.datasets:
        assert bundled(data_dir, d.name).rejects.is_empty(), d.name
    assert frame.schema == pl.Schema(SOURCE.schema)
    assert not frame.select(SOURCE.key).is_duplicated().any()
    assert frame.select(pl.col(SOURCE.key).null_count()).sum_horizontal().item() == 0


def test_mwaugh_monthly_means_reproduce_the_derived_file(data_dir: Path) -> None:
    """The parser's trade weighting must equal the bundle's DERIVED monthly file."""
    frame = raw_tariffs(data_dir)
    with (data_dir / DERIVED).open(newline="") as f:
        derived = list(csv.DictReader(f))
    assert len(derived) == 63  # PROVENANCE 4a: 63 rows, 2015-01 to 2020-03
    for series, dataset, column in (
        ("us_on_china", "mwaugh_us", "us_tariff_on_china_imports_pct"),
        ("china_on_us", "mwaugh_china", "china_tariff_on_us_exports_pct"),
    ):
        got = frame.filter(pl.col("dataset") == dataset).sort("date")
        assert got["date"].to_list() == [dt.date.fromisoformat(r["month"]) for r in derived]
        assert got["series"].unique().to_list() == [series]
        assert got["value_pct"].to_list() == pytest.approx(
            [float(r[column]) for r in derived], abs=1e-3
        )


def test_mwaugh_levels_match_provenance(data_dir: Path) -> None:
    frame = raw_tariffs(data_dir)
    # PROVENANCE 4a, to its one decimal (21.15 is written 21.2): 12.9 % at 2018-12,
    # 21.2 % at 2019-12 and 19.6 % at 2020-03.
    for day, expected in (
        (dt.date(2018, 12, 1), 12.9),
        (dt.date(2019, 12, 1), 21.2),
        (dt.date(2020, 3, 1), 19.6),
    ):
        assert value(frame, "mwaugh_us", "us_on_china", day) == pytest.approx(expected, abs=0.06)
    pre_war = frame.filter(
        (pl.col("dataset") == "mwaugh_us") & (pl.col("date") < dt.date(2018, 7, 1))
    )["value_pct"]
    assert pre_war.is_between(3.5, 5.6).all()  # "about 4-5 % before 2018-07": 3.6 to 5.5


def test_redux_china_rows_match_provenance(data_dir: Path) -> None:
    rows = bundled(data_dir, "redux_china").rows
    assert rows.height == 2 * 23  # 23 policy dates, two series each
    dates = rows["date"].unique().sort()
    assert (dates.min(), dates.max()) == (dt.date(2025, 2, 4), dt.date(2026, 8, 19))
    added = {
        dt.date(2025, 2, 4): 20.0,
        dt.date(2025, 4, 9): 112.2,
        dt.date(2025, 5, 12): 27.1,
        dt.date(2025, 11, 1): 22.2,
        dt.date(2026, 2, 20): 4.8,
        dt.date(2026, 2, 24): 10.8,
        dt.date(2026, 7, 24): 11.9,
    }
    for day, expected in added.items():
        assert round(value(rows, "redux_china", "us_on_china_added", day), 1) == expected
    base = rows.filter(pl.col("series") == "us_on_china_2024")["value_pct"]
    assert base.round(2).unique().to_list() == [10.87]


def test_piie_anchors_keep_precision_and_skip_blank_china_rates(data_dir: Path) -> None:
    rows = bundled(data_dir, "piie_anchors").rows
    assert rows.filter(pl.col("series") == "us_on_china").height == 7
    assert rows.filter(pl.col("series") == "china_on_us").height == 4
    april = rows.filter(pl.col("date") == dt.date(2025, 4, 1)).row(0, named=True)
    assert (april["date_precision"], april["value_pct"]) == ("month", 124.1)
    assert april["reference"].startswith("piie.com")


def test_non_numeric_naics_tariff_is_rejected_naming_the_field(
    data_dir: Path, tmp_path: Path
) -> None:
    content = excerpt(data_dir, tmp_path, "mwaugh_us", 3, "0.016407697144139668", "n/a%")
    parsed = SOURCE.dataset("mwaugh_us").parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "tariff_trd_w_avg")


def test_impossible_anchor_date_and_unknown_precision_are_rejected(
    data_dir: Path, tmp_path: Path
) -> None:
    content = excerpt(data_dir, tmp_path, "piie_anchors", 3, "2018-09-24,day", "2018-09-31,day")
    parsed = SOURCE.dataset("piie_anchors").parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (3, "date")
    content = excerpt(data_dir, tmp_path, "piie_anchors", 3, "2020-02-14,day", "2020-02-14,week")
    parsed = SOURCE.dataset("piie_anchors").parse(content, "excerpt.csv")
    assert parsed.rejects.select("row", "field").row(0) == (4, "date_precision")


def test_redux_missing_column_or_missing_china_is_a_file_error(
    data_dir: Path, tmp_path: Path
) -> None:
    redux = SOURCE.dataset("redux_china")
    content = excerpt(data_dir, tmp_path, "redux_china", 5, ",2024 tariff", ",tariff 2024")
    with pytest.raises(SourceError) as caught:
        redux.parse(content, "excerpt.csv")
    assert caught.value.field == "2024 tariff"
    content = excerpt(data_dir, tmp_path, "redux_china", 5, "CHINA", "CHINA, PEOPLE'S REP")
    with pytest.raises(SourceError) as caught:
        redux.parse(content, "excerpt.csv")
    assert caught.value.field == "country_name"


def test_live_paths_are_the_mit_repositories() -> None:
    urls = {d.name: SOURCE.base_url + d.live_path for d in SOURCE.datasets if d.live_path}
    assert urls == {
        "mwaugh_us": "https://raw.githubusercontent.com/mwaugh0328/tradewar-tracker/HEAD/"
        "data/imports_by_naics.csv",
        "mwaugh_china": "https://raw.githubusercontent.com/mwaugh0328/tradewar-tracker/HEAD/"
        "data/exports_by_naics.csv",
        "redux_china": "https://raw.githubusercontent.com/tradewartracker/"
        "trade-war-redux-2025/HEAD/country-by-time.csv",
    }
    assert SOURCE.dataset("piie_anchors").live_path == ""  # curated


# --------------------------------------------------------------------------- monthly splice


def test_splice_covers_every_month_once_in_source_order(data_dir: Path) -> None:
    monthly = monthly_us_tariff(raw_tariffs(data_dir))
    assert (
        monthly["month"].to_list()
        == pl.date_range(dt.date(2015, 1, 1), dt.date(2026, 8, 1), "1mo", eager=True).to_list()
    )
    runs = monthly.group_by("tariff_source", maintain_order=True).agg(
        pl.col("month").min().alias("first"), pl.col("month").max().alias("last")
    )
    assert runs.rows() == [
        ("mwaugh", dt.date(2015, 1, 1), dt.date(2020, 3, 1)),
        ("bridged", dt.date(2020, 4, 1), dt.date(2025, 1, 1)),
        ("redux", dt.date(2025, 2, 1), dt.date(2026, 8, 1)),
    ]
    assert monthly.filter(pl.col("tariff_source") == "redux")["china_tariff_pct"].is_null().all()


def test_bridge_carries_march_2020_and_agrees_with_piie_anchors(data_dir: Path) -> None:
    frame = raw_tariffs(data_dir)
    monthly = monthly_us_tariff(frame)
    bridge = monthly.filter(pl.col("tariff_source") == "bridged")
    march = value(frame, "mwaugh_us", "us_on_china", dt.date(2020, 3, 1))
    assert bridge["us_tariff_pct"].unique().to_list() == [march]
    after_phase_one = value(frame, "piie_anchors", "us_on_china", dt.date(2020, 2, 14))
    assert abs(march - after_phase_one) < 2.0
    before_second_term = value(frame, "piie_anchors", "us_on_china", dt.date(2025, 1, 20))
    assert abs(march - before_second_term) < 2.0


def test_redux_month_takes_the_policy_in_force_on_most_days(data_dir: Path) -> None:
    frame = raw_tariffs(data_dir)
    monthly = monthly_us_tariff(frame)

    def policy(day: dt.date) -> float:
        return value(frame, "redux_china", "us_on_china_2024", day) + value(
            frame, "redux_china", "us_on_china_added", day
        )

    def month(day: dt.date) -> float:
        return monthly.filter(pl.col("month") == day)["us_tariff_pct"].item()

    # 2025-04: five policies; the one from 04-11 holds 20 of 30 days (not the 125 % spike).
    assert month(dt.date(2025, 4, 1)) == pytest.approx(policy(dt.date(2025, 4, 11)))
    # 2025-10: 08-07 policy for 13 days, 10-14 policy for 18.
    assert month(dt.date(2025, 10, 1)) == pytest.approx(policy(dt.date(2025, 10, 14)))
    # 2026-08: 07-31 policy for 18 days, 08-19 policy for the last 13.
    assert month(dt.date(2026, 8, 1)) == pytest.approx(policy(dt.date(2026, 7, 31)))
    # 2025-02: the first policy (02-04) holds 25 of 28 days.
    assert month(dt.date(2025, 2, 1)) == pytest.approx(policy(dt.date(2025, 2, 4)))


def test_month_mostly_before_the_first_policy_is_bridged(data_dir: Path) -> None:
    """Starting the tracker at 2026-07-22 leaves July 21 days without a policy: bridged."""
    frame = raw_tariffs(data_dir).filter(
        (pl.col("dataset") != "redux_china") | (pl.col("date") >= dt.date(2026, 7, 22))
    )
    monthly = monthly_us_tariff(frame).filter(pl.col("month") >= dt.date(2026, 6, 1))
    assert monthly["tariff_source"].to_list() == ["bridged", "bridged", "redux"]


def test_splice_needs_the_mwaugh_tracker(data_dir: Path) -> None:
    frame = raw_tariffs(data_dir).filter(pl.col("dataset") != tariffs.MWAUGH_US)
    with pytest.raises(ValueError, match="mwaugh_us"):
        monthly_us_tariff(frame)


def test_without_the_2025_tracker_the_bridge_runs_to_the_cut(data_dir: Path) -> None:
    """A backtest cut in 2022 has no redux rows: the last observed rate is held to the cut."""
    frame = raw_tariffs(data_dir).filter(pl.col("dataset") != tariffs.REDUX)
    monthly = monthly_us_tariff(frame, until=dt.date(2022, 7, 31))
    assert monthly["month"].max() == dt.date(2022, 7, 1)
    bridged = monthly.filter(pl.col("tariff_source") == "bridged")
    assert bridged["month"].min() == dt.date(2020, 4, 1)
    last_observed = monthly.filter(pl.col("month") == dt.date(2020, 3, 1))["us_tariff_pct"]
    assert (bridged["us_tariff_pct"] == last_observed.item()).all()


def test_statutory_series_shifts_only_the_2025_tracker_by_the_measured_gap(
    data_dir: Path,
) -> None:
    """The 2025-26 tracker starts from the 2024 *applied* rate; PIIE's statutory average at the
    tracker's start minus that base is the shift, read from the two files, not typed here."""
    frame = raw_tariffs(data_dir)
    monthly = monthly_us_tariff(frame)
    piie = value(frame, "piie_anchors", "us_on_china", dt.date(2025, 1, 20))
    base = value(frame, "redux_china", "us_on_china_2024", dt.date(2025, 2, 4))
    shift = tariffs.statutory_shift(frame)
    assert shift == pytest.approx(piie - base)
    assert 5.0 < shift < 15.0  # the applied base lies well below the statutory rate
    redux = monthly.filter(pl.col("tariff_source") == "redux")
    gap = redux["us_tariff_statutory_pct"] - redux["us_tariff_pct"]
    assert gap.to_numpy() == pytest.approx(shift)
    before = monthly.filter(pl.col("tariff_source") != "redux")
    assert (before["us_tariff_statutory_pct"] == before["us_tariff_pct"]).all()
    # On one definition the post-Geneva month sits nearer PIIE's post-Geneva anchor.
    may = monthly.filter(pl.col("month") == dt.date(2025, 5, 1))
    after_geneva = value(frame, "piie_anchors", "us_on_china", dt.date(2025, 5, 14))
    assert abs(may["us_tariff_statutory_pct"].item() - after_geneva) < abs(
        may["us_tariff_pct"].item() - after_geneva
    )


def test_without_piie_anchors_the_2025_months_have_no_statutory_rate(data_dir: Path) -> None:
    frame = raw_tariffs(data_dir).filter(pl.col("dataset") != tariffs.PIIE)
    assert tariffs.statutory_shift(frame) is None
    redux = monthly_us_tariff(frame).filter(pl.col("tariff_source") == "redux")
    assert redux["us_tariff_statutory_pct"].is_null().all()
