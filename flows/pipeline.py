"""The main job, ``winset run``: ingest the bundled data, build the monthly panel, fit the model.

Flows stay thin: they order the steps and hold the warehouse connection; the work is done by
plain functions (connectors, :func:`flows.panel.build_panel`) that are tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from prefect import flow

from flows import settings
from flows.fit import FitRecord, fit_model
from flows.ingest import ingest
from flows.panel import TABLES, Panel, build_panel
from flows.warehouse import IngestSummary, connect, read_tables, replace_tables


@dataclass(frozen=True)
class PipelineResult:
    ingest: IngestSummary
    panel: Panel
    fit: FitRecord

    def describe(self) -> str:
        frame, cov = self.panel.frame, self.panel.coverage
        thin = cov.filter(pl.col("months_observed") == 0)["column"].to_list()
        lines = [
            f"Panel: {frame.height} months, {frame['month'].min():%Y-%m} to "
            f"{frame['month'].max():%Y-%m}, {frame.width - 1} columns "
            f"(table `panel_monthly`; coverage in `panel_coverage`).",
            f"Data hash {self.panel.data_hash()[:12]}.",
        ]
        if thin:
            lines.append(f"Columns with no data: {', '.join(thin)}.")
        lines.append(self.fit.describe())
        return "\n".join(lines)


def refresh_panel(db_path: Path) -> Panel:
    """Build the panel from the warehouse and store it (with its coverage) as derived tables."""
    with connect(db_path) as con:
        panel = build_panel(read_tables(con, TABLES))
        replace_tables(con, {"panel_monthly": panel.frame, "panel_coverage": panel.coverage})
    return panel


@flow(name="pipeline")
def pipeline(
    db_path: Path | None = None, config_path: Path | None = None, fast: bool = False
) -> PipelineResult:
    db_path = Path(db_path or settings.warehouse_path())
    summary = ingest(db_path=db_path)
    panel = refresh_panel(db_path)
    record = fit_model(db_path=db_path, config_path=config_path, fast=fast)
    return PipelineResult(summary, panel, record)
