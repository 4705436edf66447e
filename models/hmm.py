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
6, 110 s). Shared sds removed that mode (R-hat 1.002, min bulk ESS 2894, 13 s).

Counts. Event counts (``ModelConfig.counts``) are Poisson or negative binomial given the
state, with a log rate per state and count centred on the log of the count's observed mean;
months where a count does not exist (before its source starts, after it ends) contribute
nothing, exactly like a missing series month. A negative binomial count has one shape per
count (larger = closer to Poisson), for counts such as PLA aircraft whose month-to-month
spread is far wider than a Poisson's.

What the labels mean. Three states with free means are exchangeable: some constraint must say
which is DC. An ordered mean on one severity scale (tension DC > SE > MC, the design until
this one) makes SE "the middle level of everything", so 2018-2019 came out SE because the
tariff sat in a middle band. Instead each state is fixed by the one observable the essay says
it alone has most of (``ModelConfig.count_highest``): managed competition is "structured
processes of negotiation" (dialogue highest in MC), decoupling is "more tariffs,
technological restrictions, and military confrontations" (restrictive events highest in DC),
selective engagement is "cooperation persisting in narrow areas like climate change and
global health" (issue cooperation highest in SE). Only the top is constrained: the other two
states' rates, and every other mean and rate, are free. Why a least ratio
(``priors.count_min_ratio``, default 2) on top of "highest": with a bare "highest" two states
with similar dialogue rates satisfied the constraint either way round, and chains swapped SE
and MC with equal likelihood (R-hat 1.83 on the bundled panel); requiring the identified
state to have at least twice the rate lets the data decide which state that is. Hard
orderings on one count per state were preferred to essay-shaped prior means on every count:
a prior mean says how much, which the essay does not, and it would be hard to tell where the
posterior merely repeats it. ``mean_highest`` does the same for a series mean (no least gap).

The timeline labels enter as noisy observations of the state through a confusion matrix
``P(label | state)`` with Dirichlet rows favouring the diagonal, unless ``label_emissions`` is
off (then they are only the yardstick the fit is measured against). The labels are the
compiler's summary of the same events the counts hold, so with both on the events count
twice; the publication config says which it uses and why.

The discrete states are summed out exactly by the scaled forward pass of
:mod:`models.forward` (a ``pm.Potential``); state probabilities are recomputed after sampling
in NumPy (:mod:`models.states`). The initial state distribution is fixed uniform: one
sequence cannot identify it and month 0's emissions dominate it anyway.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import Ordered
from scipy.special import gammaln

from models.config import ModelConfig
from models.data import N_STATES, STATES
from models.forward import forward_pytensor
from models.prepared import MIN_OBSERVED, Prepared
from models.priors import Prior

DESTINATIONS: tuple[str, ...] = STATES[1:]
# Initial state means at these quantiles of the tension series: DC high, SE middle, MC low.
_INIT_QUANTILES = np.array([0.85, 0.5, 0.15])


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


def initial_means(
    prep: Prepared, ordered: dict[str, str] | None = None, orders_tension: bool = True
) -> np.ndarray:
    """(M, S) the model's default starting state means, from data quantiles.

    Fits start from prior draws instead (``sampler.init``, :mod:`models.initial_points`);
    these values remain the model's own initial point, which the ordered transforms need to
    be strictly monotone.

    The tension series gets its 85/50/15% quantiles for DC/SE/MC; every other series the same
    quantiles, reversed when it moves against tension (negative correlation over the months
    both are observed) or when ``ordered`` says MC is highest. Without this one chain can
    settle where all regimes look alike.
    """
    first = {prep.data.series_names[0]: "DC_highest"} if orders_tension else {}
    ordered = {**first, **(ordered or {})}
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


def log_emissions(
    mu, sigma, log_confusion, prep: Prepared, count_log_rate=None, count_shape=None
) -> pt.TensorVariable:
    """(T, S) log density of each month's observed series, counts (and label) given each state.

    ``count_log_rate`` (C, S) is the log of each state's mean count per month; ``count_shape``
    (C,) the negative binomial shape (ignored, and best 1.0, for Poisson counts).
    """
    log_emis = pt.zeros((prep.y.shape[0], N_STATES))
    if mu is not None:  # None when the series are described given the states (a cut)
        z = (prep.y[:, :, None] - mu[None, :, :]) / sigma[None, :, :]
        logpdf = -0.5 * z**2 - pt.log(sigma)[None, :, :] - 0.5 * np.log(2 * np.pi)
        log_emis = log_emis + pt.sum(prep.mask[:, :, None] * logpdf, axis=1)
    if log_confusion is not None:
        log_emis = log_emis + pt.dot(prep.label_onehot, log_confusion.T)
    if count_log_rate is not None:
        log_emis = log_emis + count_log_pmf(pt, count_log_rate, count_shape, prep)
    return log_emis


def count_log_pmf(xp, log_rate, shape, prep: Prepared):
    """(..., T, S) summed log pmf of the month's counts given each state, in NumPy or PyTensor.

    ``xp`` is ``numpy`` or ``pytensor.tensor`` (both spell these functions alike), so the
    model's graph and :mod:`models.states` share one formula. Months where a count does not
    exist contribute nothing.
    """
    y = prep.counts[:, :, None]  # (T, C, 1)
    lr = log_rate[..., None, :, :]  # (..., 1, C, S)
    poisson = y * lr - xp.exp(lr) - prep.count_lgamma[:, :, None]
    k = shape[..., None, :, None]
    log_total = xp.log(k + xp.exp(lr))
    gammaln_ = pt.gammaln if xp is pt else gammaln
    negbin = (
        gammaln_(y + k)
        - gammaln_(k)
        - prep.count_lgamma[:, :, None]
        + k * (xp.log(k) - log_total)
        + y * (lr - log_total)
    )
    logpmf = xp.where(prep.negative_binomial[:, None], negbin, poisson)
    return xp.sum(prep.count_mask[:, :, None] * logpmf, axis=-2)


def build_model(prep: Prepared, config: ModelConfig) -> pm.Model:
    """The PyMC model with states marginalised, on arrays :func:`models.prepared.prepare`
    made; free variables carry data-informed initvals."""
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
        mu = sigma = None
        if not config.series_given_states:
            mu, sigma = _series_parameters(prep, config)
        count_log_rate, count_shape = count_parameters(prep, config)
        log_confusion = None
        if prep.has_labels:
            diagonal = np.eye(N_STATES, dtype=bool)
            conc = np.where(diagonal, priors.confusion_diag, priors.confusion_off)
            confusion = pm.Dirichlet("confusion", a=conc, dims=("state", "timeline_label"))
            log_confusion = pt.log(confusion)
        log_trans = log_transitions(alpha, beta, sel.drivers)
        log_emis = log_emissions(mu, sigma, log_confusion, prep, count_log_rate, count_shape)
        log_init = np.full(N_STATES, -np.log(N_STATES))
        loglik, _ = forward_pytensor(log_init, log_trans, log_emis)
        pm.Potential("hmm_loglik", loglik)
    return model


def _series_parameters(prep: Prepared, config: ModelConfig):
    """Standardised state means and sds (M, S) of the Gaussian series, in the current model."""
    priors = config.priors
    sel = prep.data
    model = pm.modelcontext(None)
    means = initial_means(prep, config.ordered_means, config.orders_tension)
    rows = {}
    if config.orders_tension:
        rows[0] = priors.mu_tension.create(
            "mu_tension", dims="state", transform=Ordered(ascending=False), initval=means[0]
        )
    for m, name in enumerate(sel.series_names):
        if name in config.mean_highest:
            rows[m] = _highest_of_three(
                f"mu_{name}", config.mean_highest[name], priors.mu, priors.mean_gap
            )
    for m, name in enumerate(sel.series_names[1:], start=1):
        if name in config.ordered_means:
            ascending = config.ordered_means[name] == "MC_highest"
            rows[m] = priors.mu.create(
                f"mu_{name}",
                dims="state",
                transform=Ordered(ascending=ascending),
                initval=means[m],
            )
    free = [m for m in range(len(sel.series_names)) if m not in rows]
    if free:
        model.add_coord("other_series", [sel.series_names[m] for m in free])
        mu_other = priors.mu.create("mu_other", dims=("other_series", "state"), initval=means[free])
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
    return mu, sigma


def count_parameters(prep: Prepared, config: ModelConfig):
    """Per-state log rates (C, S) and negative binomial shapes (C,) of the counts, in the
    current model; ``(None, None)`` without counts.

    A count named in ``config.count_highest`` for state ``h`` gets free log rates for the two
    other states and ``log_rate[h] = max(the other two) + gap`` with ``gap >= 0``: ``h`` is
    highest on it whatever the data say, which fixes what ``h`` means; how much higher, and
    the order of the other two, are left to the data. Stored as ``count_log_rate`` and
    ``count_rate`` (events per month) with dims (count_series, state), and ``count_shape``.
    """
    names = prep.data.count_names
    if not names:
        return None, None
    priors = config.priors
    model = pm.modelcontext(None)
    model.add_coord("count_series", names)
    rows = []
    for name in names:
        top = config.count_highest.get(name)
        if top is None:
            rows.append(priors.count_log_rate.create(f"count_log_rate_{name}", dims="state"))
            continue
        rows.append(
            _highest_of_three(
                f"count_log_rate_{name}",
                top,
                priors.count_log_rate,
                priors.count_gap,
                np.log(priors.count_min_ratio),
            )
        )
    log_rate = pt.stack(rows) + prep.count_centre[:, None]
    log_rate = pm.Deterministic("count_log_rate", log_rate, dims=("count_series", "state"))
    pm.Deterministic("count_rate", pt.exp(log_rate), dims=("count_series", "state"))
    shape = pt.ones(len(names))
    nb = [c for c, name in enumerate(names) if prep.negative_binomial[c]]
    if nb:
        model.add_coord("negative_binomial_series", [names[c] for c in nb])
        k = priors.count_shape.create("count_shape", dims="negative_binomial_series")
        shape = pt.set_subtensor(shape[nb], k)
    return log_rate, shape


def _highest_of_three(
    name: str, top: str, level: Prior, gap: Prior, least: float = 0.0
) -> pt.TensorVariable:
    """(S,) values in which state ``top`` alone is highest: the other two drawn from ``level``
    (variable ``name``, dims ``not_<top>``), ``top`` the larger of them plus ``least`` plus a
    draw of ``gap`` (variable ``<name>_gap``, >= 0). Only the top is constrained, not the
    order of the rest."""
    model = pm.modelcontext(None)
    others = [s for s in STATES if s != top]
    if f"not_{top}" not in model.coords:
        model.add_coord(f"not_{top}", others)
    rest = level.create(name, dims=f"not_{top}")
    above = gap.create(f"{name}_gap")
    by_state = {s: rest[i] for i, s in enumerate(others)}
    by_state[top] = pt.maximum(rest[0], rest[1]) + least + above
    return pt.stack([by_state[s] for s in STATES])
