"""Predictive draws of the observables the model emits, months ahead of an origin.

Why observables: a pathway is never observed, so "has the model ever been right?" can only be
answered on what it emits — bilateral tension, the US tariff, GDELT cooperation and conflict
shares (whichever series the config fits) — and those are what a baseline can forecast too.
US imports from China are not a driver input (:mod:`models.drivers` keeps every outcome out of
the drivers), so they are not an observable the model drives and are not forecast here.

Shape, and the two kinds of uncertainty. For every posterior draw ``d`` and every path ``p``
of that draw, a regime path is simulated from the draw's filtered probabilities at the origin
through its transition matrices (month ``h`` moves on the drivers of month ``h - 1``, as in
:mod:`models.hmm`), and each series is drawn from the state's emission. ``draws`` is
``(D, P, leads, series)``: the spread of per-draw means across ``d`` is posterior
(epistemic) uncertainty, the spread within a draw across ``p`` is path (aleatoric)
uncertainty, and :meth:`ObservableForecast.variance_split` separates them by the law of total
variance.

Emission families. Each series names a family; :data:`FAMILIES` maps the name to one function
that draws values in data units from per-draw, per-state parameters and the simulated states.
A Gaussian series is modelled standardised (:func:`models.hmm.prepare`), so its draw is
back-transformed, ``center + scale * z``. ``gaussian`` draws the level from the state at the
lead; ``gaussian_ar1`` (series described given the pathway, :mod:`models.series_given_states`)
runs ``z_t = a[state_t] + rho * z_(t-1) + sigma * e_t`` along the whole simulated path from the
series' last observed value; over the months between that observation and the origin, whose
pathways are not simulated, the intercept is the mean of the three. A count family (Poisson,
negative binomial) is one more function and one more entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import special

from models.data import N_STATES
from models.fitted import FittedModel

HORIZONS: tuple[int, ...] = (1, 3, 6, 12)
END_OF_TERM = np.datetime64("2029-01", "M")


@dataclass(frozen=True)
class SeriesEmission:
    """One series' emission: its family, per-draw per-state parameters ``(D, S)`` on the
    model's scale, and the affine map from the model's scale to data units."""

    name: str
    family: str
    params: Mapping[str, np.ndarray]
    center: float = 0.0
    scale: float = 1.0
    last: float = 0.0  # gaussian_ar1: last observed value, model scale
    gap: int = 0  # gaussian_ar1: months from that observation to the origin


Family = Callable[[SeriesEmission, np.ndarray, Sequence[int], np.random.Generator], np.ndarray]


def _gaussian(
    e: SeriesEmission, states: np.ndarray, leads: Sequence[int], rng: np.random.Generator
) -> np.ndarray:
    at_leads = states[..., [lead - 1 for lead in leads]]
    draw = np.arange(states.shape[0])[:, None, None]
    z = rng.normal(e.params["mu"][draw, at_leads], e.params["sigma"][draw, at_leads])
    return e.center + e.scale * z


def _gaussian_ar1(
    e: SeriesEmission, states: np.ndarray, leads: Sequence[int], rng: np.random.Generator
) -> np.ndarray:
    a, rho, sigma = (e.params[k] for k in ("a", "rho", "sigma"))  # (D, S), (D,), (D,)
    n, n_paths, steps = states.shape
    draw = np.arange(n)[:, None]
    z = np.full((n, n_paths), e.last)
    for _ in range(e.gap):
        z = (
            a.mean(axis=1)[:, None]
            + rho[:, None] * z
            + sigma[:, None] * rng.standard_normal(z.shape)
        )
    out = np.empty(states.shape)
    for h in range(steps):
        noise = sigma[:, None] * rng.standard_normal(z.shape)
        z = out[..., h] = a[draw, states[..., h]] + rho[:, None] * z + noise
    return e.center + e.scale * out[..., [lead - 1 for lead in leads]]


FAMILIES: dict[str, Family] = {"gaussian": _gaussian, "gaussian_ar1": _gaussian_ar1}


def emission_draws(
    e: SeriesEmission, states: np.ndarray, leads: Sequence[int], rng: np.random.Generator
) -> np.ndarray:
    """Values ``(D, P, len(leads))`` in data units, for simulated states ``(D, P, steps)``
    (months 1..steps after the origin): the one place a family is dispatched."""
    if e.family not in FAMILIES:
        raise ValueError(f"family: {e.family!r} for {e.name!r} is unknown (have {list(FAMILIES)})")
    return FAMILIES[e.family](e, states, leads, rng)


@dataclass(frozen=True)
class TransitionDraws:
    """What moves the regime: per-draw transition parameters and origin probabilities."""

    alpha: np.ndarray  # (D, 3, 2) intercepts into SE, MC (DC = 0)
    beta: np.ndarray | None  # (D, K, 2); None for the no-driver model
    p0: np.ndarray  # (D, 3) filtered probabilities of the origin month


def _flat(post: xr.Dataset, name: str) -> np.ndarray:
    values = post[name].values
    return values.reshape(-1, *values.shape[2:])


def emissions_from_posterior(model: FittedModel) -> tuple[SeriesEmission, ...]:
    """Each fitted series as a Gaussian emission with the fit's own standardisation: of its
    level given the state, or of its AR(1) given the pathway from the last observed value
    (``series_given_states``)."""
    post, prep = model.posterior, model.prepared
    if not model.config.series_given_states:
        mu, sigma = _flat(post, "mu"), _flat(post, "sigma")  # (D, M, S), standardised
        return tuple(
            SeriesEmission(
                name,
                "gaussian",
                {"mu": mu[:, m], "sigma": sigma[:, m]},
                float(prep.center[m]),
                float(prep.scale[m]),
            )
            for m, name in enumerate(prep.data.series_names)
        )
    a, rho, sigma = (_flat(post, k) for k in ("ar_intercept", "ar_rho", "ar_sigma"))
    out = []
    for m, name in enumerate(prep.data.series_names):
        last = int(np.flatnonzero(prep.mask[:, m])[-1])
        out.append(
            SeriesEmission(
                name,
                "gaussian_ar1",
                {"a": a[:, m], "rho": rho[:, m], "sigma": sigma[:, m]},
                float(prep.center[m]),
                float(prep.scale[m]),
                last=float(prep.y[last, m]),
                gap=prep.y.shape[0] - 1 - last,
            )
        )
    return tuple(out)


def simulate_states(
    t: TransitionDraws, drivers: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(D, P, steps) int8 regime paths of months 1..steps after the origin, for ``drivers``
    ``(D, P, steps, K)`` (month 0 the origin's observed drivers; K = 0 without drivers)."""
    n, n_paths, steps, _ = drivers.shape
    dest = np.broadcast_to(t.alpha[:, None, None], (n, n_paths, steps, N_STATES, N_STATES - 1))
    if t.beta is not None:
        dest = dest + np.einsum("dphk,dkj->dphj", drivers, t.beta)[..., None, :]
    logits = np.concatenate([np.zeros((*dest.shape[:-1], 1)), dest], axis=-1)
    cdf = np.cumsum(special.softmax(logits, axis=-1), axis=-1)  # (D, P, H, S, S)
    u = rng.random((n, n_paths, steps + 1))
    state = (u[..., 0, None] >= np.cumsum(t.p0, axis=1)[:, None, :-1]).sum(axis=-1)
    out = np.empty((n, n_paths, steps), dtype=np.int8)
    d_idx, p_idx = np.ogrid[:n, :n_paths]
    for h in range(steps):
        row = cdf[d_idx, p_idx, h, state]  # (D, P, S)
        state = (u[..., h + 1, None] >= row[..., :-1]).sum(axis=-1)
        out[..., h] = state
    return out


def leads_for(
    origin: np.datetime64,
    horizons: Sequence[int] = HORIZONS,
    until: np.datetime64 | None = END_OF_TERM,
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Months ahead to forecast and their labels: each horizon, and ``until`` (labelled by its
    month) when it lies after the origin (``None``: the horizons only, as in backtests)."""
    leads, labels = list(horizons), [f"{h}m" for h in horizons]
    if until is None:
        return tuple(leads), tuple(labels)
    ahead = int((np.datetime64(until, "M") - np.datetime64(origin, "M")).astype(int))
    if ahead >= 1 and ahead not in leads:
        leads.append(ahead)
        labels.append(str(np.datetime64(until, "M")))
    return tuple(leads), tuple(labels)


@dataclass(frozen=True)
class ObservableForecast:
    """Predictive draws ``(D, P, leads, series)`` of the observables after ``origin``."""

    origin: np.datetime64
    series_names: tuple[str, ...]
    leads: tuple[int, ...]
    lead_labels: tuple[str, ...]
    draws: np.ndarray

    def pooled(self) -> np.ndarray:
        """(leads, series, D * P): every draw and path, the posterior predictive."""
        d, p, n_leads, m = self.draws.shape
        return np.moveaxis(self.draws.reshape(d * p, n_leads, m), 0, -1)

    def quantiles(self, probs: Sequence[float] = (0.05, 0.5, 0.95)) -> np.ndarray:
        """(len(probs), leads, series) quantiles of the posterior predictive."""
        return np.quantile(self.pooled(), probs, axis=-1)

    def posterior_quantiles(self, probs: Sequence[float] = (0.05, 0.5, 0.95)) -> np.ndarray:
        """(len(probs), leads, series) quantiles across draws of each draw's mean: the
        posterior part alone, without path noise."""
        return np.quantile(self.draws.mean(axis=1), probs, axis=0)

    def variance_split(self) -> tuple[np.ndarray, np.ndarray]:
        """(posterior, path) variance, each (leads, series); they add up to the total."""
        return self.draws.mean(axis=1).var(axis=0), self.draws.var(axis=1).mean(axis=0)


def observable_forecast(
    origin: np.datetime64,
    transitions: TransitionDraws,
    emissions: Sequence[SeriesEmission],
    drivers: np.ndarray | None,
    n_paths: int,
    seed: int,
    horizons: Sequence[int] = HORIZONS,
    until: np.datetime64 | None = END_OF_TERM,
) -> ObservableForecast:
    """Simulate regime paths and draw every series at each lead.

    ``drivers`` ``(D, P, steps, K)`` covers at least the longest lead (the driver model), or
    is ``None`` (the no-driver model)."""
    leads, labels = leads_for(origin, horizons, until)
    steps = max(leads)
    n = transitions.p0.shape[0]
    if drivers is None:
        drivers = np.zeros((n, n_paths, steps, 0))
    if drivers.ndim != 4 or drivers.shape[:2] != (n, n_paths) or drivers.shape[2] < steps:
        raise ValueError(f"drivers: expected ({n}, {n_paths}, >= {steps}, K), got {drivers.shape}")
    rng = np.random.default_rng(seed)
    states = simulate_states(transitions, drivers[:, :, :steps], rng)
    values = np.stack([emission_draws(e, states, leads, rng) for e in emissions], axis=-1)
    return ObservableForecast(
        np.datetime64(origin, "M"), tuple(e.name for e in emissions), leads, labels, values
    )
