"""Rolling-origin backtest: forecasts from one origin month, scored against what followed.

Why every lead and not only the named horizons: timeline labels are sparse (a few dozen
labelled months since 2009), so a forecast scored only at exactly 1, 3, 6 and 12 months would
meet a label a handful of times in the whole backtest. Each model forecasts every month
1..max(horizons) after the origin; a forecast ``lead`` months ahead is scored against that
month (when it has a label / an observation) and reported under the smallest named horizon >=
lead (``horizon`` 3 holds leads 2-3, 12 holds leads 7-12).

HMM forecasts are propagated analytically, per posterior draw: the origin's filtered state
probabilities times the product of that draw's transition matrices. Drivers follow one
stochastic AR(1) path per draw (:mod:`models.driver_paths`, fitted on the window), so driver
uncertainty is integrated as in the published Monte Carlo, but without its state sampling
noise. The label forecast is the predictive of the *label*, ``P(state) @ confusion``, since the
timeline is a noisy reading of the state. A series' predictive is the mixture over draws and
states of the state's Gaussian (data units). Baselines: the label baselines of
:mod:`models.baselines`; for series, climatology (the window's mean and sd) and persistence (the
last observed value, with the RMS of changes over the same number of months). ``uniform`` has
no series forecast. Scores follow :mod:`models.scoring`: lower is better except
``log_density``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from models import scoring
from models.baselines import BASELINES
from models.data import N_STATES, NO_LABEL, ModelData
from models.driver_paths import DTYPE, DriverLayout, base_drivers, fit_ar1
from models.fitted import FittedModel
from models.states import state_probabilities

HORIZONS: tuple[int, ...] = (1, 3, 6, 12)
HMM, NO_DRIVERS = "hmm", "hmm_no_drivers"
MODELS: tuple[str, ...] = (HMM, NO_DRIVERS, *BASELINES)
LABEL_METRICS = {"rps": scoring.rps, "brier": scoring.brier, "log_score": scoring.log_score}
SERIES_METRICS: tuple[str, ...] = ("crps", "log_density")
HIGHER_IS_BETTER = frozenset({"log_density"})
MIN_CHANGES = 12  # fewer k-month changes than this: persistence uses the stationary limit
N_PREDICTIVE = 4000  # predictive draws per forecast for the CRPS of a mixture
SCORE_SCHEMA = {
    "origin": pl.Date,
    "model": pl.String,
    "horizon": pl.Int64,
    "lead": pl.Int64,
    "target_month": pl.Date,
    "target": pl.String,
    "metric": pl.String,
    "score": pl.Float64,
}
CALIBRATION_SCHEMA = {
    **{k: v for k, v in SCORE_SCHEMA.items() if k not in ("metric", "score")},
    **dict.fromkeys(("p_dc", "p_se", "p_mc", "pred_mean", "observed", "pit"), pl.Float64),
}


@dataclass(frozen=True)
class PosteriorDraws:
    """What a forecast needs from a posterior, one row per draw."""

    alpha: np.ndarray  # (D, 3, 2) transition intercepts into SE, MC (DC = 0)
    beta: np.ndarray | None  # (D, K, 2) driver effects, None without drivers
    confusion: np.ndarray | None  # (D, 3, 3) P(label | state), None without labels
    mu: np.ndarray | None  # (D, M, 3) state means of each series, data units; None when the
    sigma: np.ndarray | None  # series are described by their changes (the labels are scored)
    p0: np.ndarray  # (D, 3) filtered state probabilities of the origin month


def posterior_draws(model: FittedModel) -> PosteriorDraws:
    """Every draw of a fit, aligned with its filtered probabilities at the last month."""
    post = model.posterior

    def flat(name: str) -> np.ndarray | None:
        return post[name].values.reshape(-1, *post[name].shape[2:]) if name in post else None

    filtered = state_probabilities(model, max_draws=None).filtered
    beta = flat("beta") if model.config.drivers else None
    mixture = (flat("mu_data"), flat("sigma_data"))
    return PosteriorDraws(flat("alpha"), beta, flat("confusion"), *mixture, filtered[:, -1])


@dataclass(frozen=True)
class Forecast:
    """One model's forecasts for leads 1..H: labels, and each series as a Gaussian mixture."""

    labels: np.ndarray  # (H, 3)
    weights: np.ndarray | None = None  # (H, C); None = no series forecast
    means: np.ndarray | None = None  # (H, M, C)
    sds: np.ndarray | None = None  # (H, M, C)


def driver_paths(data: ModelData, n_paths: int, steps: int, seed: int) -> np.ndarray:
    """(n_paths, steps, K) model drivers for months 0..steps-1 after the origin (month 0 is the
    origin's own, observed), base drivers from an AR(1) fitted on the window."""
    base = base_drivers(data.driver_names)
    history = data.drivers[:, [data.driver_names.index(b) for b in base]]
    ar1 = fit_ar1(history, base)
    layout = DriverLayout.build(base, data.driver_names)
    x = np.empty((steps, layout.n_rows, n_paths), dtype=DTYPE)
    x[0, : len(base)] = ar1.last[:, None]
    if steps > 1:
        x[1:, : len(base)] = ar1.sample(np.random.default_rng(seed), n_paths, steps - 1)
    layout.fill_interactions(x)
    return np.moveaxis(x[:, list(layout.model_rows)], -1, 0).astype(float)


def state_forecast(draws: PosteriorDraws, paths: np.ndarray | None, steps: int) -> np.ndarray:
    """(D, steps, 3) P(state of month origin + lead); month ``h`` moves on drivers of ``h-1``."""
    n = draws.p0.shape[0]
    dest = np.broadcast_to(draws.alpha[:, None], (n, steps, N_STATES, N_STATES - 1))
    if draws.beta is not None:
        dest = dest + np.einsum("dhk,dkj->dhj", paths, draws.beta)[:, :, None, :]
    logits = np.concatenate([np.zeros((n, steps, N_STATES, 1)), dest], axis=-1)
    trans = special.softmax(logits, axis=-1)
    out, p = np.empty((n, steps, N_STATES)), draws.p0
    for h in range(steps):
        p = out[:, h] = np.einsum("ds,dst->dt", p, trans[:, h])
    return out


def hmm_forecast(draws: PosteriorDraws, data: ModelData, steps: int, seed: int) -> Forecast:
    """``data`` is the fit's own sub-panel (``FitResult.data``), ending at the origin."""
    paths = driver_paths(data, draws.p0.shape[0], steps, seed) if draws.beta is not None else None
    states = state_forecast(draws, paths, steps)  # (D, H, S)
    labels = states if draws.confusion is None else states @ draws.confusion
    if draws.mu is None:  # series described by their changes: forecast in models.observables
        return Forecast(labels.mean(axis=0))
    weights = np.moveaxis(states, 0, 1).reshape(steps, -1) / states.shape[0]  # (H, D*S)
    m = draws.mu.shape[1]

    def per_lead(a: np.ndarray) -> np.ndarray:  # (D, M, S) -> (H, M, D*S), as the weights
        return np.broadcast_to(np.moveaxis(a, 0, 1).reshape(1, m, -1), (steps, m, weights.shape[1]))

    return Forecast(labels.mean(axis=0), weights, per_lead(draws.mu), per_lead(draws.sigma))


def baseline_forecasts(data: ModelData, steps: int) -> dict[str, Forecast]:
    """Label baselines from the window's labels; series climatology and persistence."""
    leads = list(range(1, steps + 1))
    y = data.series
    last = np.array([np.flatnonzero(np.isfinite(col))[-1] for col in y.T])
    ones = np.ones((steps, y.shape[1], 1))
    clim = (ones * np.nanmean(y, axis=0)[:, None], ones * np.nanstd(y, axis=0)[:, None])
    rms = np.empty((steps, y.shape[1]))
    for m, t in enumerate(last):
        for h in leads:
            k = h + y.shape[0] - 1 - t  # months from the last observation to the target
            change = (y[k:, m] - y[:-k, m])[np.isfinite(y[k:, m] - y[:-k, m])]
            # Too few k-month changes (a long gap): the stationary limit, sqrt(2) x the sd.
            enough = change.size >= MIN_CHANGES
            rms[h - 1, m] = np.sqrt(np.mean(change**2)) if enough else np.sqrt(2) * clim[1][0, m, 0]
    persist = (ones * y[last, np.arange(y.shape[1])][:, None], rms[..., None])
    series = {"climatology": clim, "persistence": persist}
    out = {}
    for name, baseline in BASELINES.items():
        mean, sd = series.get(name, (None, None))
        weights = None if mean is None else np.ones((steps, 1))
        out[name] = Forecast(baseline(data.labels, leads), weights, mean, sd)
    return out


def _crps_mixture(y: np.ndarray, w: np.ndarray, mu: np.ndarray, sd: np.ndarray, rng) -> float:
    if w.size == 1:
        return float(scoring.crps_gaussian(y, mu, sd)[0])
    pick = rng.choice(w.size, size=N_PREDICTIVE, p=w / w.sum())
    return float(scoring.crps_sample(y, rng.normal(mu[pick], sd[pick])[None])[0])


def _month_after(origin: dt.date, lead: int) -> dt.date:
    return (
        (np.datetime64(origin, "M") + np.timedelta64(lead, "M"))
        .astype("datetime64[D]")
        .astype(dt.date)
    )


def _label_rows(f: Forecast, i: int, outcome: int) -> tuple[list[dict], dict]:
    """Scores and the calibration row of one label forecast (lead ``i + 1``)."""
    probs = dict(zip(("p_dc", "p_se", "p_mc"), f.labels[i].tolist(), strict=True))
    calibration = {"target": "label", **probs, "observed": None if outcome == NO_LABEL else outcome}
    if outcome == NO_LABEL:
        return [], calibration
    row = f.labels[i : i + 1]
    scored = [
        {"target": "label", "metric": metric, "score": float(rule(row, [outcome])[0])}
        for metric, rule in LABEL_METRICS.items()
    ]
    return scored, calibration


def _series_rows(
    f: Forecast, i: int, m: int, name: str, y: float, rng: np.random.Generator
) -> tuple[list[dict], dict]:
    """Scores and the calibration row of series ``m``'s predictive (lead ``i + 1``)."""
    w, mu, sd, obs = f.weights[i], f.means[i, m], f.sds[i, m], np.array([y])
    pit = scoring.pit_gaussian_mixture(obs, w[None], mu[None], sd[None])[0]
    calibration = {"target": name, "pred_mean": float(w @ mu), "observed": y, "pit": float(pit)}
    if not np.isfinite(y):
        return [], calibration
    density = scoring.gaussian_mixture_logpdf(obs, w[None], mu[None], sd[None])[0]
    crps = _crps_mixture(obs, w, mu, sd, rng)
    scored = [
        {"target": name, "metric": metric, "score": float(score)}
        for metric, score in zip(SERIES_METRICS, (crps, density), strict=True)
    ]
    return scored, calibration


def score_origin(
    origin: dt.date,
    forecasts: dict[str, Forecast],
    labels: np.ndarray,
    series: np.ndarray,
    series_names: tuple[str, ...],
    horizons: tuple[int, ...] = HORIZONS,
    seed: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Scores ``(origin, model, horizon, lead, target_month, target, metric, score)`` of every
    forecast with an outcome, and the calibration inputs: every forecast with its label
    probabilities or predictive mean and PIT, and the outcome (null when there is none)."""
    rng = np.random.default_rng(seed)
    scores, calibration = [], []
    for i in range(len(labels)):
        key = {
            "origin": origin,
            "horizon": min(h for h in horizons if h >= i + 1),
            "lead": i + 1,
            "target_month": _month_after(origin, i + 1),
        }
        for model, f in forecasts.items():
            parts = [_label_rows(f, i, int(labels[i]))]
            if f.weights is not None:
                parts += [
                    _series_rows(f, i, m, n, series[i, m], rng) for m, n in enumerate(series_names)
                ]
            for scored, calib in parts:
                scores += [{**key, "model": model, **row} for row in scored]
                calibration.append({**key, "model": model, **calib})
    calib = pl.DataFrame(calibration, schema=CALIBRATION_SCHEMA)
    return pl.DataFrame(scores, schema=SCORE_SCHEMA), calib.with_columns(
        pl.col("observed", "pit").fill_nan(None)
    )


_PAIR = ["origin", "lead", "target", "metric"]
REFERENCES = {"persistence": "persistence", "no_drivers": NO_DRIVERS}


def skill_table(
    scores: pl.DataFrame, level: float = 0.9, n_boot: int = 2000, seed: int = 0
) -> pl.DataFrame:
    """Mean score per (target, metric, horizon, model) with a ``level`` interval, and the mean
    difference against persistence and against the no-driver HMM with theirs.

    Intervals resample whole origins (:func:`models.scoring.block_bootstrap_diff`): the
    forecasts of one origin share its information and its realised path. A difference below
    0 favours the model, except for ``log_density`` (``better`` says which way is good).
    """
    groups = ["target", "metric", "horizon", "model"]
    rows = []
    for (target, metric, horizon, model), group in scores.group_by(groups, maintain_order=True):
        origins = group["origin"].to_numpy()
        zero = np.zeros(group.height)
        mean = scoring.block_bootstrap_diff(group["score"], zero, origins, n_boot, level, seed)
        row = {
            "target": target,
            "metric": metric,
            "horizon": horizon,
            "model": model,
            "better": "higher" if metric in HIGHER_IS_BETTER else "lower",
            "n": group.height,
            "origins": mean.n_episodes,
            "mean": mean.mean_diff,
            "lower": mean.lower,
            "upper": mean.upper,
        }
        for label, ref in REFERENCES.items():
            other = scores.filter(pl.col("model") == ref).select(*_PAIR, ref=pl.col("score"))
            paired = group.join(other, on=_PAIR)
            diff = None
            if model != ref and paired.height:
                episodes = paired["origin"].to_numpy()
                diff = scoring.block_bootstrap_diff(
                    paired["score"], paired["ref"], episodes, n_boot, level, seed
                )
            for part in ("mean_diff", "lower", "upper"):
                row[f"vs_{label}_{part.removesuffix('_diff')}"] = getattr(diff, part, None)
        rows.append(row)
    order = {m: i for i, m in enumerate(MODELS)}
    table = pl.DataFrame(rows, infer_schema_length=None)
    return table.sort("target", "metric", "horizon", pl.col("model").replace_strict(order))


def skill_verdicts(table: pl.DataFrame, model: str = "hmm") -> pl.DataFrame:
    """For ``model`` against each reference: the horizons where it is better, worse, or not
    clearly different, per target and metric, read off the origin-bootstrap intervals.

    "Better" means the whole interval of the paired difference lies on the good side of 0
    (below for scores where lower is better, above for ``log_density``). With a handful of
    origins most horizons come out "unclear"; the report prints this verdict in words so no
    reader has to infer it from overlapping intervals.
    """
    rows = []
    part = table.filter(pl.col("model") == model)
    for (target, metric), group in part.group_by(["target", "metric"], maintain_order=True):
        sign = -1.0 if group["better"][0] == "higher" else 1.0
        for label in REFERENCES:
            verdict: dict[str, list[int]] = {"better": [], "worse": [], "unclear": []}
            for r in group.iter_rows(named=True):
                lo, hi = r[f"vs_{label}_lower"], r[f"vs_{label}_upper"]
                if lo is None or hi is None:
                    continue
                lo, hi = sorted((sign * lo, sign * hi))
                key = "better" if hi < 0 else "worse" if lo > 0 else "unclear"
                verdict[key].append(int(r["horizon"]))
            if any(verdict.values()):
                rows.append({"target": target, "metric": metric, "reference": label, **verdict})
    schema = {"target": pl.String, "metric": pl.String, "reference": pl.String}
    schema |= {k: pl.List(pl.Int64) for k in ("better", "worse", "unclear")}
    return pl.DataFrame(rows, schema=schema)
