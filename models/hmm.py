"""The pathway model: a 3-state non-homogeneous hidden Markov model, monthly.

States DC (decoupling), SE (selective engagement), MC (managed competition), in that order.

Transitions. The logit of moving from origin ``i`` into destination ``j`` in month ``t`` is
``alpha[i, j] + sum_k beta[k, j] * drivers[t - 1, k]`` with DC as the reference destination
(logit 0), so ``alpha`` and ``beta`` have an SE and an MC column. A driver's effect is the same
from every origin: a wider win-set raises the odds of SE and MC against DC wherever the
relationship stands (the theory-signed priors are in :mod:`models.config`).

Sticky prior. In this reference parameterisation "stay" is expressed by centring ``alpha`` at
``stay_logit * ([i == j] - [i == DC])``: from every origin the stay logit is ``stay_logit``
above both moves, which are equal. Prior check (``models.fit.prior_predictive``, 2000 prior
draws on 200 months of four standardised AR(1) drivers, default priors: stay_logit 4.0,
alpha_sd 0.5, driver effects Normal(+-0.3, 0.3)): mean monthly persistence per draw has median
0.948 and 5-95% range 0.915-0.968, i.e. a median of 8 (5-95%: 3-15) regime switches in 200
months. (stay_logit 3.5 gave a median of 0.919 and a 5% quantile of 0.872, below the 0.9
floor; the drivers lower the average persistence because they move the logits month by month.)

Emissions. Each series, standardised with its observed mean and sd (so default priors are on a
unit scale whatever the source units; the constant Jacobian is dropped), is Gaussian given the
state with a mean per state and series and, by default, one sd per series shared by the states
(``ModelConfig.emission_sd``); missing months contribute nothing. Why shared: with an sd per
state a state can specialise in a flat stretch of one series (the 2015-2017 tariff plateau, sd
0.5 points against 16-19 elsewhere), and on the bundled panel the chains split between two
such segmentations 34 log-likelihood units apart (publication fit: R-hat 1.739, min bulk ESS
6, 110 s). Shared sds removed that mode (R-hat 1.002, min bulk ESS 2894, 13 s). On the
tension series (``series[0]``) the state means are ordered ``mu_DC > mu_SE > mu_MC``, which
removes label switching; ``ModelConfig.ordered_means`` orders further series the same way (or
MC highest), needed on the real panel where SE and MC have similar tension and swapped
between chains until the tariff level was ordered too. Timeline labels enter as noisy
observations of the state through a confusion matrix ``P(label | state)`` with Dirichlet rows
favouring the diagonal.

The discrete states are summed out exactly by the scaled forward pass of
:mod:`models.forward` (a ``pm.Potential``); state probabilities are recomputed after sampling
in NumPy (:mod:`models.states`). The initial state distribution is fixed uniform: one
sequence cannot identify it and month 0's emissions dominate it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import Ordered

from models.config import ModelConfig
from models.data import N_STATES, NO_LABEL, STATES, DataError, ModelData
from models.forward import forward_pytensor

DESTINATIONS: tuple[str, ...] = STATES[1:]
MIN_OBSERVED = 3
# Initial state means at these quantiles of the tension series: DC high, SE middle, MC low.
_INIT_QUANTILES = np.array([0.85, 0.5, 0.15])


@dataclass(frozen=True)
class Prepared:
    """Arrays the likelihood uses, derived from the selected data (shared with states.py)."""

    data: ModelData
    y: np.ndarray  # (T, M) standardised, 0 where missing
    mask: np.ndarray  # (T, M) 1.0 where observed
    center: np.ndarray  # (M,)
    scale: np.ndarray  # (M,)
    label_onehot: np.ndarray  # (T, S), all-zero rows where unlabelled

    @property
    def has_labels(self) -> bool:
        return bool(self.label_onehot.any())


def prepare(data: ModelData, config: ModelConfig) -> Prepared:
    """Select the config's series/drivers/start and standardise; errors name the field."""
    sel = data.select(config.series, config.drivers, config.start_month)
    observed = np.isfinite(sel.series)
    for m, name in enumerate(sel.series_names):
        if observed[:, m].sum() < MIN_OBSERVED:
            raise DataError(f"series: {name!r} has fewer than {MIN_OBSERVED} observed months")
    center = np.nanmean(sel.series, axis=0)
    scale = np.nanstd(sel.series, axis=0)
    if np.any(scale <= 0):
        raise DataError(f"series: constant series in {list(sel.series_names)}")
    y = np.where(observed, (sel.series - center) / scale, 0.0)
    onehot = np.zeros((sel.n_months, N_STATES))
    labelled = sel.labels != NO_LABEL
    onehot[np.flatnonzero(labelled), sel.labels[labelled]] = 1.0
    return Prepared(sel, y, observed.astype(float), center, scale, onehot)


def alpha_prior_mean(stay_logit: float) -> np.ndarray:
    """(origin, SE/MC) prior means that make every state equally sticky (see module doc)."""
    origin = np.arange(N_STATES)[:, None]
    dest = np.arange(1, N_STATES)[None, :]
    return stay_logit * ((origin == dest).astype(float) - (origin == 0).astype(float))


def prior_transition_draws(
    config: ModelConfig, driver_names: tuple[str, ...], n_draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``alpha`` (n, 3, 2) and ``beta`` (n, K, 2) drawn from their priors, as :func:`build_model`
    sets them: for prior-only forecasts and simulation-based calibration."""
    priors = config.priors
    mean0 = alpha_prior_mean(priors.stay_logit)
    alpha = mean0 + rng.normal(0.0, priors.alpha_sd, (n_draws, *mean0.shape))
    beta = np.zeros((n_draws, len(driver_names), N_STATES - 1))
    for k, name in enumerate(driver_names):
        beta[:, k] = priors.beta[name].draw(rng, (n_draws, N_STATES - 1))
    return alpha, beta


def initial_means(prep: Prepared, ordered: dict[str, str] | None = None) -> np.ndarray:
    """(M, S) starting state means from data quantiles.

    The tension series gets its 85/50/15% quantiles for DC/SE/MC; every other series the same
    quantiles, reversed when it moves against tension (negative correlation over the months
    both are observed) or when ``ordered`` says MC is highest. Without this one chain can
    settle where all regimes look alike.
    """
    ordered = {prep.data.series_names[0]: "DC_highest", **(ordered or {})}
    y = np.where(prep.mask > 0, prep.y, np.nan)
    means = np.empty((y.shape[1], N_STATES))
    for m, name in enumerate(prep.data.series_names):
        q = np.nanquantile(y[:, m], _INIT_QUANTILES)
        both = np.isfinite(y[:, 0]) & np.isfinite(y[:, m])
        against = both.sum() >= MIN_OBSERVED and np.corrcoef(y[both, 0], y[both, m])[0, 1] < 0
        if ordered.get(name, "MC_highest" if m > 0 and against else "DC_highest") == "MC_highest":
            q = q[::-1]
        if name in ordered:  # the ordered transform needs strictly monotone values
            sign = 1.0 if ordered[name] == "DC_highest" else -1.0
            for s in range(1, N_STATES):
                q[s] = sign * min(sign * q[s], sign * q[s - 1] - 0.05)
        means[m] = q
    return means


def log_transitions(alpha, beta, drivers: np.ndarray) -> pt.TensorVariable:
    """(T, S, S) log transition matrices into each month; entry 0 is a placeholder."""
    dest = pt.broadcast_to(alpha[None, :, :], (drivers.shape[0] - 1, N_STATES, N_STATES - 1))
    if beta is not None:
        dest = dest + pt.dot(drivers[:-1], beta)[:, None, :]
    logits = pt.concatenate([pt.zeros_like(dest[..., :1]), dest], axis=-1)
    log_trans = pt.special.log_softmax(logits, axis=-1)
    return pt.concatenate([log_trans[:1], log_trans], axis=0)


def log_emissions(mu, sigma, log_confusion, prep: Prepared) -> pt.TensorVariable:
    """(T, S) log density of each month's observed series (and label) given each state."""
    z = (prep.y[:, :, None] - mu[None, :, :]) / sigma[None, :, :]
    logpdf = -0.5 * z**2 - pt.log(sigma)[None, :, :] - 0.5 * np.log(2 * np.pi)
    log_emis = pt.sum(prep.mask[:, :, None] * logpdf, axis=1)
    if log_confusion is not None:
        log_emis = log_emis + pt.dot(prep.label_onehot, log_confusion.T)
    return log_emis


def build_model(data: ModelData, config: ModelConfig) -> pm.Model:
    """The PyMC model with states marginalised; free variables carry data-informed initvals."""
    prep = prepare(data, config)
    priors = config.priors
    sel = prep.data
    coords = {
        "state": STATES,
        "origin": STATES,
        "dest": DESTINATIONS,
        "driver": sel.driver_names,
        "series": sel.series_names,
        "timeline_label": STATES,
    }
    with pm.Model(coords=coords) as model:
        mean0 = alpha_prior_mean(priors.stay_logit)
        alpha = pm.Normal(
            "alpha", mu=mean0, sigma=priors.alpha_sd, dims=("origin", "dest"), initval=mean0
        )
        beta = None
        if sel.driver_names:
            per_driver = [
                priors.beta[name].create(f"beta_{name}", dims="dest") for name in sel.driver_names
            ]
            beta = pm.Deterministic("beta", pt.stack(per_driver), dims=("driver", "dest"))
        means = initial_means(prep, config.ordered_means)
        rows = {
            0: priors.mu_tension.create(
                "mu_tension", dims="state", transform=Ordered(ascending=False), initval=means[0]
            )
        }
        for m, name in enumerate(sel.series_names[1:], start=1):
            if name in config.ordered_means:
                ascending = config.ordered_means[name] == "MC_highest"
                rows[m] = priors.mu.create(
                    f"mu_{name}",
                    dims="state",
                    transform=Ordered(ascending=ascending),
                    initval=means[m],
                )
        free = [m for m in range(1, len(sel.series_names)) if m not in rows]
        if free:
            model.add_coord("other_series", [sel.series_names[m] for m in free])
            mu_other = priors.mu.create(
                "mu_other", dims=("other_series", "state"), initval=means[free]
            )
            rows.update({m: mu_other[i] for i, m in enumerate(free)})
        mu = pt.stack([rows[m] for m in range(len(sel.series_names))])
        mu = pm.Deterministic("mu", mu, dims=("series", "state"))
        pm.Deterministic(
            "mu_data", mu * prep.scale[:, None] + prep.center[:, None], dims=("series", "state")
        )
        if config.emission_sd == "per_series":
            shared = priors.sigma.create(
                "sigma_series", dims="series", initval=np.full(means.shape[0], 0.5)
            )
            sigma = pm.Deterministic(
                "sigma", pt.repeat(shared[:, None], N_STATES, axis=1), dims=("series", "state")
            )
        else:
            sigma = priors.sigma.create(
                "sigma", dims=("series", "state"), initval=np.full(means.shape, 0.5)
            )
        pm.Deterministic("sigma_data", sigma * prep.scale[:, None], dims=("series", "state"))
        log_confusion = None
        if prep.has_labels:
            diagonal = np.eye(N_STATES, dtype=bool)
            conc = np.where(diagonal, priors.confusion_diag, priors.confusion_off)
            confusion = pm.Dirichlet("confusion", a=conc, dims=("state", "timeline_label"))
            log_confusion = pt.log(confusion)
        log_trans = log_transitions(alpha, beta, sel.drivers)
        log_emis = log_emissions(mu, sigma, log_confusion, prep)
        log_init = np.full(N_STATES, -np.log(N_STATES))
        loglik, _ = forward_pytensor(log_init, log_trans, log_emis)
        pm.Potential("hmm_loglik", loglik)
    return model
