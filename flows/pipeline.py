"""The main job, ``winset run``: ingest -> panel -> fit (only when needed) -> forecast -> publish.

Flows stay thin: they order the steps and hold the warehouse connection briefly; the work is
done by plain functions and the other flows, each tested on its own. A fit is reused when a
healthy one exists for the same config and the same panel; a fit that fails the health gate
is recorded and reported (also as a Prefect artifact, for scheduled runs), and the run stops
there, so it never reaches ``latest``. ``winset serve`` runs this flow monthly.

With ``live`` (the monthly deployment, ``winset run --live``) the sources are downloaded from
their publishers and a source that fails does not stop the run: it keeps its last good rows
and is reported stale. A run with too many stale sources, or a stale key source
(``flows.refresh``), is still fitted, forecast and published, marked as such, but never
becomes ``latest``.

With ``prior_sweep`` (``winset run`` and the monthly deployment pass
``data/sweeps/prior_determined.yaml``) a fit that has no prior sweep yet gets one before the
report is published, so the report's headline says whether the priors alone would move
P(DC) by more than 10 points; a reused fit keeps its sweep. Fast fits are never swept: they
never become ``latest``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from prefect import flow

from flows import settings
from flows.artifacts import record_unhealthy_fit
from flows.fit import FitRecord, fit_model, load_config, read_panel
from flows.forecast import ForecastRecord, forecast
from flows.ingest import LiveOptions, ingest
from flows.kept_fits import record_kept
from flows.ledger import Resolutions, resolve_due
from flows.panel import TABLES, Panel, build_panel, frame_hash
from flows.pathway_report import prior_spread
from flows.publish import PublishRecord, publish
from flows.refresh import read_staleness
from flows.sweep import SweepRecord, sweep
from flows.warehouse import IngestSummary, connect, read_tables, replace_tables
from reports import Staleness


@dataclass(frozen=True)
class PipelineResult:
    ingest: IngestSummary
    panel: Panel
    fit: FitRecord | None  # None when a healthy fit was reused
    reused_fit: str | None
    forecast: ForecastRecord | None
    report: PublishRecord | None
    staleness: Staleness = field(default_factory=Staleness)
    resolved: Resolutions | None = None  # ledger entries the new data resolved
    prior_sweep: SweepRecord | None = None  # None when not asked for or already swept

    @property
    def healthy(self) -> bool:
        return self.fit is None or self.fit.healthy

    @property
    def too_stale(self) -> bool:
        return self.staleness.too_stale is not None

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
        if self.resolved is not None:
            lines.append(self.resolved.describe())
        if self.reused_fit:
            lines.append(f"Reused healthy fit {self.reused_fit} (same config and panel).")
        if self.fit is not None:
            lines.append(self.fit.describe())
        if self.forecast is not None:
            lines.append(self.forecast.describe())
        if self.prior_sweep is not None:
            lines.append(self.prior_sweep.describe())
        for stale in self.staleness.sources:
            since = f"{stale.since:%Y-%m-%d %H:%M} UTC" if stale.since else "never refreshed"
            lines.append(f"Stale: {stale.source} (last good refresh: {since}): {stale.error}")
        if self.report is not None and self.too_stale:
            lines.append(
                f"Report: {self.report.folder / 'report.html'} (not published as latest: too "
                f"stale: {self.staleness.too_stale})"
            )
        elif self.report is not None:
            lines.append(self.report.describe())
        elif not self.healthy:
            lines.append("No forecast or report: the fit failed the health gate.")
        return "\n".join(lines)


def refresh_panel(db_path: Path) -> Panel:
    """Build the panel from the warehouse and store it (with its coverage) as derived tables."""
    with connect(db_path) as con:
        panel = build_panel(read_tables(con, TABLES))
        replace_tables(con, {"panel_monthly": panel.frame, "panel_coverage": panel.coverage})
    return panel


def reusable_fit(db_path: Path, config_hash: str, panel_hash: str) -> str | None:
    """A healthy fit of the same config on the same panel, if one exists."""
    with connect(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT run_id FROM model_runs WHERE healthy AND config_hash = ? AND panel_hash = ? "
            "ORDER BY created_at DESC LIMIT 1",
            [config_hash, panel_hash],
        ).fetchall()
    return rows[0][0] if rows else None


def _swept(db_path: Path, model_run_id: str, horizon: str) -> bool:
    """Whether the report of this fit would already show a prior sweep's verdict."""
    with connect(db_path, read_only=True) as con:
        found = prior_spread(con, model_run_id, dt.date.fromisoformat(f"{horizon}-01"))
    return found is not None


@flow(name="pipeline")
def pipeline(
    db_path: Path | None = None,
    config_path: Path | None = None,
    fast: bool = False,
    n_paths: int = 1000,
    reports_dir: Path | None = None,
    live: LiveOptions | None = None,
    prior_sweep: Path | None = None,
    prior_sweep_sampling: Path | None = None,
) -> PipelineResult:
    """Ingest (bundled or live), refresh the panel, fit if needed, forecast and publish.

    The defaults are those of a plain ``winset run``: the bundle, the default warehouse, the
    publication config and sampler, every scenario; the monthly deployment adds ``live``.

    Args:
        db_path: The DuckDB warehouse (default: ``WINSET_DB`` or ``var/winset.duckdb``).
        config_path: The model config YAML (default: ``data/model.yaml``).
        fast: 2 chains x 500 draws instead of the publication fit; never becomes ``latest``.
        n_paths: Monte Carlo paths per posterior draw and scenario.
        reports_dir: Where reports go (default: ``var/reports``).
        live: Download from the publishers with these options (base URLs, timeouts,
            retries); a source that fails keeps its last good rows and is reported stale.
        prior_sweep: A sweep file with prior axes, run on a (non-fast) fit that has none yet,
            before publishing.
        prior_sweep_sampling: A model config whose sampler and gate the sweep's refits use
            instead of fast mode (tests).
    """
    db_path = Path(db_path or settings.warehouse_path())
    summary = ingest(db_path=db_path, live=live, keep_going=live is not None)
    panel = refresh_panel(db_path)
    with connect(db_path, read_only=True) as con:
        stale = read_staleness(con)
    resolved = resolve_due(db_path)  # score what the new data bring, before anything is published
    config = load_config(config_path, fast)
    record_kept(settings.posterior_dir(), db_path)  # a finished fit a busy warehouse refused
    reused = reusable_fit(db_path, config.config_hash(), frame_hash(read_panel(db_path)))
    record = None
    if reused is None:
        record = fit_model(db_path=db_path, config_path=config_path, fast=fast)
        if not record.healthy:
            record_unhealthy_fit(record)
            return PipelineResult(summary, panel, record, None, None, None, stale, resolved)
    model_run = reused or record.run_id
    forecasted = forecast(db_path=db_path, n_paths=n_paths, model_run_id=model_run)
    swept = None
    if prior_sweep is not None and not fast and not _swept(db_path, model_run, forecasted.horizon):
        swept = sweep(
            prior_sweep, db_path=db_path, model_run_id=model_run,
            refit_sampling=prior_sweep_sampling,
        )  # fmt: skip
    report = publish(db_path=db_path, forecast_run_id=forecasted.run_id, reports_dir=reports_dir)
    return PipelineResult(
        summary, panel, record, reused, forecasted, report, stale, resolved, swept
    )
