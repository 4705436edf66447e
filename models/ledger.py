"""What the resolution ledger stores about a forecast, and how a resolved entry is scored.

Why a ledger: a published probability means something only if it can be checked later against
what happened, by rules fixed before the outcome was known. So at publication each forecaster
(the model, the model with its driver effects switched off, the random walk and climatology)
leaves, per observed series and horizon, a fixed summary (quantiles) and a bounded set of
draws; and per question, a probability. When the data bring the outcome, the stored draws and
probabilities are scored as they stand: nothing is recomputed from a later posterior.

Stored draws are *quantile draws*: the N values ``F^-1((i + 1/2) / N)`` of the full predictive
sample. Why not a random subset: the same N numbers always describe the same distribution (no
seed in the record), they keep its tails in proportion, and CRPS or the PIT computed from them
is that of the N-point distribution closest to the full one.

Scores (all lower is better, from :mod:`models.proper_scores`): quantities get the CRPS (in
the series' units) and the log score ``-log p(y)`` with ``p`` a Gaussian kernel density of the
stored draws (Silverman's bandwidth, so it is a fixed function of the record), and their PIT;
questions get the Brier score ``(p - o)^2`` and the log score of the probability given to
what happened.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from models import observables, proper_scores, reference_forecasts
from models.questions import add_months
from models.scoring import pit_sample

LEADS: tuple[int, ...] = (1, 3, 6, 12)  # months ahead stored for every forecast
TERM_END = dt.date(2029, 1, 1)  # and the month the headline describes
N_STORED_DRAWS = 200
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
FORECASTERS: tuple[str, ...] = ("model", "no_drivers", "random_walk", "climatology")


def horizons(origin: dt.date) -> list[tuple[str, dt.date]]:
    """(label, month) of every stored horizon: 1, 3, 6 and 12 months and January 2029 (when it
    is still ahead of the origin)."""
    out = [(f"{h}m", add_months(origin, h)) for h in LEADS]
    if origin < TERM_END:
        out.append((TERM_END.strftime("%Y-%m"), TERM_END))
    return out


def months_between(origin: dt.date, target: dt.date) -> int:
    return (target.year - origin.year) * 12 + target.month - origin.month


def quantile_draws(draws: np.ndarray, n: int = N_STORED_DRAWS) -> np.ndarray:
    """The ``n`` quantile draws of a predictive sample (see the module's docstring)."""
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        raise ValueError("draws: no finite values to store")
    return np.quantile(draws, (np.arange(n) + 0.5) / n)


def summary(draws: np.ndarray) -> dict[str, float]:
    """Mean and the stored quantiles of a predictive sample, as ``mean, q05, q25, ...``."""
    draws = np.asarray(draws, dtype=float)
    qs = np.quantile(draws, QUANTILES)
    return {"mean": float(draws.mean())} | {
        f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, qs, strict=True)
    }


def quantity_scores(y: float, draws: np.ndarray) -> dict[str, float]:
    """CRPS, log score and PIT of one observation against its stored draws."""
    x = np.asarray(draws, dtype=float)[None, :]
    obs = np.array([y], dtype=float)
    return {
        "crps": float(proper_scores.crps(x, obs)[0]),
        "log_score": float(proper_scores.log_score_kde(x, obs)[0]),
        "pit": float(pit_sample(obs, x)[0]),
    }


def question_scores(p: float, outcome: bool) -> dict[str, float]:
    """Brier and log score of a probability of YES against the outcome."""
    prob, event = np.array([p]), np.array([int(outcome)])
    return {
        "brier": float(proper_scores.brier_binary(prob, event)[0]),
        "log_score": float(proper_scores.log_score_binary(prob, event)[0]),
    }


# ------------------------------------------------------------------ predictive draws


def model_draws(
    transitions: observables.TransitionDraws,
    emissions: tuple[observables.SeriesEmission, ...],
    driver_paths: np.ndarray | None,
    origin: dt.date,
    steps: int,
    n: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Per series, ``(steps, D * P)`` draws of months 1..steps after the origin from the
    fit's regime paths and emissions (:func:`models.observables.observable_forecast`).

    ``driver_paths`` ``(P, steps, K)`` are shared by every posterior draw (None: no drivers);
    P paths per draw make at least ``n`` draws in all.
    """
    n_draws = transitions.p0.shape[0]
    n_paths = -(-n // n_draws) if driver_paths is None else driver_paths.shape[0]
    drivers = None
    if driver_paths is not None:
        drivers = np.broadcast_to(driver_paths, (n_draws, *driver_paths.shape))
    forecast = observables.observable_forecast(
        np.datetime64(origin, "M"), transitions, emissions, drivers, n_paths, seed,
        horizons=tuple(range(1, steps + 1)), until=None,  # every month 1..steps, no other
    )  # fmt: skip
    pooled = forecast.pooled()  # (steps, series, D * P)
    return {name: pooled[:, m] for m, name in enumerate(forecast.series_names)}


def reference_draws(
    values: np.ndarray, steps: int, n: int, seed: int
) -> dict[str, np.ndarray] | None:
    """``(H, n)`` draws of months 1..H after the spine's last month from the random walk and
    from climatology (None when the series was never observed)."""
    walk = [reference_forecasts.random_walk(values, h, n, seed + h) for h in range(1, steps + 1)]
    clim = reference_forecasts.climatology(values, n, seed)
    if clim is None or any(w is None for w in walk):
        return None
    return {"random_walk": np.stack(walk), "climatology": np.tile(clim, (steps, 1))}
