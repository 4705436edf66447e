"""SYNTHETIC recovery: fit data simulated from the model with known parameters that the priors
do not already give away, and check that the regimes come back and that the posterior moves
from the prior toward the truth. The data are not real; see models.simulate_data.

Why this truth: a recovery test passes trivially when the true effects sit where the prior
already is (the posterior can stay at the prior and still "cover" them). Here every true
driver effect and intercept lies outside the prior's central 50% interval, and each driver has
an effect of the opposite sign to its theory-signed prior mean, so only learning from the
data can bring the posterior near them.

Counts: three Poisson counts, observed only in the second half of the months (the first half
is a structural gap), each fixing one state's label by being highest there (``count_highest``),
as the publication model does; the tension means are not ordered. The true gaps between the
fixed state and the next lie beyond the gap prior's central 50%, and on the restrictive count
MC lies above SE, an order nothing in the model imposes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.config import ModelConfig
from models.fit import FitResult, fit
from models.hmm import alpha_prior_mean
from models.simulate_data import SyntheticTruth, simulate_synthetic
from models.states import state_probabilities

# A fast fit per case, far from the prior: the slowest model tests.
pytestmark = pytest.mark.slow

MONTHS = 240
# W_US and INTL into SE and MC: the priors say (+0.3, +0.3) and (-0.3, -0.3), sd 0.3
TRUE_BETA = np.array([[1.3, -0.8], [-1.3, 0.8]])
# against the sticky prior mean (stay_logit 4): looser exits from SE and MC, stickier DC
TRUE_ALPHA_SHIFT = np.array([[0.8, 0.8], [-0.8, 0.6], [0.6, -0.8]])
# Events per month in DC, SE, MC
TRUE_COUNT_RATE = np.array([[0.15, 0.6, 2.0], [2.0, 0.2, 0.5], [0.1, 1.5, 0.3]])
COUNTS = ("dialogue", "restrictive", "cooperation")
HIGHEST = {"dialogue": "MC", "restrictive": "DC", "cooperation": "SE"}
EMISSIONS = {
    "mu_data": "mu",
    "sigma_data": "sigma",
    "confusion": "confusion",
    "count_rate": "count_rate",
}


@pytest.fixture(scope="module")
def recovery() -> tuple[FitResult, SyntheticTruth, ModelConfig]:
    config = ModelConfig(
        series=("tension", "cooperation"),
        drivers=("W_US", "INTL"),
        counts=dict.fromkeys(COUNTS, "poisson"),
        count_highest=HIGHEST,
    ).fast()
    truth = SyntheticTruth(
        alpha=alpha_prior_mean(config.priors.stay_logit) + TRUE_ALPHA_SHIFT,
        beta=TRUE_BETA,
        count_rate=TRUE_COUNT_RATE,
    )
    data, truth = simulate_synthetic(
        MONTHS, truth=truth, seed=1, count_names=COUNTS, counts_from=0.5
    )
    return fit(data, config), truth, config


def _prior(config: ModelConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prior means and sds of alpha (3, 2) and beta (2, 2)."""
    p = config.priors
    beta_mean = np.array([[p.beta[n].params["mu"]] * 2 for n in ("W_US", "INTL")])
    beta_sd = np.array([[p.beta[n].params["sigma"]] * 2 for n in ("W_US", "INTL")])
    alpha_mean = alpha_prior_mean(p.stay_logit)
    return alpha_mean, np.full_like(alpha_mean, p.alpha_sd), beta_mean, beta_sd


def _draws(result: FitResult, name: str) -> np.ndarray:
    var = result.idata["posterior"][name]
    return var.values.reshape(-1, *var.shape[2:])


def test_the_truth_is_not_where_the_prior_is(recovery) -> None:
    _, truth, config = recovery
    alpha_mean, alpha_sd, beta_mean, beta_sd = _prior(config)
    half = stats.norm.ppf(0.75)  # the central 50% interval is mean +- 0.674 sd
    assert np.all(np.abs(truth.beta - beta_mean) > half * beta_sd)
    assert np.all(np.abs(truth.alpha - alpha_mean) > half * alpha_sd)
    # every driver has an effect of the sign its prior mean denies
    assert np.all((np.sign(truth.beta) != np.sign(beta_mean)).any(axis=1))


def test_count_gaps_are_not_where_the_prior_is(recovery) -> None:
    _, truth, config = recovery
    gap_prior = config.priors.count_gap.params["sigma"]
    upper_50 = gap_prior * stats.norm.ppf(0.875)  # HalfNormal's central 50% ends here
    log_rate = np.log(truth.count_rate)
    for c, name in enumerate(COUNTS):
        top = ("DC", "SE", "MC").index(HIGHEST[name])
        gap = log_rate[c, top] - np.delete(log_rate[c], top).max()
        assert gap > upper_50, (name, gap)


def test_count_rates_found_including_an_order_nothing_imposes(recovery) -> None:
    result, truth, _ = recovery
    rate = _draws(result, "count_rate")  # (D, C, S)
    top = [("DC", "SE", "MC").index(HIGHEST[n]) for n in COUNTS]
    assert np.all(rate[:, np.arange(3), top] >= rate.max(axis=-1) - 1e-12)  # the constraint
    restrictive = COUNTS.index("restrictive")
    assert truth.count_rate[restrictive, 2] > truth.count_rate[restrictive, 1]
    assert (rate[:, restrictive, 2] > rate[:, restrictive, 1]).mean() > 0.8


def test_regimes_recovered_from_smoothed_probabilities(recovery) -> None:
    result, truth, _ = recovery
    probs = state_probabilities(result.model)
    accuracy = float((probs.most_likely() == truth.states).mean())
    assert accuracy >= 0.95, f"only {accuracy:.1%} of months in the right regime"
    # the synthetic path really switches, so this is not a one-regime trivial fit
    assert np.bincount(truth.states, minlength=3).min() >= 20
    assert int((np.diff(truth.states) != 0).sum()) >= 15


def test_driver_effects_move_from_the_prior_toward_the_truth(recovery) -> None:
    result, truth, config = recovery
    _, _, beta_mean, _ = _prior(config)
    draws = _draws(result, "beta")
    post = draws.mean(axis=0)
    # at least a quarter of the way from the prior mean to the truth, for every effect
    assert np.all(np.abs(post - truth.beta) < 0.75 * np.abs(beta_mean - truth.beta)), post
    # the prior mean is outside the posterior's central 90%: the data moved it away
    lower, upper = np.quantile(draws, [0.05, 0.95], axis=0)
    assert np.all((beta_mean < lower) | (beta_mean > upper)), (lower, upper)
    # effects of the sign the prior denies are found with that sign
    opposite = np.sign(truth.beta) != np.sign(beta_mean)
    right_sign = (np.sign(draws) == np.sign(truth.beta)).mean(axis=0)
    assert np.all(right_sign[opposite] > 0.8), right_sign


def test_intercepts_move_toward_the_truth(recovery) -> None:
    result, truth, config = recovery
    alpha_mean, _, _, _ = _prior(config)
    post = _draws(result, "alpha").mean(axis=0)
    gap_prior = np.abs(alpha_mean - truth.alpha)
    gap_post = np.abs(post - truth.alpha)
    assert (gap_post < gap_prior).sum() >= 5, post  # of the six intercepts
    assert gap_post.sum() < 0.7 * gap_prior.sum(), post


def test_emission_parameters_inside_94_percent_intervals(recovery) -> None:
    result, truth, _ = recovery
    inside, total, missed = 0, 0, []
    for name, attr in EMISSIONS.items():
        draws = _draws(result, name)
        lower, upper = np.quantile(draws, [0.03, 0.97], axis=0)
        value = getattr(truth, attr)
        assert value.shape == lower.shape, name
        hit = (value >= lower) & (value <= upper)
        inside += int(hit.sum())
        total += hit.size
        missed += [f"{name}{idx}" for idx in zip(*np.nonzero(~hit), strict=True)]
    assert inside / total >= 0.80, f"{inside}/{total} inside; missed {missed}"


def test_fast_fit_sampled_cleanly(recovery) -> None:
    d = recovery[0].diagnostics
    assert d.divergences == 0
    assert d.max_rhat < 1.05
    assert min(d.min_ess_bulk, d.min_ess_tail) > 100
    assert (d.chains, d.draws) == (2, 500)
