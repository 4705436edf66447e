"""The resolution ledger: every published forecast recorded once, resolved when the data come.

:func:`record_forecast` (called by ``publish``) stores what a forecast run said: per forecaster
(the model, through :mod:`models.observables`; the same fit with its driver effects switched
off; the random walk; climatology, all from the data known at publication) and observed
series, the predictive quantiles and quantile draws at 1, 3, 6 and 12 months and January 2029,
and each question's probability (``data/questions.yaml``, :mod:`models.questions`). It is
idempotent on the run id: a run already in the ledger is left as it is.

:func:`resolve_due` (called by ``pipeline`` after each panel refresh) scores every stored entry
whose month the panel now holds, with the panel's hash as the vintage that resolved it.
Resolved entries are never rescored: when a later vintage changes a value that already
resolved entries, the change is noted in ``ledger_revisions`` and the scores stay.

Why the no-driver reference is the same fit with its effects off, not a second fit: a second
fit at every publication would double the cost of a monthly run; switching the effects off
keeps the intercepts that were learnt with the drivers present, so it measures what the
drivers add to this fit's forecast (the backtest's no-driver HMM is refitted and answers the
broader question).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from flows import settings
from flows.forecast import ForecastError, StoredFit, load_fitted
from flows.ledger_store import insert_only
from flows.panel import frame_hash
from flows.sources import SOURCES
from flows.warehouse import connect, table_status
from models import backtest as bt
from models import ledger
from models import track_record as history
from models.fitted import FittedModel
from models.observables import TransitionDraws, emissions_from_posterior
from models.questions import (
    OPS,
    Question,
    last_observed,
    load_questions,
    probability,
    series_frame,
    value_at,
)
from reports.track_record import TrackRecord

N_PREDICTIVE = 4000  # draws per forecaster, series and month before the stored quantile draws


def questions_file() -> Path:
    return settings.data_dir() / "questions.yaml"


@dataclass(frozen=True)
class LedgerRecord:
    run_id: str
    recorded: bool  # False: already in the ledger, or not recordable (see ``skipped``)
    quantities: int = 0
    questions: int = 0
    skipped: str | None = None

    def describe(self) -> str:
        if self.skipped:
            return f"Ledger: forecast {self.run_id} not recorded ({self.skipped})."
        if not self.recorded:
            return f"Ledger: forecast {self.run_id} is already recorded (left as it was)."
        return (
            f"Ledger: recorded forecast {self.run_id}: {self.quantities} predictive "
            f"distributions and {self.questions} question probabilities."
        )


def _recorded(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    sql = "SELECT count(*) FROM ledger_entries WHERE run_id = ?"
    [(n,)] = con.execute(sql, [run_id]).fetchall()
    return n > 0


def record_forecast(
    db_path: Path, forecast_run_id: str | None = None, questions_path: Path | None = None
) -> LedgerRecord | None:
    """Store a forecast run's ledger entry (default: the newest run, as ``publish`` picks it)
    once; a recorded run is left as it is. None when there is no such forecast run."""
    with connect(db_path, read_only=True) as con:
        found = con.sql(
            "SELECT * FROM forecast_runs WHERE ? IS NULL OR run_id = ? "
            "ORDER BY created_at DESC LIMIT 1",
            params=[forecast_run_id, forecast_run_id],
        ).pl()
        if not found.height:
            return None
        run = found.row(0, named=True)
        forecast_run_id = str(run["run_id"])
        if _recorded(con, forecast_run_id):
            return LedgerRecord(forecast_run_id, recorded=False)
        panel = con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
        vintage = {
            s.source: s.last.strftime("%Y-%m") if s.last else None
            for s in table_status(con, list(SOURCES.values()))
        }
    try:
        stored = load_fitted(db_path, run["model_run_id"])
    except ForecastError as exc:  # the panel moved on since the fit: its draws cannot be rebuilt
        return LedgerRecord(forecast_run_id, recorded=False, skipped=str(exc))
    questions = load_questions(questions_path or questions_file(), tuple(panel.columns)).questions
    origin = run["origin_month"]
    seed = zlib.crc32(forecast_run_id.encode())
    frames = entry_frames(stored, panel, questions, origin, seed)
    frames["ledger_entries"] = pl.DataFrame(
        [
            {
                "run_id": forecast_run_id,
                "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "model_run_id": run["model_run_id"],
                "config_hash": stored.run["config_hash"],
                "panel_hash": frame_hash(panel),
                "origin": origin,
                "source_months_json": json.dumps(vintage, sort_keys=True),
                "n_draws": ledger.N_STORED_DRAWS,
            }
        ]
    )
    for name in ("ledger_quantities", "ledger_questions"):
        frames[name] = frames[name].with_columns(run_id=pl.lit(forecast_run_id))
    with connect(db_path) as con:
        insert_only(con, frames)
    return LedgerRecord(
        forecast_run_id,
        recorded=True,
        quantities=frames["ledger_quantities"].height,
        questions=frames["ledger_questions"].height,
    )


def entry_frames(
    stored: StoredFit,
    panel: pl.DataFrame,
    questions: tuple[Question, ...],
    origin: dt.date,
    seed: int,
) -> dict[str, pl.DataFrame]:
    """The entry's quantity and question rows (without the run id) from every forecaster."""
    config = stored.model.config
    asked = [q for q in questions if q.asked_at(origin)]
    targets = [t for _, t in ledger.horizons(origin)] + [q.target(origin) for q in asked]
    steps = max(ledger.months_between(origin, t) for t in targets)
    draws = _all_draws(stored.model, panel, [q.series for q in asked], origin, steps, seed)
    quantities = []
    for (forecaster, series), paths in draws.items():
        if series not in config.series:
            continue  # series read only by questions: answered, not stored as quantities
        for label, target in ledger.horizons(origin):
            sample = paths[ledger.months_between(origin, target) - 1]
            quantities.append(
                {"forecaster": forecaster, "series": series, "horizon": label,
                 "target_month": target, **ledger.summary(sample),
                 "draws": ledger.quantile_draws(sample).tolist()}
            )  # fmt: skip
    history = series_frame(panel.filter(pl.col("month") <= origin), [q.series for q in asked])
    answers = []
    for q in asked:
        seen = last_observed(history, q.series, origin)
        threshold = q.threshold_at(seen[1] if seen else None)
        if threshold is None:
            continue
        lead = ledger.months_between(origin, q.target(origin))
        for forecaster in ledger.FORECASTERS:
            paths = draws.get((forecaster, q.series))
            p = None if paths is None else probability(q, paths[lead - 1], threshold)
            answers.append(
                {"question_id": q.id, "forecaster": forecaster, "text": q.text,
                 "resolves": q.resolves, "series": q.series, "target_month": q.target(origin),
                 "op": q.op, "threshold": threshold, "probability": p}
            )  # fmt: skip
    return {
        "ledger_quantities": pl.DataFrame(
            quantities, schema_overrides={"draws": pl.List(pl.Float64)}
        ),
        "ledger_questions": pl.DataFrame(answers, schema_overrides={"probability": pl.Float64}),
    }


def _all_draws(
    model: FittedModel,
    panel: pl.DataFrame,
    extra: list[str],
    origin: dt.date,
    steps: int,
    seed: int,
) -> dict[tuple[str, str], np.ndarray]:
    """(forecaster, series) -> (steps, N) draws of months 1..steps after the origin."""
    config, data = model.config, model.data
    posterior = bt.posterior_draws(model)
    transitions = TransitionDraws(posterior.alpha, posterior.beta, posterior.p0)
    emissions = emissions_from_posterior(model)
    n_paths = -(-N_PREDICTIVE // posterior.p0.shape[0])  # at least N_PREDICTIVE draws in all
    paths = bt.driver_paths(data, n_paths, steps, seed) if config.drivers else None
    out: dict[tuple[str, str], np.ndarray] = {}
    for name, trans, drivers in (
        ("model", transitions, paths),
        ("no_drivers", dataclasses.replace(transitions, beta=None), None),
    ):
        draws = ledger.model_draws(trans, emissions, drivers, origin, steps, N_PREDICTIVE, seed)
        out.update({(name, series): d for series, d in draws.items()})
    start = dt.date.fromisoformat(f"{config.start}-01")
    names = list(dict.fromkeys([*config.series, *extra]))
    window = panel.filter((pl.col("month") >= start) & (pl.col("month") <= origin))
    history = series_frame(window, names)
    for i, series in enumerate(names):
        refs = ledger.reference_draws(history[series].to_numpy(), steps, N_PREDICTIVE, seed + i)
        for name, paths in (refs or {}).items():
            out[(name, series)] = paths
    return out


# ------------------------------------------------------------------ resolution


@dataclass(frozen=True)
class Resolutions:
    quantities: int  # entries (forecaster x series x horizon) scored now
    questions: int  # question answers (forecaster x question) scored now
    revisions: int  # values changed since they resolved entries, noted now

    def describe(self) -> str:
        return (
            f"Ledger: resolved {self.quantities} predictive distributions and {self.questions} "
            f"question answers; {self.revisions} revised outcomes noted (not rescored)."
        )


def resolve_due(db_path: Path) -> Resolutions:
    """Score every ledger entry whose month the stored panel now holds, once."""
    with connect(db_path, read_only=True) as con:
        panel = con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
        quantities = con.sql(
            "SELECT q.* FROM ledger_quantities q ANTI JOIN ledger_resolutions r "
            "ON r.kind = 'quantity' AND q.run_id = r.run_id AND q.series = r.item "
            "AND q.horizon = r.horizon AND q.forecaster = r.forecaster"
        ).pl()
        questions = con.sql(
            "SELECT q.* FROM ledger_questions q ANTI JOIN ledger_resolutions r "
            "ON r.kind = 'question' AND q.run_id = r.run_id AND q.question_id = r.item "
            "AND q.forecaster = r.forecaster"
        ).pl()
        resolved = con.sql(
            "SELECT DISTINCT CASE WHEN kind = 'quantity' THEN item ELSE q.series END AS series, "
            "r.target_month, r.observed FROM ledger_resolutions r LEFT JOIN ledger_questions q "
            "ON r.kind = 'question' AND q.run_id = r.run_id AND q.question_id = r.item "
            "AND q.forecaster = r.forecaster"
        ).pl()
        noted = con.sql("SELECT series, target_month, revised_value FROM ledger_revisions").pl()
    names = {*quantities["series"], *questions["series"], *resolved["series"]}
    values = series_frame(panel, sorted(names))
    vintage = frame_hash(panel)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = _score_quantities(quantities, values) + _score_questions(questions, values)
    resolutions = pl.DataFrame(rows, schema=RESOLUTION_SCHEMA).with_columns(
        panel_hash=pl.lit(vintage), resolved_at=pl.lit(now)
    )
    revisions = _revisions(resolved, noted, values).with_columns(
        panel_hash=pl.lit(vintage), noted_at=pl.lit(now)
    )
    with connect(db_path) as con:
        insert_only(con, {"ledger_resolutions": resolutions, "ledger_revisions": revisions})
    kinds = resolutions["kind"]
    return Resolutions(
        int((kinds == "quantity").sum()), int((kinds == "question").sum()), revisions.height
    )


RESOLUTION_SCHEMA = {
    "run_id": pl.String,
    "kind": pl.String,
    "item": pl.String,
    "horizon": pl.String,
    "forecaster": pl.String,
    "target_month": pl.Date,
    "observed": pl.Float64,
    "outcome": pl.Boolean,
    "forecast": pl.Float64,
    "crps": pl.Float64,
    "brier": pl.Float64,
    "log_score": pl.Float64,
    "pit": pl.Float64,
}


def _score_quantities(due: pl.DataFrame, values: pl.DataFrame) -> list[dict]:
    rows = []
    for entry in due.iter_rows(named=True):
        y = value_at(values, entry["series"], entry["target_month"])
        if y is None:
            continue  # not yet published for that month
        scores = ledger.quantity_scores(y, np.asarray(entry["draws"]))
        rows.append(
            {"run_id": entry["run_id"], "kind": "quantity", "item": entry["series"],
             "horizon": entry["horizon"], "forecaster": entry["forecaster"],
             "target_month": entry["target_month"], "observed": y, "outcome": None,
             "forecast": None, "brier": None, **scores}
        )  # fmt: skip
    return rows


def _score_questions(due: pl.DataFrame, values: pl.DataFrame) -> list[dict]:
    rows = []
    for entry in due.iter_rows(named=True):
        y = value_at(values, entry["series"], entry["target_month"])
        if y is None:
            continue
        outcome = bool(OPS[entry["op"]](np.float64(y), entry["threshold"]))
        p = entry["probability"]
        scores = ledger.question_scores(p, outcome) if p is not None else {}
        rows.append(
            {"run_id": entry["run_id"], "kind": "question", "item": entry["question_id"],
             "horizon": "", "forecaster": entry["forecaster"],
             "target_month": entry["target_month"], "observed": y, "outcome": outcome,
             "forecast": p, "crps": None, "pit": None, "brier": scores.get("brier"),
             "log_score": scores.get("log_score")}
        )  # fmt: skip
    return rows


def _revisions(resolved: pl.DataFrame, noted: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """Values that differ now from the value that resolved entries, not yet noted."""
    rows = []
    seen = {(s, m, v) for s, m, v in noted.iter_rows()}
    for series, month, observed in resolved.iter_rows():
        now = value_at(values, series, month)
        if now is None or np.isclose(now, observed, rtol=1e-12, atol=1e-12):
            continue
        if (series, month, now) not in seen:
            seen.add((series, month, now))
            rows.append(
                {"series": series, "target_month": month, "resolved_value": observed,
                 "revised_value": now}
            )  # fmt: skip
    schema = {"series": pl.String, "target_month": pl.Date, "resolved_value": pl.Float64,
              "revised_value": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


# ------------------------------------------------------------------ the report's view


def track_record(con: duckdb.DuckDBPyConnection) -> TrackRecord | None:
    """The ledger as the report shows it; None before any forecast was recorded."""
    [(recorded,)] = con.execute("SELECT count(*) FROM ledger_entries").fetchall()
    if not recorded:
        return None
    resolutions = con.sql("SELECT * FROM ledger_resolutions").pl()
    [(open_items,)] = con.execute(
        "SELECT (SELECT count(*) FROM ledger_quantities q ANTI JOIN ledger_resolutions r "
        "ON r.kind = 'quantity' AND q.run_id = r.run_id AND q.series = r.item "
        "AND q.horizon = r.horizon AND q.forecaster = r.forecaster) + "
        "(SELECT count(*) FROM ledger_questions q ANTI JOIN ledger_resolutions r "
        "ON r.kind = 'question' AND q.run_id = r.run_id AND q.question_id = r.item "
        "AND q.forecaster = r.forecaster)"
    ).fetchall()
    questions = con.sql(
        "PIVOT (SELECT r.run_id, e.origin, r.item AS question_id, q.text, r.target_month, "
        "q.threshold, q.op, r.observed, r.outcome, r.forecaster, r.forecast "
        "FROM ledger_resolutions r JOIN ledger_questions q ON q.run_id = r.run_id "
        "AND q.question_id = r.item AND q.forecaster = r.forecaster "
        "JOIN ledger_entries e ON e.run_id = r.run_id WHERE r.kind = 'question') "
        "ON forecaster IN ('model', 'no_drivers', 'random_walk', 'climatology') "
        "USING first(forecast)"
    ).pl()
    return TrackRecord(
        scores=history.cumulative_scores(resolutions),
        reliability=history.reliability(resolutions),
        pit_counts=tuple(int(c) for c in history.pit_histogram(resolutions)),
        questions=questions,
        recorded=int(recorded),
        open=int(open_items),
        revisions=con.sql("SELECT * FROM ledger_revisions ORDER BY target_month").pl(),
    )
