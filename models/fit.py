"""Fitting the pathway model, and what it implies before seeing the series (prior predictive).

Why numpyro by default: measured on this 2-core machine on a SYNTHETIC problem of the real
shape (T=360 months, 3 series, 4 drivers, labels; 38 parameters; 4 chains x 1000 draws after
1000 tuning, wall time including compilation): numpyro 21.6 s (min bulk ESS 3238, 150 ESS/s);
nutpie with its JAX backend 31.1 s (96 ESS/s); nutpie with numba 132 s with one chain stuck
(R-hat 1.53); PyMC's own NUTS 176 s (21 ESS/s). numpyro is also already a dependency. On the
bundled real panel (212 months, ``benchmarks/sampler.py``, same run): numpyro 14.0 s with a
cold JAX cache and 6.1 s warm, PyMC's default 123 s; min bulk ESS per second 21x higher.
``sampler.backend`` can be ``nutpie`` (if installed; run with its JAX backend) or ``pymc``.

Reproducibility: the sampler seed comes from the config, and so do the chains' starting
points (independent prior draws by default, :mod:`models.initial_points`), so the same
config and the same data give identical draws.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from models.config import ModelConfig
from models.data import N_STATES, STATES, ModelData
from models.diagnostics import Diagnostics, diagnose
from models.fitted import FittedModel
from models.hmm import build_model
from models.initial_points import prior_initvals
from models.prepared import prepare
from models.series_given_states import with_series_given_states
from models.states import log_transitions_numpy, simulate_paths


@dataclass(frozen=True)
class FitResult:
    """A fit: the fitted model every reader takes, and how the sampling went."""

    model: FittedModel
    diagnostics: Diagnostics
    sampler: str
    wall_seconds: float

    @property
    def data_hash(self) -> str:
        """The hash of the sub-panel the model saw: new data with another hash need a refit."""
        return self.model.data.data_hash()

    @property
    def idata(self) -> xr.DataTree:
        return self.model.idata

    @property
    def config(self) -> ModelConfig:
        return self.model.config

    @property
    def data(self) -> ModelData:
        """The sub-panel the model saw (config's series, drivers, counts, start)."""
        return self.model.data


def fit(data: ModelData, config: ModelConfig, *, progressbar: bool = False) -> FitResult:
    """Sample the posterior with the configured backend and compute the health diagnostics."""
    prep = prepare(data, config)
    model = build_model(prep, config)
    s = config.sampler
    kwargs: dict = {}
    if s.backend == "pymc":
        kwargs["cores"] = min(s.chains, os.cpu_count() or 1)
    elif s.backend == "nutpie":  # measured: its JAX backend beat its numba one on this model
        kwargs["compile_kwargs"] = {"mode": "JAX"}
    if s.init == "prior_draws":
        kwargs["initvals"] = prior_initvals(model, s.chains, s.seed)
    started = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=s.draws,
            tune=s.tune,
            chains=s.chains,
            random_seed=s.seed,
            nuts_sampler=s.backend,
            nuts={"target_accept": s.target_accept},
            progressbar=progressbar,
            compute_convergence_checks=False,
            **kwargs,
        )
    if config.series_given_states:
        idata = with_series_given_states(idata, prep, config, s.seed)
    wall = time.perf_counter() - started
    return FitResult(
        model=FittedModel(config, prep, idata),
        diagnostics=diagnose(idata, config.health),
        sampler=s.backend,
        wall_seconds=wall,
    )


@dataclass(frozen=True)
class PriorPredictive:
    """Regime behaviour implied by the priors alone, on the data's own driver path."""

    switches: np.ndarray  # (D,) regime switches per simulated path
    persistence: np.ndarray  # (D,) mean monthly P(stay) over months and origins
    state_share: np.ndarray  # (S,) share of simulated months in DC, SE, MC
    n_months: int

    def summary(self) -> dict[str, float]:
        q = (0.05, 0.5, 0.95)
        s5, s50, s95 = np.quantile(self.switches, q)
        p5, p50, p95 = np.quantile(self.persistence, q)
        return {
            "months": float(self.n_months),
            "switches_q05": float(s5),
            "switches_median": float(s50),
            "switches_q95": float(s95),
            "persistence_q05": float(p5),
            "persistence_median": float(p50),
            "persistence_q95": float(p95),
            **{f"share_{k}": float(v) for k, v in zip(STATES, self.state_share, strict=True)},
        }


def prior_predictive(data: ModelData, config: ModelConfig, draws: int = 1000) -> PriorPredictive:
    """Simulate regime paths from prior draws of the transition parameters.

    Used to check that the sticky prior means what its docstring says (monthly persistence
    about 0.9-0.98) and to show analysts how many switches the model expects a priori.
    """
    prep = prepare(data, config)
    model = build_model(prep, config)
    sel = prep.data
    names = ["alpha", "beta"] if sel.driver_names else ["alpha"]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Potential.*")
        prior = pm.sample_prior_predictive(
            draws, model=model, var_names=names, random_seed=config.sampler.seed
        )["prior"]
    alpha = prior["alpha"].values.reshape(-1, N_STATES, N_STATES - 1)
    beta = prior["beta"].values.reshape(-1, *prior["beta"].shape[2:]) if "beta" in prior else None
    log_trans = log_transitions_numpy(alpha, beta, sel.drivers)  # (D, T, S, S)
    trans = np.exp(log_trans)
    path = simulate_paths(log_trans, np.random.default_rng(config.sampler.seed))
    n_months = trans.shape[1]
    stay = np.diagonal(trans[:, 1:], axis1=-2, axis2=-1)  # (D, T-1, S)
    return PriorPredictive(
        switches=(np.diff(path, axis=1) != 0).sum(axis=1),
        persistence=stay.mean(axis=(1, 2)),
        state_share=np.bincount(path.ravel(), minlength=N_STATES) / path.size,
        n_months=n_months,
    )
