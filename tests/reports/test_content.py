"""The input contract fails early, naming the field, when a flow passes the wrong thing."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from reports.content import ContentError, Headline, ReportData, RunEntry, Sweep


def test_missing_columns_are_named(rendering_data: ReportData) -> None:
    with pytest.raises(ContentError, match=r"regimes: missing columns \['MC'\]"):
        replace(rendering_data, regimes=rendering_data.regimes.drop("MC"))


def test_months_must_be_dates(rendering_data: ReportData) -> None:
    as_text = rendering_data.regimes.with_columns(pl.col("month").cast(pl.String))
    with pytest.raises(ContentError, match=r"regimes\.month: expected dates"):
        replace(rendering_data, regimes=as_text)


def test_headline_scenario_must_have_monthly_rows(rendering_data: ReportData) -> None:
    headline = replace(rendering_data.headline, scenario="nowhere")
    with pytest.raises(ContentError, match="headline scenario nowhere"):
        replace(rendering_data, headline=headline)


def test_headline_from_horizon_frame(rendering_data: ReportData) -> None:
    horizon = rendering_data.scenario_horizon
    headline = Headline.from_horizon(horizon, "grand_bargain")
    row = horizon.filter(
        (pl.col("scenario") == "grand_bargain")
        & (pl.col("measure") == "pathway_at_horizon")
        & (pl.col("pathway") == "MC")
    )
    assert headline.pathways["MC"].mean == row["mean"][0]
    with pytest.raises(ContentError, match="no single ever_DC/DC row"):
        Headline.from_horizon(horizon.filter(pl.col("measure") != "ever_DC"), "grand_bargain")


@pytest.mark.parametrize(
    "href", ["https://example.org/r.html", "//host/r.html", "javascript:x", ""]
)
def test_index_links_must_be_relative(rendering_data: ReportData, href: str) -> None:
    with pytest.raises(ContentError, match="relative path"):
        RunEntry(run=rendering_data.run, href=href)


def test_sweep_needs_its_columns() -> None:
    frame = pl.DataFrame({"a": [1], "pathway": ["DC"], "mean": [0.5], "q05": [0.4]})
    with pytest.raises(ContentError, match=r"sweep.frame: missing columns \['q95'\]"):
        Sweep(frame=frame, parameters=("a",))
