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

Scores (all lower is better): quantities get the CRPS (``models.scoring.crps_sample``, in the
series' units) and the log score ``-log p(y)`` with ``p`` a Gaussian kernel density of the
stored draws (Silverman's bandwidth, so it is a fixed function of the record); questions get
the Brier score ``(p - o)^2`` and the log score ``-log(p if YES else 1 - p)``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from models import reference_forecasts
from models.backtest import Forecast
from models.questions import add_months
from models.scoring import LOG_FLOOR, crps_sample, pit_sample

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


def kde_log_score(y: float, draws: np.ndarray) -> float:
    """``-log p(y)`` under a Gaussian kernel density of the draws (Silverman's bandwidth).

    A sample with no spread (a random walk over months that never changed) gets a bandwidth of
    1e-6 times its scale, so its density is a near-spike: confident and wrong costs up to the
    floor of :data:`models.scoring.LOG_FLOOR`, as it should.
    """
    x = np.asarray(draws, dtype=float)
    sd = x.std(ddof=1) if x.size > 1 else 0.0
    iqr = np.subtract(*np.quantile(x, [0.75, 0.25]))
    spread = min(sd, iqr / 1.349) if iqr > 0 else sd
    h = 0.9 * spread * x.size ** (-0.2)
    h = max(h, 1e-6 * max(1.0, float(np.abs(x).max())))
    z = (y - x) / h
    density = np.mean(np.exp(-0.5 * z**2)) / (h * np.sqrt(2 * np.pi))
    return float(-np.log(max(density, LOG_FLOOR)))


def quantity_scores(y: float, draws: np.ndarray) -> dict[str, float]:
    """CRPS, log score and PIT of one observation against its stored draws."""
    x = np.asarray(draws, dtype=float)[None, :]
    obs = np.array([y], dtype=float)
    return {
        "crps": float(crps_sample(obs, x)[0]),
        "log_score": kde_log_score(y, x[0]),
        "pit": float(pit_sample(obs, x)[0]),
    }


def question_scores(p: float, outcome: bool) -> dict[str, float]:
    """Brier and log score of a probability of YES against the outcome."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability: must be in [0, 1], got {p}")
    hit = p if outcome else 1.0 - p
    return {"brier": (p - float(outcome)) ** 2, "log_score": float(-np.log(max(hit, LOG_FLOOR)))}


# ------------------------------------------------------------------ predictive draws


def model_draws(
    forecast: Forecast, series: tuple[str, ...], n: int, seed: int
) -> dict[str, np.ndarray]:
    """Per series, ``(H, n)`` draws of months 1..H after the origin from the HMM's predictive
    (a Gaussian mixture over posterior draws x states per month)."""
    if forecast.weights is None or forecast.means is None or forecast.sds is None:
        raise ValueError("forecast: has no series predictive")
    steps = forecast.weights.shape[0]
    out = {}
    for m, name in enumerate(series):
        out[name] = np.stack(
            [
                reference_forecasts.mixture(
                    forecast.weights[h],
                    forecast.means[h, m],
                    forecast.sds[h, m],
                    n,
                    seed + 1000 * m + h,
                )
                for h in range(steps)
            ]
        )
    return out


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
