"""What a report says about meaning and priors: the fit's months beside the essay's rules, and
the spread of P(DC) across the newest prior sweep of the fit.

Both are read from what the fit and the sweep stored (``pathway_classification``, the
validity columns of ``model_runs``, ``sweeps``), so the report shows the numbers the gate
used, not a recomputation that could drift from them.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl

from models.validity import MIN_RULE_AGREEMENT
from reports.content import PathwayCheck, PriorSpread

# The report lists the timeline's summits and agreements from the second Trump term on: the
# truces (Geneva, London, Stockholm, Busan) the forecast starts from.
SECOND_TERM = dt.date(2025, 1, 20)
TALKS = ("summit", "agreement")
# The timeline's categories of new restrictions (the rules' ``restrictive_events``): a summit
# month that also holds them is read together with them, by the rules and by the model.
RESTRICTIONS = ("tariffs", "export_controls", "security")


def pathway_check(con, fit: dict) -> PathwayCheck | None:
    """The fit's months by the rules, its most likely path and the labels (None for fits
    recorded before validity was measured)."""
    from models.data import STATES
    from models.drivers import timeline_labels

    if fit.get("rules_version") is None:
        return None
    rules = con.sql(
        "SELECT month, pathway AS rules, rule, evidence FROM pathway_classification "
        "WHERE run_id = ? ORDER BY month",
        params=[fit["run_id"]],
    ).pl()
    probs = con.sql(
        "PIVOT (SELECT month, pathway, smoothed FROM regime_probabilities WHERE run_id = ?) "
        "ON pathway IN ('DC', 'SE', 'MC') USING first(smoothed) ORDER BY month",
        params=[fit["run_id"]],
    ).pl()
    model = probs.select(
        "month",
        pl.Series("model", [STATES[i] for i in probs.select(STATES).to_numpy().argmax(axis=1)]),
        pl.col("MC").alias("p_mc"),
    )
    window = con.sql(
        "SELECT * FROM panel_monthly WHERE month BETWEEN ? AND ? ORDER BY month",
        params=[fit["first_month"], fit["last_month"]],
    ).pl()
    codes = np.array([None, *STATES], dtype=object)[timeline_labels(window) + 1]
    labels = pl.DataFrame({"month": window["month"], "label": codes.tolist()})
    labels = labels.cast({"label": pl.String})
    months = model.join(rules, on="month", how="left").join(labels, on="month", how="left")
    months = months.with_columns(pl.col("rule").fill_null("unclassifiable"),
                                 pl.col("evidence").fill_null(""))  # fmt: skip
    events = con.sql(
        "SELECT date, event FROM raw_timeline WHERE date >= ? AND category IN ? ORDER BY date",
        params=[SECOND_TERM, list(TALKS)],
    ).pl()
    restrictions = con.sql(
        "SELECT date_trunc('month', date)::DATE AS month, "
        "string_agg(strftime(date, '%Y-%m-%d') || ': ' || event, '; ' ORDER BY date) "
        "AS restrictions FROM raw_timeline WHERE date >= ? AND category IN ? GROUP BY 1",
        params=[SECOND_TERM, list(RESTRICTIONS)],
    ).pl()
    events = (
        events.with_columns(month=pl.col("date").dt.truncate("1mo"))
        .join(months.select("month", "rules", "model", "p_mc", "label"), on="month", how="left")
        .join(restrictions, on="month", how="left")
    )
    return PathwayCheck(
        months=months.select("month", "rules", "rule", "evidence", "model", "label", "p_mc"),
        events=events.select("date", "event", "rules", "model", "p_mc", "label", "restrictions"),
        rules_version=fit["rules_version"],
        rule_agreement=fit["rule_agreement"],
        rule_months=fit["rule_months"],
        rule_constant=fit["rule_constant"],
        label_agreement=fit["label_agreement"],
        label_months=fit["label_months"],
        label_constant=fit["label_constant"],
        label_modal=fit["label_modal"],
        min_rule_agreement=MIN_RULE_AGREEMENT,
    )


def prior_spread(con, model_run_id: str, horizon: dt.date) -> PriorSpread | None:
    """The newest prior sweep of this fit at this horizon that stored its spread."""
    from models.prior_axes import PRIOR_DETERMINED_SPREAD

    rows = con.sql(
        "SELECT sweep_id, grid_json, dc_at_horizon_min, dc_at_horizon_max, prior_determined "
        "FROM sweeps WHERE model_run_id = ? AND prior_determined IS NOT NULL "
        "ORDER BY created_at DESC",
        params=[model_run_id],
    ).pl()
    for row in rows.iter_rows(named=True):
        swept = dt.date.fromisoformat(f"{json.loads(row['grid_json'])['horizon']}-01")
        if swept == horizon:
            [(refits, invalid)] = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE NOT m.valid) FROM (SELECT DISTINCT "
                "refit_model_run_id FROM sweep_results WHERE sweep_id = ? AND from_refit) r "
                "JOIN model_runs m ON m.run_id = r.refit_model_run_id",
                [row["sweep_id"]],
            ).fetchall()
            [(valid_low, valid_high)] = con.execute(
                "SELECT min(r.mean), max(r.mean) FROM sweep_results r JOIN model_runs m "
                "ON m.run_id = r.refit_model_run_id WHERE r.sweep_id = ? AND r.refit_healthy "
                "AND m.valid AND r.measure = 'pathway_at_horizon' AND r.pathway = 'DC'",
                [row["sweep_id"]],
            ).fetchall()
            return PriorSpread(
                sweep_id=row["sweep_id"],
                horizon=swept,
                low=row["dc_at_horizon_min"],
                high=row["dc_at_horizon_max"],
                threshold=PRIOR_DETERMINED_SPREAD,
                prior_determined=bool(row["prior_determined"]),
                refits=refits,
                invalid_refits=invalid,
                valid_low=valid_low,
                valid_high=valid_high,
            )
    return None


def fit_validity_line(con) -> str | None:
    """One line on the newest fit (of ``winset fit`` or ``winset run``) for ``winset status``:
    its health, its validity and, when a prior sweep of it stored one, the prior verdict."""
    fit = con.sql(
        "SELECT run_id, mode, healthy, valid, rule_agreement, rule_months, label_agreement, "
        "label_months, label_constant, label_modal, validity_problems FROM model_runs "
        "WHERE purpose = 'fit' ORDER BY created_at DESC LIMIT 1"
    ).pl()
    if fit.is_empty():
        return None
    row = fit.row(0, named=True)
    health = "healthy" if row["healthy"] else "UNHEALTHY"
    if row["valid"] is None:
        validity = "validity not measured (fitted before the pathway rules)"
    else:
        rules = row["rule_agreement"]
        labels = row["label_agreement"]
        validity = (
            f"{'valid' if row['valid'] else 'NOT VALID'}: agrees with the pathway rules in "
            f"{_share(rules)} of {row['rule_months']} classifiable months (gate "
            f"{MIN_RULE_AGREEMENT:.0%}) and with the timeline labels in {_share(labels)} of "
            f"{row['label_months']} (always {row['label_modal']}: {_share(row['label_constant'])})"
        )
    line = f"Newest fit {row['run_id']} ({row['mode']}): {health}; {validity}."
    sweep = con.sql(
        "SELECT sweep_id, dc_at_horizon_min AS low, dc_at_horizon_max AS high, prior_determined "
        "FROM sweeps WHERE model_run_id = ? AND prior_determined IS NOT NULL "
        "ORDER BY created_at DESC LIMIT 1",
        params=[row["run_id"]],
    ).pl()
    if sweep.height:
        s = sweep.row(0, named=True)
        verdict = "PRIOR-DETERMINED" if s["prior_determined"] else "not prior-determined"
        line += (
            f" Prior sweep {s['sweep_id']}: {verdict} (P(DC) at the horizon "
            f"{_share(s['low'])}-{_share(s['high'])})."
        )
    return line


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"
