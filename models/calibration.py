"""Simulation-based calibration (SBC) of the transition parameters, at a given number of
regime switches: what the data can teach about the dynamics, and whether the posterior of
the transition intercepts and driver effects is calibrated when they are learned from so few.

Why the transitions alone, with the regime path observed: the forecast's driver effects are
the quantities whose learning is in doubt (only a handful of regime switches since 2009), and
observing the path is the best case for learning them, an upper bound on what the full HMM
(which only infers the path) can learn. It also makes the rejection step valid: SBC holds for
any selection that depends on the data alone, and here the path *is* the data, so keeping
only simulated paths with exactly the real panel's number of switches calibrates the
posterior that the real number of switches allows. (Selecting on a latent path would not.)

Each replication draws ``alpha`` and ``beta`` from the config's priors
(:func:`models.hmm.prior_transition_draws`), simulates a monthly path on the real drivers with
the model's transition formula (as :func:`models.hmm.log_transitions`), redraws until the path
has ``n_switches`` switches, samples the posterior given the path with NUTS
(:class:`TransitionPosterior`), and records the rank of each true value among ``draws``
thinned posterior draws. Calibrated posteriors give uniform ranks (Talts et al. 2018);
:func:`rank_uniformity` tests that with a chi-square over equal-width bins per parameter.
The posterior's contraction (1 - posterior / prior variance, averaged) says how much was
learned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from models.config import ModelConfig
from models.data import N_STATES, STATES
from models.hmm import DESTINATIONS, alpha_prior_mean, prior_transition_draws

MAX_TRIES = 20_000  # prior redraws per replication before giving up on the switch count
# numpyro compiles part of each run anew even with ``jit_model_args`` (measured: about 800
# new memory mappings per replication at 50 draws), and LLVM fails with "Cannot allocate
# memory" at Linux's 65,530-mapping limit (a 200-replication run died after about 40).
# Clearing JAX's caches every so often frees them; a recompile costs about 8 s.
CLEAR_CACHES_EVERY = 20


def simulate_path(
    alpha: np.ndarray, beta: np.ndarray, drivers: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(T,) states: a uniform first month, then transitions on last month's drivers."""
    n = drivers.shape[0]
    dest = alpha[None] + (drivers[:-1] @ beta)[:, None, :]  # (T-1, 3 origins, 2)
    logits = np.concatenate([np.zeros((n - 1, N_STATES, 1)), dest], axis=-1)
    probs = special.softmax(logits, axis=-1)
    states = np.empty(n, dtype=np.int64)
    states[0] = rng.integers(N_STATES)
    uniform = rng.random(n - 1)
    for t in range(1, n):
        cum = np.cumsum(probs[t - 1, states[t - 1]])
        states[t] = min(int(np.searchsorted(cum, uniform[t - 1], side="right")), N_STATES - 1)
    return states


def switches(states: np.ndarray) -> int:
    return int((np.diff(states) != 0).sum())


def parameter_names(driver_names: tuple[str, ...]) -> list[str]:
    """Flat names in the order of :func:`_flat`: alpha[origin, dest], then beta[driver, dest]."""
    alpha = [f"alpha[{o},{d}]" for o in STATES for d in DESTINATIONS]
    return alpha + [f"beta[{k},{d}]" for k in driver_names for d in DESTINATIONS]


def _flat(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """(..., P) parameters flattened as :func:`parameter_names` lists them."""
    lead = alpha.shape[:-2]
    return np.concatenate([alpha.reshape(*lead, -1), beta.reshape(*lead, -1)], axis=-1)


def _path_model(drivers, transitions, mean0, alpha_sd, beta_mu, beta_sd):
    """The transition part of :func:`models.hmm.build_model` for a known path, in numpyro:
    logit 0 into DC, ``alpha[i, j] + drivers[t - 1] @ beta[:, j]`` into SE and MC."""
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    alpha = numpyro.sample("alpha", dist.Normal(mean0, alpha_sd).to_event(2))
    beta = numpyro.sample("beta", dist.Normal(beta_mu, beta_sd).to_event(2))
    dest = alpha[None] + (drivers[:-1] @ beta)[:, None, :]
    logits = jnp.concatenate([jnp.zeros((*dest.shape[:-1], 1)), dest], axis=-1)
    numpyro.factor("path", jnp.sum(jax.nn.log_softmax(logits, axis=-1) * transitions))


@dataclass
class TransitionPosterior:
    """NUTS for the transition parameters given a known path, compiled once and reused.

    Why numpyro directly and not PyMC: SBC fits hundreds of small posteriors, and PyMC
    compiles each model anew (minutes per replication on a shared 2-core machine), while a
    numpyro sampler whose data are arguments is compiled once for every replication.
    ``tests/models/test_calibration.py`` checks its log density against the HMM's own
    transition formula. Only Normal priors (the defaults) are supported.
    """

    config: ModelConfig
    driver_names: tuple[str, ...]
    draws: int
    chains: int = 2
    runs: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        from numpyro.infer import MCMC, NUTS

        priors = self.config.priors
        others = [n for n in self.driver_names if priors.beta[n].dist != "Normal"]
        if others:
            raise ValueError(f"priors.beta: calibration supports Normal priors, not for {others}")
        self._mcmc = MCMC(
            NUTS(_path_model, target_accept_prob=0.9),
            num_warmup=self.draws,
            num_samples=self.draws,
            num_chains=self.chains,
            chain_method="sequential",
            progress_bar=False,
            jit_model_args=True,
        )

    def model_args(self, states: np.ndarray, drivers: np.ndarray) -> tuple[np.ndarray, ...]:
        priors = self.config.priors
        transitions = np.zeros((states.shape[0] - 1, N_STATES, N_STATES))
        transitions[np.arange(states.shape[0] - 1), states[:-1], states[1:]] = 1.0
        beta = [priors.beta[n].params for n in self.driver_names]
        return (
            np.asarray(drivers, dtype=float),
            transitions,
            alpha_prior_mean(priors.stay_logit),
            np.full((N_STATES, N_STATES - 1), priors.alpha_sd),
            np.array([[b["mu"]] * (N_STATES - 1) for b in beta]),
            np.array([[b["sigma"]] * (N_STATES - 1) for b in beta]),
        )

    def sample(self, states: np.ndarray, drivers: np.ndarray, seed: int) -> np.ndarray:
        """(chains * draws, P) posterior draws, flattened as :func:`parameter_names`."""
        import jax

        self.runs += 1
        if self.runs % CLEAR_CACHES_EVERY == 0:
            jax.clear_caches()
        self._mcmc.run(jax.random.PRNGKey(seed), *self.model_args(states, drivers))
        draws = self._mcmc.get_samples()
        return _flat(np.asarray(draws["alpha"]), np.asarray(draws["beta"]))


@dataclass(frozen=True)
class SBCResult:
    """Ranks (R, P) of the true values among ``draws`` posterior draws, per replication."""

    names: list[str]
    ranks: np.ndarray  # (R, P) ints in 0..draws
    draws: int
    n_switches: int
    contraction: np.ndarray  # (P,) mean over replications of 1 - posterior / prior variance
    tries: np.ndarray  # (R,) prior draws needed to hit the switch count

    def uniformity(self, bins: int) -> np.ndarray:
        """(P,) chi-square p-values of uniform ranks (:func:`rank_uniformity`)."""
        return rank_uniformity(self.ranks, self.draws, bins)


def rank_uniformity(ranks: np.ndarray, draws: int, bins: int) -> np.ndarray:
    """(P,) p-values of a chi-square test that ranks in 0..draws are uniform, per column.

    ``draws + 1`` must be a multiple of ``bins`` so every bin holds as many possible ranks.
    """
    if (draws + 1) % bins:
        raise ValueError(f"bins: {bins} does not divide the {draws + 1} possible ranks")
    per_bin = (draws + 1) // bins
    counts = np.stack([np.bincount(col // per_bin, minlength=bins) for col in ranks.T])
    return stats.chisquare(counts, axis=1).pvalue


def calibrate(
    config: ModelConfig,
    drivers: np.ndarray,
    driver_names: tuple[str, ...],
    n_switches: int,
    replications: int,
    draws: int = 99,
    seed: int = 0,
    fit_config: ModelConfig | None = None,
) -> SBCResult:
    """SBC of the transition parameters on ``drivers`` (T, K) at ``n_switches`` switches.

    ``draws``: thinned posterior draws per replication (ranks run 0..draws); ``fit_config``:
    priors the posterior is fitted with, default ``config``'s (another one shows the test's
    power: ranks pile up when the fit's prior is not the simulation's).
    """
    fit_config = fit_config or config
    rng = np.random.default_rng(seed)
    names = parameter_names(driver_names)
    ranks = np.empty((replications, len(names)), dtype=np.int64)
    contraction = np.zeros(len(names))
    tries = np.zeros(replications, dtype=np.int64)
    prior_alpha, prior_beta = prior_transition_draws(config, driver_names, 4000, rng)
    prior_var = _flat(prior_alpha, prior_beta).var(axis=0)
    sampler = TransitionPosterior(fit_config, driver_names, draws=draws + 1)
    for r in range(replications):
        while True:
            tries[r] += 1
            alpha, beta = prior_transition_draws(config, driver_names, 1, rng)
            states = simulate_path(alpha[0], beta[0], drivers, rng)
            if switches(states) == n_switches:
                break
            if tries[r] == MAX_TRIES:
                raise ValueError(
                    f"n_switches: no prior draw in {MAX_TRIES} gave a path with {n_switches} "
                    f"switches in {drivers.shape[0]} months"
                )
        # more draws than kept, then thinned: ranks need nearly independent draws
        posterior = sampler.sample(states, drivers, int(rng.integers(2**31)))
        keep = np.linspace(0, posterior.shape[0] - 1, draws).round().astype(int)
        truth = _flat(alpha[0], beta[0])
        ranks[r] = (posterior[keep] < truth).sum(axis=0)
        contraction += 1 - posterior.var(axis=0) / prior_var
    return SBCResult(names, ranks, draws, n_switches, contraction / replications, tries)
