"""Many-origin evaluation on observables: scores per forecast, skill against references with
intervals that respect overlapping horizons, interval coverage, and the headline sentence.

Why observables and not the timeline's labels: labels are sparse and ordinal scores on them
hand the uniform forecast a mechanical win; the observables are measured every month and every
reference can forecast them. Scores are *lower is better* (:mod:`models.proper_scores`).

Intervals. Forecasts ``h`` months ahead from consecutive monthly origins share ``h - 1``
months of realised path, so per-origin score differences are autocorrelated up to lag
``h - 1``: each mean difference gets a Diebold–Mariano interval with Newey–West variance at
that lag. The target ``all`` sums the log scores of every series observed at a target month
(log scores of different series add; their CRPS, in different units, do not), which is what
the headline reads.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from models import proper_scores as ps

ALL = "all"
HMM, NO_DRIVERS = "hmm", "hmm_no_drivers"
METRICS: tuple[str, ...] = ("crps", "log_score")
LEVEL = 0.9
SCORE_SCHEMA = {
    "origin": pl.Date,
    "model": pl.String,
    "lead": pl.Int64,
    "target": pl.String,
    "target_month": pl.Date,
    "observed": pl.Float64,
    "pred_mean": pl.Float64,
    "crps": pl.Float64,
    "log_score": pl.Float64,
    "pit": pl.Float64,
    "in50": pl.Boolean,
    "in90": pl.Boolean,
}


def month_after(origin: dt.date, lead: int) -> dt.date:
    month = np.datetime64(origin, "M") + np.timedelta64(lead, "M")
    return month.astype("datetime64[D]").astype(dt.date)


def score_forecast(
    origin: dt.date,
    model: str,
    leads: tuple[int, ...],
    names: tuple[str, ...],
    draws: np.ndarray,
    observed: np.ndarray,
) -> pl.DataFrame:
    """One row per (lead, series) with an observation: scores, PIT and whether the outcome
    fell inside the central 50% and 90% intervals. ``draws`` (leads, series, N), ``observed``
    (leads, series) with NaN for months without an observation."""
    rows = []
    seen = np.isfinite(observed)
    crps = np.where(seen, ps.crps(draws, np.where(seen, observed, 0.0)), np.nan)
    log = np.where(seen, ps.log_score_kde(draws, np.where(seen, observed, 0.0)), np.nan)
    q = np.quantile(draws, [0.05, 0.25, 0.75, 0.95], axis=-1)
    for i, lead in enumerate(leads):
        for j, name in enumerate(names):
            if not seen[i, j]:
                continue
            y = float(observed[i, j])
            rows.append(
                {
                    "origin": origin,
                    "model": model,
                    "lead": lead,
                    "target": name,
                    "target_month": month_after(origin, lead),
                    "observed": y,
                    "pred_mean": float(draws[i, j].mean()),
                    "crps": float(crps[i, j]),
                    "log_score": float(log[i, j]),
                    "pit": float(np.mean(draws[i, j] <= y)),
                    "in50": bool(q[1, i, j] <= y <= q[2, i, j]),
                    "in90": bool(q[0, i, j] <= y <= q[3, i, j]),
                }
            )
    return pl.DataFrame(rows, schema=SCORE_SCHEMA)


def _with_all(scores: pl.DataFrame) -> pl.DataFrame:
    """Per-series rows plus, per (origin, model, lead), the log scores summed over series."""
    total = scores.group_by("origin", "model", "lead").agg(
        pl.lit(ALL).alias("target"),
        pl.col("target").sort().str.join(",").alias("series"),
        pl.lit(None, dtype=pl.Float64).alias("crps"),
        pl.col("log_score").sum(),
    )
    parts = scores.select("origin", "model", "lead", "target", "crps", "log_score")
    return pl.concat([parts.with_columns(series=pl.col("target")), total], how="diagonal")


def skill_table(scores: pl.DataFrame, level: float = LEVEL) -> pl.DataFrame:
    """Every model against every other as reference, per target (and ``all``), lead and
    metric: mean scores, skill ``1 - model / reference``, and the mean difference with its
    Diebold–Mariano interval (origins in order, Newey–West lag ``lead - 1``). Pairs are the
    forecasts both made for the same origin, lead and series (for ``all``: the same set)."""
    frame = _with_all(scores)
    models = frame["model"].unique(maintain_order=True).to_list()
    rows = []
    keys = ["origin", "lead", "target", "series"]
    for ref in models:
        other = frame.filter(pl.col("model") == ref).select(
            *keys, pl.col("crps").alias("ref_crps"), pl.col("log_score").alias("ref_log")
        )
        for model in models:
            if model == ref:
                continue
            paired = frame.filter(pl.col("model") == model).join(other, on=keys).sort("origin")
            for (target, lead), g in paired.group_by("target", "lead", maintain_order=True):
                for metric, ref_col in (("crps", "ref_crps"), ("log_score", "ref_log")):
                    part = g.drop_nulls([metric, ref_col])
                    if part.height < 3:
                        continue
                    a, b = part[metric].to_numpy(), part[ref_col].to_numpy()
                    dm = ps.diebold_mariano(a, b, int(lead), level)
                    rows.append(
                        {
                            "model": model,
                            "reference": ref,
                            "target": target,
                            "lead": int(lead),
                            "metric": metric,
                            "origins": part.height,
                            "model_mean": float(a.mean()),
                            "ref_mean": float(b.mean()),
                            "skill": _skill(float(a.mean()), float(b.mean()), metric),
                            "mean_diff": dm.mean_diff,
                            "lower": dm.lower,
                            "upper": dm.upper,
                            "p_value": dm.p_value,
                        }
                    )
    return pl.DataFrame(rows, infer_schema_length=None).sort("target", "metric", "lead", "model")


def _skill(model_mean: float, ref_mean: float, metric: str) -> float | None:
    """CRPS skill ``1 - model / reference`` (positive = better); for log scores, which can be
    negative, the difference per forecast is the meaningful figure and skill is ``ref - model``."""
    if metric == "log_score":
        return ref_mean - model_mean
    return 1.0 - model_mean / ref_mean if ref_mean > 0 else None


def coverage_table(scores: pl.DataFrame) -> pl.DataFrame:
    """Per model and lead: forecasts scored and the share of outcomes inside the central 50%
    and 90% intervals (calibrated: 0.5 and 0.9)."""
    return (
        scores.group_by("model", "lead")
        .agg(
            pl.len().alias("n"),
            pl.col("in50").mean().alias("cover50"),
            pl.col("in90").mean().alias("cover90"),
        )
        .sort("model", "lead")
    )


def pit_histogram(scores: pl.DataFrame, bins: int = 10) -> pl.DataFrame:
    """Per model and lead: the share of PIT values in each of ``bins`` equal bins (flat at
    ``1 / bins`` when calibrated; a U shape means too narrow, a hump too wide)."""
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for (model, lead), g in scores.group_by("model", "lead", maintain_order=True):
        counts, _ = np.histogram(g["pit"].to_numpy(), bins=edges)
        for b, c in enumerate(counts):
            rows.append(
                {"model": model, "lead": lead, "bin": b, "share": float(c / max(g.height, 1))}
            )
    return pl.DataFrame(rows).sort("model", "lead", "bin")


def _change(row: dict) -> str:
    """The CRPS change against persistence in percent, with its interval (the difference's
    interval over persistence's mean CRPS, which is treated as fixed)."""
    ref = row["ref_mean"]
    return (
        f"CRPS {100 * row['mean_diff'] / ref:+.0f}%, 90% interval "
        f"{100 * row['lower'] / ref:+.0f}% to {100 * row['upper'] / ref:+.0f}%"
    )


def _lead_clause(rows: pl.DataFrame, lead: int) -> str:
    groups: dict[str, list[str]] = {"beats": [], "does worse than": [], "unclear": []}
    for r in rows.sort("target").iter_rows(named=True):
        word = "beats" if r["upper"] < 0 else "does worse than" if r["lower"] > 0 else "unclear"
        groups[word].append(f"{r['target']} ({_change(r)})")
    parts = [
        f"{word} persistence on {' and '.join(items)}"
        for word, items in groups.items()
        if items and word != "unclear"
    ]
    if groups["unclear"]:
        parts.append(
            f"is not clearly better or worse than persistence on {' and '.join(groups['unclear'])}"
        )
    return f"{lead} months ahead the model " + "; it ".join(parts)


def headline(skill: pl.DataFrame, model: str = HMM, leads: tuple[int, ...] = (6, 12)) -> str:
    """One sentence: does ``model`` beat persistence on each observed series ``leads`` months
    ahead? Read off the CRPS per series (robust to the rare huge log scores of a reference that
    was sure a flat series would stay flat); "beats" only when the whole interval of the
    difference is below 0."""
    rows = skill.filter(
        (pl.col("model") == model)
        & (pl.col("reference") == "persistence")
        & (pl.col("target") != ALL)
        & (pl.col("metric") == "crps")
        & pl.col("lead").is_in(list(leads))
    )
    if rows.height == 0:
        return (
            "The evaluation has no scored forecasts at 6 or 12 months to compare with persistence."
        )
    n = rows["origins"].max()
    clauses = [
        _lead_clause(rows.filter(pl.col("lead") == lead), lead)
        for lead in sorted(set(rows["lead"]))
    ]
    return f"Over {n} monthly origins: " + "; ".join(clauses) + "."
