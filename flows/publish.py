"""The ``publish`` flow: one forecast run -> a report folder, the runs index and ``latest``.

Everything a report shows is read from the warehouse (forecasts, the fit's regime
probabilities and effects, the panel, the timeline, the status) and handed to the pure
renderers in ``reports``. The ``reports`` rows are the truth about what is published: the
runs index lists them and ``latest`` is the healthy publication run published last, so a run
that fails the health gate (or used a fast fit) never replaces ``latest``. Files go into an
immutable, fsynced build folder before the row that names it is committed, and the folder is
switched to the committed rows only afterwards by atomic renames (``flows.report_folder``):
a publish killed before its commit changes nothing visible, one killed after it is finished
by the next publish, and ``latest`` never points at a report the index does not list.
Each publish also leaves Prefect artifacts (summary, headline table, report link; see
``flows.artifacts``) on its flow run, for whoever watches the runs in Prefect's UI.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from prefect import flow

from flows import report_folder, settings
from flows.artifacts import record_report_artifacts
from flows.pathway_report import pathway_check, prior_spread
from flows.sources import SOURCES
from flows.warehouse import connect, table_status, write_rows
from reports import ReportData, render_html, render_index, render_markdown
from reports.content import Headline, Previous, RunEntry, RunInfo, Sweep

ASSUMPTIONS = (
    "Pathways are the hidden states of a monthly Markov model fitted from January 2009; a "
    "handful of regime switches inform it, so driver effects are largely set by their priors.",
    "Scenario results are conditional on the assumed effect sizes and on the stated shock "
    "sizes in data/scenarios/, which are assumptions, not estimates.",
    "{driver_paths}; the election countdown inside W_US is projected exactly from the "
    "calendar, and the truce expiry and the Party Congress add assumed shocks in every "
    "scenario.",
    "US presidential approval for the second Trump term is not in the bundled data; W_US "
    "rests on the election calendar, inflation and unemployment from February 2025.",
    "Tariff months between the trackers (2020-04 to 2025-01) are treated as unobserved.",
)


DRIVER_PATHS = {
    "ar1": "Drivers follow fitted AR(1) paths from their last values, with Gaussian shocks",
    "bootstrap": "Drivers follow fitted AR(1) paths from their last values, with shocks "
    "resampled in {block_months}-month blocks of the historical ones",
}


def assumptions(run: dict) -> tuple[str, ...]:
    """The report's assumptions in words, naming how this forecast drew its driver paths."""
    paths = DRIVER_PATHS[run["driver_paths"]].format(block_months=run["block_months"])
    return tuple(a.format(driver_paths=paths) for a in ASSUMPTIONS)


class PublishError(ValueError):
    """Nothing to publish, or a report that cannot be built; one line for the user."""


@dataclass(frozen=True)
class PublishRecord:
    run_id: str
    folder: Path
    healthy: bool
    latest: Path | None

    def describe(self) -> str:
        where = f"Report: {self.folder / 'report.html'}"
        if self.latest is None:
            return f"{where} (not published as latest: the run is not a healthy publication run)"
        return f"{where} (latest: {self.latest})"


def _one(con, sql: str, params: list) -> dict | None:
    frame = con.sql(sql, params=params).pl()
    return frame.row(0, named=True) if frame.height else None


def gather(con, forecast_run_id: str | None = None) -> ReportData:
    """Assemble a report's content for a forecast run (default: the newest)."""
    run = _one(
        con,
        "SELECT * FROM forecast_runs WHERE ? IS NULL OR run_id = ? "
        "ORDER BY created_at DESC LIMIT 1",
        [forecast_run_id, forecast_run_id],
    )
    if run is None:
        raise PublishError("no forecast run to publish; run `winset forecast` first")
    fit = _one(con, "SELECT * FROM model_runs WHERE run_id = ?", [run["model_run_id"]])
    monthly = con.sql(
        "SELECT scenario, month, pathway, mean, q05, q50, q95 FROM forecasts WHERE run_id = ? "
        "ORDER BY scenario, month, pathway",
        params=[run["run_id"]],
    ).pl()
    horizon = con.sql(
        "SELECT scenario, measure, pathway, mean, q05, q95 FROM forecast_summaries "
        "WHERE run_id = ? AND uncertainty = 'posterior' AND mean IS NOT NULL",
        params=[run["run_id"]],
    ).pl()
    head = "baseline" if "baseline" in monthly["scenario"].to_list() else monthly["scenario"][0]
    config = json.loads(fit["config_json"])
    info = _run_info(run, fit, con)
    return ReportData(
        run=info,
        headline=Headline.from_horizon(horizon, head),
        monthly=monthly,
        scenarios=_scenarios(monthly["scenario"].unique(maintain_order=True).to_list()),
        scenario_horizon=horizon,
        attribution=_attribution(con, run["run_id"]),
        drivers_history=_drivers(con, config),
        regimes=con.sql(
            "PIVOT (SELECT month, pathway, smoothed FROM regime_probabilities WHERE run_id = ?) "
            "ON pathway IN ('DC', 'SE', 'MC') USING first(smoothed) ORDER BY month",
            params=[fit["run_id"]],
        ).pl(),
        events=con.sql(
            "SELECT date, event, category, pathway_signal FROM raw_timeline ORDER BY date"
        ).pl(),
        effects=con.sql(
            "SELECT * FROM model_effects WHERE run_id = ? AND parameter = 'beta' "
            "ORDER BY term, dest",
            params=[fit["run_id"]],
        ).pl(),
        diagnostics={
            k: fit[k]
            for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi")
        }
        | {"chains": fit["chains"], "draws": fit["draws"], "healthy": fit["healthy"]},
        coverage=con.sql(
            'SELECT "column", "first", "last", months_observed FROM panel_coverage'
        ).pl(),
        freshness=_freshness(con),
        assumptions=assumptions(run),
        previous=_previous(con, info),
        sweep=_sweep(con, fit["run_id"]),
        pathway_check=pathway_check(con, fit),
        prior_spread=prior_spread(con, fit["run_id"], run["horizon"]),
        driver_flags=_driver_flags(con, fit["run_id"]),
        prior_only=_prior_only(con, run["run_id"]),
        **_backtest(con),
    )


def _run_info(run: dict, fit: dict, con) -> RunInfo:
    [(last,)] = con.execute("SELECT max(month) FROM panel_monthly").fetchall()
    problems = tuple(p for p in fit["problems"].split("; ") if p)
    validity = tuple(p for p in (fit.get("validity_problems") or "").split("; ") if p)
    return RunInfo(
        run_id=run["run_id"],
        created_at=run["created_at"].replace(tzinfo=dt.UTC),
        data_through=last,
        horizon=run["horizon"],
        model_run_id=fit["run_id"],
        config_hash=fit["config_hash"],
        fit_mode=fit["mode"],
        healthy=bool(fit["healthy"]),
        problems=problems,
        valid=fit.get("valid"),
        validity_problems=validity,
    )


def _scenarios(names: list[str]) -> pl.DataFrame:
    from models.scenarios import load_scenarios

    known = {s.name: s for s in load_scenarios(settings.data_dir() / "scenarios")}
    rows = [
        {"name": n, "title": known[n].title if n in known else n,
         "description": known[n].description if n in known else ""}
        for n in names
    ]  # fmt: skip
    return pl.DataFrame(
        rows, schema={"name": pl.String, "title": pl.String, "description": pl.String}
    )


def _attribution(con, run_id: str) -> pl.DataFrame | None:
    """Each scenario's move from the baseline split by driver (None for forecast runs made
    before the split was stored, or without a baseline)."""
    frame = con.sql(
        "SELECT scenario, part, pathway, mean, q05, q95 FROM forecast_attribution "
        "WHERE run_id = ? ORDER BY scenario",
        params=[run_id],
    ).pl()
    return frame if frame.height else None


def _drivers(con, config: dict) -> pl.DataFrame:
    from models.config import ModelConfig
    from models.drivers import composite_drivers

    model = ModelConfig.model_validate(config)
    panel = con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
    start = dt.date.fromisoformat(f"{model.start}-01")
    return composite_drivers(panel, model.drivers, start, None, model.composites).frame


def _driver_flags(con, model_run_id: str) -> pl.DataFrame | None:
    """How each driver's months were filled in the fit (none for fits stored before flags)."""
    from models.drivers import flag_summary

    flags = con.sql("SELECT * FROM driver_flags WHERE run_id = ?", params=[model_run_id]).pl()
    return flag_summary(flags) if flags.height else None


def _prior_only(con, run_id: str) -> pl.DataFrame | None:
    """The run's prior-only horizon summaries (none for runs stored before they existed)."""
    frame = con.sql(
        "SELECT scenario, measure, pathway, mean, q05, q95 FROM forecast_prior_only "
        "WHERE run_id = ?",
        params=[run_id],
    ).pl()
    return frame if frame.height else None


def _freshness(con) -> pl.DataFrame:
    rows = table_status(con, list(SOURCES.values()))
    return pl.DataFrame(
        {
            "source": [r.source for r in rows],
            "rows": [r.rows for r in rows],
            "last_date": [r.last for r in rows],
            "last_ingest": [r.last_ingested_at for r in rows],
        }
    )


def _backtest(con) -> dict[str, pl.DataFrame | None]:
    """The newest backtest's skill table (all fits, healthy or not; the table says which) and
    the driver model's verdicts against persistence and the no-driver HMM."""
    from models.backtest import skill_table, skill_verdicts

    latest = _one(con, "SELECT backtest_id FROM backtest_runs ORDER BY created_at DESC LIMIT 1", [])
    if latest is None:
        return {"backtest": None, "backtest_verdicts": None}
    scores = con.sql(
        "SELECT * FROM backtests WHERE backtest_id = ?", params=[latest["backtest_id"]]
    ).pl()
    table = skill_table(scores)
    unhealthy = scores.filter(pl.col("healthy") == False).select("model").unique()  # noqa: E712
    flagged = pl.col("model").is_in(unhealthy["model"].implode())
    metric = (pl.col("target") + " " + pl.col("metric")).alias("metric")
    skill = table.select(
        pl.when(flagged)
        .then(pl.col("model") + " (unhealthy fits)")
        .otherwise(pl.col("model"))
        .alias("model"),
        "horizon",
        metric,
        pl.col("mean").alias("score"),
        pl.col("lower").alias("low"),
        pl.col("upper").alias("high"),
    )
    verdicts = skill_verdicts(table).select(metric, "reference", "better", "worse", "unclear")
    return {"backtest": skill, "backtest_verdicts": verdicts}


def _sweep(con, model_run_id: str) -> Sweep | None:
    """The newest sweep run against this report's fit (so its numbers share the posterior)."""
    row = _one(
        con,
        "SELECT * FROM sweeps WHERE model_run_id = ? ORDER BY created_at DESC LIMIT 1",
        [model_run_id],
    )
    if row is None:
        return None
    grid = json.loads(row["grid_json"])
    names = tuple(grid["parameters"])
    results = con.sql(
        "SELECT parameters, pathway, mean, q05, q95 FROM sweep_results "
        "WHERE sweep_id = ? AND measure = 'pathway_at_horizon' ORDER BY point_id, pathway",
        params=[row["sweep_id"]],
    ).pl()
    points = pl.DataFrame(
        [json.loads(p) for p in results["parameters"]], schema={n: pl.Float64 for n in names}
    )
    notes = [grid.get("description", "").strip()]
    if row["driver_paths"] == "bootstrap":
        notes.append(f"Driver paths: {row['block_months']}-month blocks of historical shocks.")
    return Sweep(
        pl.concat([points, results.drop("parameters")], how="horizontal"),
        names,
        " ".join(n for n in notes if n),
        refits=row["refits"],
        unhealthy_refits=row["unhealthy_refits"],
    )


def _previous(con, info: RunInfo) -> Previous | None:
    """The newest healthy publication report before this run, for "what moved"."""
    row = _one(
        con,
        "SELECT * FROM reports WHERE healthy AND fit_mode = 'publication' AND run_id <> ? "
        "ORDER BY created_at DESC LIMIT 1",
        [info.run_id],
    )
    if row is None:
        return None
    return Previous(_stored_run(row), _stored_headline(row), json.loads(row["driver_last_json"]))


def _stored_run(row: dict) -> RunInfo:
    """A ``reports`` row as the renderers' run identity."""
    return RunInfo(
        run_id=row["run_id"],
        created_at=row["created_at"].replace(tzinfo=dt.UTC),
        data_through=row["data_through"],
        horizon=row["horizon"],
        model_run_id=row["model_run_id"],
        config_hash=row["config_hash"],
        fit_mode=row["fit_mode"],
        healthy=row["healthy"],
    )


def _stored_headline(row: dict) -> Headline:
    return Headline.from_horizon(pl.DataFrame(json.loads(row["headline_json"])), row["scenario"])


# ------------------------------------------------------------------ writing


def _files(data: ReportData, con) -> dict[str, bytes]:
    forecasts = con.sql(
        "SELECT * FROM forecasts WHERE run_id = ?",
        params=[data.run.run_id],
    ).pl()
    summaries = con.sql(
        "SELECT * FROM forecast_summaries WHERE run_id = ?",
        params=[data.run.run_id],
    ).pl()
    parquet = Path(tempfile.mkstemp(suffix=".parquet")[1])
    try:
        forecasts.write_parquet(parquet)
        parquet_bytes = parquet.read_bytes()
    finally:
        parquet.unlink(missing_ok=True)
    return {
        "report.html": render_html(data).encode(),
        "summary.md": render_markdown(data).encode(),
        "forecasts.csv": forecasts.write_csv().encode(),
        "forecasts.parquet": parquet_bytes,
        "horizon.csv": summaries.write_csv().encode(),
    }


def _report_row(data: ReportData, folder: Path, build: str) -> dict:
    """The run's ``reports`` row: where its files are and the headline the next run compares."""
    run = data.run
    drivers = data.drivers_history.drop("month").tail(1).row(0, named=True)
    horizon = data.scenario_horizon.filter(pl.col("scenario") == data.headline.scenario)
    return {
        "run_id": run.run_id,
        "created_at": run.created_at.replace(tzinfo=None),
        "model_run_id": run.model_run_id,
        "config_hash": run.config_hash,
        "fit_mode": run.fit_mode,
        "healthy": run.healthy,
        "data_through": run.data_through,
        "horizon": run.horizon,
        "scenario": data.headline.scenario,
        "headline_json": json.dumps(horizon.to_dicts()),
        "driver_last_json": json.dumps(drivers),
        "folder": str(folder),
        "build": build,
        "published_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }


def _commit_row(db_path: Path, row: dict) -> pl.DataFrame:
    """Commit the run's row (the publish's commit point) and return every ``reports`` row."""
    with connect(db_path) as con:
        write_rows(
            con,
            {"reports": pl.DataFrame([row])},
            replace_on={"reports": "run_id"},  # publishing a run again refreshes its row
        )
        return _published(con)


def _published(con) -> pl.DataFrame:
    return con.sql("SELECT * FROM reports ORDER BY published_at DESC, created_at DESC").pl()


def latest_run(rows: pl.DataFrame) -> str | None:
    """The run ``latest`` shows: the healthy publication report published last."""
    eligible = rows.filter(pl.col("healthy") & (pl.col("fit_mode") == "publication"))
    if not eligible.height:
        return None
    return eligible.sort("published_at", descending=True, nulls_last=True)["run_id"][0]


def show_published(reports_dir: Path, rows: pl.DataFrame) -> str | None:
    """Make the reports folder show exactly the committed rows; return the ``latest`` run.

    In this order, each step durable before the next: every run's link to its build, the
    index, then ``latest`` (so ``latest`` never points at a report the index does not list),
    then superseded builds go. Idempotent: a publish killed anywhere after its commit leaves
    the old index and ``latest`` (or the new index and the old ``latest``), and the next
    publish finishes the job.
    """
    for row in rows.iter_rows(named=True):
        if row["build"] is not None:  # null: a real folder from before builds existed
            report_folder.link_run(reports_dir, row["run_id"], row["build"])
    latest = latest_run(rows)
    report_folder.write_index(reports_dir, _index_html(rows, latest))
    if latest is not None:
        report_folder.point_latest(reports_dir, latest)
    current = {r: b for r, b in rows.select("run_id", "build").rows() if b is not None}
    report_folder.remove_unused(reports_dir, current)
    return latest


def _index_html(rows: pl.DataFrame, latest: str | None) -> str:
    entries = [
        RunEntry(_stored_run(row), f"{row['run_id']}/report.html", _stored_headline(row))
        for row in rows.sort("created_at", descending=True).iter_rows(named=True)
    ]
    return render_index(entries, latest)


@flow(name="publish")
def publish(
    db_path: Path | None = None,
    forecast_run_id: str | None = None,
    reports_dir: Path | None = None,
) -> PublishRecord:
    """Render and store the report of a forecast run; move ``latest`` only if it is healthy.

    The order makes a kill at any point safe: the report's build is written and fsynced, then
    its ``reports`` row is committed (the commit point: before it, the folder and the
    warehouse still show the old state), then the folder is made to show the committed rows
    (:func:`show_published`). Every publish first finishes one that was killed after its commit.
    """
    db_path = Path(db_path or settings.warehouse_path())
    reports_dir = Path(reports_dir or settings.var_dir() / "reports")
    with report_folder.lock(reports_dir):
        with connect(db_path) as con:
            data = gather(con, forecast_run_id)
            files = _files(data, con)
            show_published(reports_dir, _published(con))
        run = data.run
        build = report_folder.write_build(reports_dir, run.run_id, files)
        folder = reports_dir / run.run_id
        rows = _commit_row(db_path, _report_row(data, folder, build))
        latest = show_published(reports_dir, rows)
    is_latest = latest == run.run_id
    record_report_artifacts(data, files["summary.md"].decode(), folder, is_latest)
    return PublishRecord(
        run.run_id, folder, run.healthy, reports_dir / "latest" if is_latest else None
    )
