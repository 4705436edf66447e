"""Posterior predictive checks: does the fitted model reproduce the regimes and the series?

Three checks, on (at most ``draws``, evenly spaced) posterior draws and the observed months:

Regimes. For each draw a state path is simulated through the observed months with that draw's
transition model and the observed drivers, starting from the model's uniform initial state
(NumPy, seeded). Its statistics (:data:`STATISTICS`) are compared with those of the smoothed
most-likely path: ``quantile`` is the observed value's mid-rank among the replicates (share
below plus half the share equal, as the statistics are discrete) and ``p_value`` =
``2 * min(quantile, 1 - quantile)``. Caveat: the most-likely path drops short-lived regimes
the smoother is unsure of, so its switch count leans low; a quantile near 0 is the symptom.
The prior predictive switches (:func:`models.fit.prior_predictive`) can be passed in and are
summarised in the same frame, so the report shows what the priors expected next to what the
posterior expects and what was found.

Series. For each emission series and month the posterior predictive is, per draw, the
mixture over states of the state's Gaussian weighted by that draw's smoothed probabilities,
pooled over draws (for series described by an AR(1) given the pathway, the state's Gaussian
is centred on its intercept plus ``rho`` times the month before's value; a month after a
missing one is not checked). Its central ``INTERVAL`` interval comes from the exact mixture CDF
(bisection, no sampling), its log density at the observed value is in data units (the model
standardises each series, so ``log(scale)`` is subtracted). Weights are smoothed, i.e. they
have seen the month itself: this is an in-sample check of fit, mildly optimistic, not a
forecast score.

Timeline. For each month with a pathway signal, the smoothed probability of the signalled
state and whether it is the most likely one (:class:`LabelCheck`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import xarray as xr
from scipy import special

from models.data import N_STATES, STATES
from models.fit import PriorPredictive
from models.fitted import FittedModel
from models.prepared import Prepared
from models.states import (
    StateProbabilities,
    log_transitions_numpy,
    simulate_paths,
    state_probabilities,
)

STATISTICS: tuple[str, ...] = ("switches", "mean_duration", *(f"duration_{s}" for s in STATES))
INTERVAL = 0.9
QUANTILES = (0.05, 0.5, 0.95)
_BISECTIONS = 50  # halves a bracket of +-8 component sds to ~1e-14 of its width


def path_statistics(path: np.ndarray) -> np.ndarray:
    """:data:`STATISTICS` of one state path (months).

    ``switches`` counts month-to-month changes. Durations are means over *completed* spells
    (the first and the last are cut by the window, so their lengths are not durations);
    ``mean_duration`` pools all states, ``duration_<state>`` one state. NaN when no such spell.
    """
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(path)) + 1, [path.size]])
    lengths, states = np.diff(bounds)[1:-1], path[bounds[:-1]][1:-1]
    per_state = [
        lengths[states == s].mean() if (states == s).any() else np.nan for s in range(N_STATES)
    ]
    mean = lengths.mean() if lengths.size else np.nan
    return np.array([bounds.size - 2, mean, *per_state], dtype=float)


def _predictive_row(predictive: str, statistic: str, observed: float, reps: np.ndarray) -> dict:
    reps = reps[np.isfinite(reps)]
    quantile = p_value = np.nan
    if reps.size and np.isfinite(observed):
        quantile = float((reps < observed).mean() + 0.5 * (reps == observed).mean())
        p_value = 2 * min(quantile, 1 - quantile)
    q05, q50, q95 = np.quantile(reps, QUANTILES) if reps.size else (np.nan,) * 3
    return {
        "predictive": predictive,
        "statistic": statistic,
        "observed": float(observed),
        "mean": float(reps.mean()) if reps.size else np.nan,
        "q05": float(q05),
        "q50": float(q50),
        "q95": float(q95),
        "quantile": quantile,
        "p_value": p_value,
        "n_replicates": int(reps.size),
    }


@dataclass(frozen=True)
class RegimeCheck:
    """Observed (most-likely path) and replicated regime statistics."""

    observed: np.ndarray  # (len(STATISTICS),)
    replicated: np.ndarray  # (D, len(STATISTICS)), NaN where a path has no such spell
    prior_switches: np.ndarray | None  # (prior draws,) from models.fit.prior_predictive

    def to_frame(self) -> pl.DataFrame:
        """One row per (predictive, statistic); ``predictive`` is ``posterior`` or ``prior``."""
        rows = [
            _predictive_row("posterior", name, self.observed[i], self.replicated[:, i])
            for i, name in enumerate(STATISTICS)
        ]
        if self.prior_switches is not None:
            reps = np.asarray(self.prior_switches, dtype=float)
            rows.append(_predictive_row("prior", "switches", self.observed[0], reps))
        return pl.DataFrame(rows)


@dataclass(frozen=True)
class SeriesCheck:
    """Per-month posterior predictive intervals and log densities, in data units."""

    months: np.ndarray  # (T,) datetime64[M]
    series_names: tuple[str, ...]
    observed: np.ndarray  # (T, M), NaN = missing
    lower: np.ndarray  # (T, M)
    upper: np.ndarray  # (T, M)
    log_density: np.ndarray  # (T, M), NaN where missing

    def monthly_frame(self) -> pl.DataFrame:
        """One row per series and month; ``inside`` and ``log_density`` null when missing."""
        month = pl.Series("month", self.months.astype("datetime64[D]"))
        frame = pl.concat(
            pl.DataFrame(
                {
                    "series": [name] * month.len(),
                    "month": month,
                    "observed": self.observed[:, m],
                    "lower": self.lower[:, m],
                    "upper": self.upper[:, m],
                    "log_density": self.log_density[:, m],
                }
            )
            for m, name in enumerate(self.series_names)
        ).with_columns(pl.col("observed", "lower", "upper", "log_density").fill_nan(None))
        inside = pl.col("observed").is_between(pl.col("lower"), pl.col("upper"))
        return frame.with_columns(inside=inside).select(
            "series", "month", "observed", "lower", "upper", "inside", "log_density"
        )

    def _inside(self) -> np.ndarray:
        return (self.observed >= self.lower) & (self.observed <= self.upper)

    def summary_frame(self) -> pl.DataFrame:
        """One row per series: observed months, coverage of the interval, mean log density."""
        seen = np.isfinite(self.observed) & np.isfinite(self.lower)
        return pl.DataFrame(
            {
                "series": list(self.series_names),
                "n_observed": seen.sum(axis=0),
                "interval": [INTERVAL] * len(self.series_names),
                "coverage": np.where(seen, self._inside(), False).sum(axis=0) / seen.sum(axis=0),
                "mean_log_density": np.nanmean(self.log_density, axis=0),
            }
        )


@dataclass(frozen=True)
class LabelCheck:
    """How the smoothed regimes agree with the curated timeline's pathway signals.

    In-sample (the labels are in the likelihood, through the confusion matrix), so agreement is
    an upper bound on what the model would achieve on new signals. Low agreement says the
    series and the timeline disagree; the fitted confusion matrix then treats the signals as
    noisy, which is the model's design, and the report says so.
    """

    months: np.ndarray  # (L,) labelled months
    labels: np.ndarray  # (L,) state index of each signal
    probability: np.ndarray  # (L,) posterior-mean smoothed probability of the signalled state
    most_likely: np.ndarray  # (L,) state with the highest smoothed probability

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "month": self.months.astype("datetime64[D]"),
                "signal": [STATES[k] for k in self.labels],
                "probability": self.probability,
                "most_likely": [STATES[k] for k in self.most_likely],
            }
        ).with_columns(agrees=pl.col("signal") == pl.col("most_likely"))

    def summary(self) -> dict[str, float]:
        n = self.labels.size
        return {
            "labels_n": float(n),
            "labels_agreement": float((self.labels == self.most_likely).mean()) if n else np.nan,
            "labels_mean_probability": float(self.probability.mean()) if n else np.nan,
        }


def label_check(probs: StateProbabilities, labels: np.ndarray) -> LabelCheck:
    """Agreement of the smoothed regimes with the labelled months (``labels`` -1 = none)."""
    rows = np.flatnonzero(labels >= 0)
    mean = probs.mean_smoothed[rows]
    return LabelCheck(
        probs.months[rows], labels[rows], mean[np.arange(rows.size), labels[rows]], mean.argmax(1)
    )


@dataclass(frozen=True)
class PredictiveChecks:
    regimes: RegimeCheck
    series: SeriesCheck
    labels: LabelCheck
    draws: int
    seed: int

    def to_frames(self) -> dict[str, pl.DataFrame]:
        """``ppc_regimes``, ``ppc_series`` (per series), ``ppc_series_months``, ``ppc_labels``."""
        return {
            "ppc_regimes": self.regimes.to_frame(),
            "ppc_series": self.series.summary_frame(),
            "ppc_series_months": self.series.monthly_frame(),
            "ppc_labels": self.labels.to_frame(),
        }

    def summary(self) -> dict[str, float]:
        """Flat scalars for a report header or a warehouse row of run metadata."""
        out: dict[str, float] = {"ppc_draws": float(self.draws), "ppc_seed": float(self.seed)}
        for row in self.regimes.to_frame().iter_rows(named=True):
            prefix = ("prior_" if row["predictive"] == "prior" else "") + row["statistic"]
            for key in ("observed", "q05", "q50", "q95", "quantile", "p_value"):
                out[f"{prefix}_{key}"] = row[key]
        for row in self.series.summary_frame().iter_rows(named=True):
            out[f"{row['series']}_coverage"] = row["coverage"]
            out[f"{row['series']}_mean_log_density"] = row["mean_log_density"]
        return {**out, **self.labels.summary()}


def mixture_quantiles(
    weights: np.ndarray, mu: np.ndarray, sigma: np.ndarray, probs: np.ndarray
) -> np.ndarray:
    """(Q, T) quantiles of ``mean_d sum_s weights[d, t, s] * Normal(mu[d, t, s], sigma[d, t, s])``
    (``mu`` and ``sigma`` may also be (D, S), the same in every month).

    Exact up to bisection tolerance: the CDF of a Gaussian mixture is a weighted sum of normal
    CDFs, so each month's quantile is bracketed and halved, with no sampling noise to seed.
    """
    shape = weights.shape
    mu = np.broadcast_to(mu[:, None, :] if mu.ndim == 2 else mu, shape)
    sigma = np.broadcast_to(sigma[:, None, :] if sigma.ndim == 2 else sigma, shape)
    lo = np.full((probs.size, weights.shape[1]), float(np.nanmin(mu - 8 * sigma)))
    hi = np.full_like(lo, float(np.nanmax(mu + 8 * sigma)))
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        z = (mid[:, None, :, None] - mu[None]) / sigma[None]
        cdf = np.einsum("dts,qdts->qt", weights, special.ndtr(z)) / weights.shape[0]
        below = cdf < probs[:, None]
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _series_check(
    thinned: xr.Dataset, probs: StateProbabilities, prep: Prepared, ar1: bool
) -> SeriesCheck:
    """``ar1``: the series are an AR(1) given the pathway, so a month's predictive is centred
    on ``a[state] + rho * (the month before's value)`` (months after a missing one are not
    checked)."""
    if ar1:
        rho = thinned["ar_rho"].values[0][:, :, None]  # (D, M, 1)
        mu = thinned["ar_intercept"].values[0]  # (D, M, S)
        sigma = np.broadcast_to(thinned["ar_sigma"].values[0][:, :, None], mu.shape)
    else:
        mu, sigma = thinned["mu"].values[0], thinned["sigma"].values[0]  # (D, M, S)
    tails = np.array([(1 - INTERVAL) / 2, (1 + INTERVAL) / 2])
    n_months, n_series = prep.y.shape
    bounds = np.full((2, n_months, n_series), np.nan)
    log_density = np.full((n_months, n_series), np.nan)
    before = np.vstack(
        [np.full((1, n_series), np.nan), np.where(prep.mask > 0, prep.y, np.nan)[:-1]]
    )
    for m in range(n_series):
        centre = np.broadcast_to(mu[:, m][:, None, :], probs.smoothed.shape)
        if ar1:
            centre = centre + rho[:, m][:, None, :] * before[:, m][None, :, None]
        sd = np.broadcast_to(sigma[:, m][:, None, :], centre.shape)
        checked = np.isfinite(before[:, m]) if ar1 else np.ones(n_months, dtype=bool)
        bounds[:, checked, m] = mixture_quantiles(
            probs.smoothed[:, checked], centre[:, checked], sd[:, checked], tails
        )
        z = (prep.y[:, m][None, :, None] - centre) / sd
        logpdf = -0.5 * z**2 - np.log(sd) - 0.5 * np.log(2 * np.pi)
        lpd = special.logsumexp(logpdf, b=probs.smoothed, axis=(0, 2)) - np.log(mu.shape[0])
        seen = (prep.mask[:, m] > 0) & checked
        log_density[seen, m] = lpd[seen] - np.log(prep.scale[m])
    lower, upper = (b * prep.scale + prep.center for b in bounds)
    return SeriesCheck(
        prep.data.months, prep.data.series_names, prep.data.series, lower, upper, log_density
    )


def predictive_checks(
    model: FittedModel,
    *,
    draws: int = 500,
    seed: int = 0,
    prior: PriorPredictive | None = None,
) -> PredictiveChecks:
    """Regime and series checks on ``draws`` evenly spaced posterior draws (seeded paths).

    ``prior`` (from :func:`models.fit.prior_predictive` on the same data and config) adds the
    prior predictive switch count to the regime frame. Same inputs and seed, same output.
    """
    kept = model.thinned(draws)
    thinned = kept.posterior
    probs = state_probabilities(kept, max_draws=None)
    prep = model.prepared
    beta = thinned["beta"].values[0] if "beta" in thinned else None
    log_trans = log_transitions_numpy(thinned["alpha"].values[0], beta, prep.data.drivers)
    paths = simulate_paths(log_trans, np.random.default_rng(seed))
    regimes = RegimeCheck(
        observed=path_statistics(probs.most_likely()),
        replicated=np.array([path_statistics(p) for p in paths]),
        prior_switches=None if prior is None else prior.switches,
    )
    n_kept = int(thinned.sizes["draw"])
    labels = label_check(probs, prep.data.labels)
    series = _series_check(thinned, probs, prep, model.config.series_given_states)
    return PredictiveChecks(regimes, series, labels, n_kept, seed)
