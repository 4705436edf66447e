"""The ``fit`` flow: panel -> model data -> posterior, diagnostics and a ``model_runs`` record.

The warehouse is opened twice, briefly: once to read the panel and once, after sampling, to
write the run's record, its regime probabilities, its prior-vs-posterior table and how each
driver month was filled (``driver_flags``) in one transaction. Sampling (a minute or more) never
holds the DuckDB lock. Those rows are kept on disk until they are committed
(``flows.kept_fits``), so a warehouse that is busy or full at that moment never loses a finished
fit: the next fit or run records it. A fit that fails the health gate is recorded with ``healthy
= false`` and its problems, and is never used.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows import settings
from flows.kept_fits import discard, keep, record_kept
from flows.panel import TABLES, build_panel, frame_hash
from flows.warehouse import WarehouseError, connect, read_tables, replace_tables, write_rows
from models.pathway_rules import load_rules


@dataclass(frozen=True)
class FitRecord:
    run_id: str
    mode: str
    healthy: bool
    problems: tuple[str, ...]
    diagnostics: dict
    posterior_path: Path
    wall_seconds: float
    config_hash: str
    data_hash: str
    validity_problems: tuple[str, ...] = ()  # models/validity.py: published, failure stated

    def describe(self) -> str:
        d = self.diagnostics
        status = "healthy" if self.healthy else "UNHEALTHY: " + "; ".join(self.problems)
        validity = (
            "; NOT VALID: " + "; ".join(self.validity_problems) if self.validity_problems else ""
        )
        return (
            f"Fit {self.run_id} ({self.mode}, {self.wall_seconds:.0f} s): {status}{validity}. "
            f"max R-hat {d['max_rhat']:.3f}, min bulk ESS {d['min_ess_bulk']:.0f}, "
            f"divergences {d['divergences']}. Posterior: {self.posterior_path}"
        )


def load_config(path: Path | None, fast: bool):
    """The model config from YAML (publication settings, or ``fast()`` for tests/sweeps)."""
    from models.config import from_yaml

    config = from_yaml(path or settings.model_config_path())
    return config.fast() if fast else config


def read_panel(db_path: Path) -> pl.DataFrame:
    """The stored panel, or one built from the raw tables if none has been stored yet."""
    with connect(db_path) as con:
        present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "panel_monthly" in present:
            return con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
        panel = build_panel(read_tables(con, TABLES))
        replace_tables(con, {"panel_monthly": panel.frame, "panel_coverage": panel.coverage})
        return panel.frame


@task(cache_policy=NONE, task_run_name="sample-posterior")
def sample(panel: pl.DataFrame, config, rules, run_id: str, posterior_dir: Path) -> dict:
    """Fit, save the posterior, and compute what the warehouse and reports need."""
    from models.checks import predictive_checks
    from models.drivers import model_data
    from models.effects import prior_posterior
    from models.fit import fit
    from models.pathway_rules import classify, labels_frame
    from models.posterior_io import save_posterior
    from models.states import state_probabilities
    from models.validity import assess, most_likely_path

    start = dt.date.fromisoformat(f"{config.start}-01")
    data, drivers = model_data(
        panel, config.series, config.drivers, start, None, config.composites, tuple(config.counts)
    )
    result = fit(data, config)
    path = save_posterior(result, posterior_dir / f"{run_id}.nc")
    probs = state_probabilities(result.model)
    checks = predictive_checks(result.model, seed=config.sampler.seed)
    classification = classify(panel, rules).filter(pl.col("month") >= start)
    validity = assess(
        most_likely_path(probs.months, probs.mean_smoothed),
        classification,
        labels_frame(result.data.months, result.data.labels),
        rules.version,
    )
    return {
        "result": result,
        "path": path,
        "regimes": _regime_frame(probs, run_id),
        "effects": prior_posterior(result.idata, config, include_alpha=True).with_columns(
            pl.lit(run_id).alias("run_id")
        ),
        "checks": checks.summary(),
        "driver_flags": drivers.flags.with_columns(pl.lit(run_id).alias("run_id")),
        "classification": classification.with_columns(pl.lit(run_id).alias("run_id")),
        "validity": validity,
    }


def _regime_frame(probs, run_id: str) -> pl.DataFrame:
    from models.data import STATES

    months = probs.months.astype("datetime64[D]").astype(dt.date)
    filtered, smoothed = probs.mean_filtered, probs.mean_smoothed
    return pl.DataFrame(
        {
            "run_id": run_id,
            "month": [m for m in months for _ in STATES],
            "pathway": list(STATES) * len(months),
            "filtered": filtered.reshape(-1),
            "smoothed": smoothed.reshape(-1),
        }
    )


@flow(name="fit")
def fit_model(
    db_path: Path | None = None, config_path: Path | None = None, fast: bool = False
) -> FitRecord:
    """Fit the pathway model on the stored panel and record the run (healthy or not)."""
    db_path = Path(db_path or settings.warehouse_path())
    config = load_config(config_path, fast)
    return fit_and_record(db_path, config, mode="fast" if fast else "publication")


def fit_and_record(db_path: Path, config, mode: str, purpose: str = "fit") -> FitRecord:
    """Fit ``config`` on the stored panel, save the posterior and record the run in
    ``model_runs`` (with its regime probabilities and effects), healthy or not.

    Shared by ``winset fit`` and the sweep's prior refits (``purpose="prior_sweep"``), so a
    refit is recorded exactly like any fit; ``purpose`` keeps refits with changed priors from
    being picked as "the newest healthy fit" by forecasts that name no fit.
    """
    run_id = f"fit-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    posterior_dir = settings.posterior_dir()
    record_kept(posterior_dir, db_path)
    panel = read_panel(db_path)
    rules = load_rules(settings.pathway_rules_path())  # a bad file fails before any sampling
    out = sample(panel, config, rules, run_id, posterior_dir)
    result = out["result"]
    diag = result.diagnostics
    months = result.data.months.astype("datetime64[D]").astype(dt.date)
    record = {
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "config_hash": config.config_hash(),
        "data_hash": result.data_hash,
        "panel_hash": frame_hash(panel),
        "config_json": config.stored_json(),
        "mode": mode,
        "purpose": purpose,
        "backend": result.sampler,
        "chains": diag.chains,
        "draws": diag.draws,
        "seed": config.sampler.seed,
        "first_month": months[0],
        "last_month": months[-1],
        "wall_seconds": result.wall_seconds,
        "max_rhat": diag.max_rhat,
        "min_ess_bulk": float(diag.min_ess_bulk),
        "min_ess_tail": float(diag.min_ess_tail),
        "divergences": diag.divergences,
        "min_bfmi": diag.min_bfmi,
        "healthy": diag.healthy,
        "problems": "; ".join(diag.problems()),
        "checks_json": json.dumps(out["checks"], sort_keys=True, default=float),
        "posterior_path": str(out["path"]),
        **out["validity"].record(),
    }
    rows = {
        "model_runs": pl.DataFrame([record]),
        "regime_probabilities": out["regimes"],
        "model_effects": out["effects"],
        "driver_flags": out["driver_flags"],
        "pathway_classification": out["classification"],
    }
    kept = keep(posterior_dir, run_id, db_path, rows)
    try:
        with connect(db_path) as con:
            write_rows(con, rows)
    except WarehouseError as exc:
        raise type(exc)(
            f"{exc}. The finished fit {run_id} is kept (posterior {out['path']}, rows in "
            f"{kept}) and is recorded by the next `winset fit` or `winset run` on this warehouse"
        ) from exc
    discard(kept)
    fit_record = FitRecord(
        run_id=run_id,
        mode=record["mode"],
        healthy=diag.healthy,
        problems=tuple(diag.problems()),
        diagnostics=diag.as_dict(),
        posterior_path=Path(out["path"]),
        wall_seconds=result.wall_seconds,
        config_hash=record["config_hash"],
        data_hash=result.data_hash,
        validity_problems=out["validity"].problems,
    )
    get_run_logger().info(fit_record.describe())
    return fit_record
