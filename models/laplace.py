"""Fast approximate posterior for many-origin backtests: the mode plus a Laplace approximation.

Why not NUTS at every origin: a monthly backtest refits two models at well over a hundred
origins; even fast NUTS (2 chains x 500 draws) costs about 17 s per fit on two cores, which is
over an hour for the evaluation alone. Here the same PyMC model (:func:`models.hmm.build_model`,
untouched) is compiled to a JAX log density with the data as arguments (once per model
structure, shared by every origin padded to the same months), its mode is found with L-BFGS on
the unconstrained scale (warm-started from the previous origin's mode when the parameters have
the same shapes), and the posterior is approximated by a Gaussian there, with the covariance
the inverse of a finite-difference Hessian of the exact gradient (a compiled JAX Hessian cost
several seconds more to compile). Draws are mapped back through the model's own transforms, and
the state means and sds to data units, so everything downstream reads them as it reads a NUTS
posterior.

What it gives up: a Gaussian on the unconstrained scale cannot show a second mode (the label
switching the ordered means prevent) or strong skew; how much this moves the forecasts is
measured against the publication NUTS fit (``benchmarks/backtest.py``, figures in the README).
A Hessian that is not positive definite (a flat direction) has its eigenvalues floored at
:data:`MIN_CURVATURE` and the fit says so (``floored``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import optimize

from models.config import ModelConfig
from models.data import NO_LABEL, ModelData
from models.fitted import FittedModel
from models.hmm import build_model
from models.prepared import Prepared, prepare
from models.series_given_states import with_series_given_states

MIN_CURVATURE = 1e-3  # eigenvalue floor of the Hessian: an sd of at most ~30 on the raw scale
FD_STEP = 1e-4  # central-difference step of the Hessian, unconstrained scale
PARAMETERS = ("alpha", "beta", "mu", "sigma", "confusion", "count_log_rate", "count_shape")


@dataclass(frozen=True)
class LaplaceFit:
    """An approximate posterior (``model.idata`` with one chain) and how it was found."""

    model: FittedModel  # on the unpadded data: its months end at the origin
    mode: np.ndarray  # unconstrained mode, for the next origin's warm start
    converged: bool
    iterations: int
    floored: int  # Hessian eigenvalues raised to MIN_CURVATURE
    seconds: float


def _padded(data: ModelData, n_months: int) -> ModelData:
    """``data`` extended to ``n_months`` with months that carry nothing: no series observed,
    no label, drivers at their mean. Such a month's emission density is 1 in every state, so
    the scaled forward pass adds log 1 = 0 for it and the likelihood is exactly unchanged;
    what changes is only that every origin's model has the same shapes."""
    extra = n_months - data.n_months
    if extra <= 0:
        return data
    months = data.months[0] + np.arange(n_months)
    return ModelData(
        months,
        np.vstack([data.drivers, np.zeros((extra, data.drivers.shape[1]))]),
        data.driver_names,
        np.vstack([data.series, np.full((extra, data.series.shape[1]), np.nan)]),
        data.series_names,
        np.concatenate([data.labels, np.full(extra, NO_LABEL)]),
        np.vstack([data.counts, np.full((extra, data.counts.shape[1]), np.nan)]),
        data.count_names,
    )


@dataclass(frozen=True)
class _Compiled:
    """One model structure compiled once: -logp and its gradient in JAX with the data as
    arguments, and the map from unconstrained values to the parameters."""

    value_and_grad: Callable
    parameters: Callable  # flat unconstrained point -> alpha, beta, mu, sigma, confusion
    wanted: tuple[str, ...]
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    data_shapes: tuple[tuple[int, ...], ...]


# Compiled models by (config hash, months): every origin of a backtest with the same series
# reuses one, so only its first origin pays the graph rewriting and the XLA compilation.
_COMPILED: dict[tuple[str, int], _Compiled] = {}


def _data_constants(logp, n_months: int) -> list:
    """The data arrays inside the log density: every constant with ``n_months`` or
    ``n_months - 1`` rows (series, mask, labels, drivers), in graph order."""
    from pytensor.graph.traversal import graph_inputs
    from pytensor.tensor.variable import TensorConstant

    return [
        v
        for v in graph_inputs([logp])
        if isinstance(v, TensorConstant)
        and v.ndim >= 2
        and v.data.shape[0] in (n_months, n_months - 1)
    ]


def _compile(model, n_months: int) -> _Compiled:
    """JAX bakes constants into the compiled program, so with the data as constants each
    origin would cost a fresh XLA compilation (20-30 s on a loaded 2-core machine); with the
    data as arguments, and every origin padded to the same months, one program serves all."""
    # JAX is imported here: only this fast path needs it, and it must come after
    # models.runtime.configure() has set its cache and devices.
    import jax
    from pymc.sampling.jax import get_jaxified_graph
    from pytensor.graph.replace import graph_replace

    jax.config.update("jax_enable_x64", True)
    logp = model.logp(jacobian=True)
    constants = _data_constants(logp, n_months)
    arguments = [c.type() for c in constants]
    negative = -graph_replace(logp, dict(zip(constants, arguments, strict=True)))
    graph = get_jaxified_graph(inputs=[*model.value_vars, *arguments], outputs=[negative])
    point = model.initial_point()
    names = tuple(v.name for v in model.value_vars)
    shapes = tuple(np.shape(point[n]) for n in names)
    splits = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]

    def negative_logp(x, arrays):
        parts = jax.numpy.split(x, splits)
        return graph(*(p.reshape(s) for p, s in zip(parts, shapes, strict=True)), *arrays)[0]

    wanted = tuple(name for name in PARAMETERS if name in model.named_vars)
    # Outputs in terms of the value variables (through the inverse transforms), not of the
    # random variables, which a compiled function would otherwise draw from their priors.
    outputs = model.replace_rvs_by_values([model[name] for name in wanted])
    fn = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")

    def parameters(x: np.ndarray) -> list:
        parts = np.split(x, splits)
        return fn({n: p.reshape(s) for n, p, s in zip(names, parts, shapes, strict=True)})

    return _Compiled(
        jax.jit(jax.value_and_grad(negative_logp)),
        parameters,
        wanted,
        names,
        shapes,
        tuple(c.data.shape for c in constants),
    )


def _initial(model, compiled: _Compiled) -> np.ndarray:
    point = model.initial_point()
    return np.concatenate([np.ravel(point[n]) for n in compiled.names]).astype(float)


def _hessian(grad, x: np.ndarray) -> np.ndarray:
    n = x.size
    hess = np.empty((n, n))
    for i in range(n):
        step = np.zeros(n)
        step[i] = FD_STEP
        hess[i] = (grad(x + step) - grad(x - step)) / (2 * FD_STEP)
    return 0.5 * (hess + hess.T)


def fit_laplace(
    data: ModelData,
    config: ModelConfig,
    n_draws: int,
    seed: int,
    warm_start: np.ndarray | None = None,
    pad_to: int | None = None,
) -> LaplaceFit:
    """Mode and Laplace draws of the model ``config`` on ``data``; ``warm_start`` is a previous
    fit's ``mode``, used when it has this model's number of unconstrained parameters;
    ``pad_to`` months (at least the data's) give every origin of a backtest the same shapes."""
    started = time.perf_counter()
    n_months = max(pad_to or 0, data.n_months)
    padded = _padded(data, n_months)
    padded_prep = prepare(padded, config)
    model = build_model(padded_prep, config)
    key = (config.config_hash(), n_months)
    arrays = [np.asarray(c.data) for c in _data_constants(model.logp(jacobian=True), n_months)]
    compiled = _COMPILED.get(key)
    if compiled is None or compiled.data_shapes != tuple(a.shape for a in arrays):
        compiled = _COMPILED[key] = _compile(model, n_months)
    size = sum(int(np.prod(s)) for s in compiled.shapes)
    warm = warm_start is not None and warm_start.shape == (size,)
    start = warm_start if warm else _initial(model, compiled)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = compiled.value_and_grad(x, arrays)
        value, gradient = float(value), np.asarray(gradient, dtype=float)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return np.inf, np.zeros_like(x)  # makes the line search step back
        return value, gradient

    result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B")
    hess = _hessian(lambda x: objective(x)[1], result.x)
    eigval, eigvec = np.linalg.eigh(hess)
    floored = int(np.sum(eigval < MIN_CURVATURE))
    eigval = np.maximum(eigval, MIN_CURVATURE)
    rng = np.random.default_rng(seed)
    unconstrained = result.x + (rng.standard_normal((n_draws, result.x.size)) / np.sqrt(eigval)) @ (
        eigvec.T
    )
    posterior = _posterior(model, compiled, unconstrained, padded_prep)
    idata = xr.DataTree.from_dict({"posterior": posterior})
    if config.series_given_states:
        idata = with_series_given_states(idata, padded_prep, config, seed)
    return LaplaceFit(
        FittedModel.of(idata, data, config),
        result.x,
        bool(result.success),
        int(result.nit),
        floored,
        time.perf_counter() - started,
    )


def _posterior(model, compiled: _Compiled, draws: np.ndarray, prep: Prepared) -> xr.Dataset:
    """Each unconstrained draw through the model's transforms, and the state means and sds in
    data units (as the model's ``mu_data``/``sigma_data``, from this origin's standardisation)."""
    values: dict[str, list[np.ndarray]] = {name: [] for name in compiled.wanted}
    for x in draws:
        for name, value in zip(compiled.wanted, compiled.parameters(x), strict=True):
            values[name].append(np.asarray(value))
    stacked = {name: np.stack(v)[None] for name, v in values.items()}
    if "mu" in stacked:  # absent when the series are described given the states
        stacked["mu_data"] = stacked["mu"] * prep.scale[:, None] + prep.center[:, None]
        stacked["sigma_data"] = stacked["sigma"] * prep.scale[:, None]
    variables = {}
    for name, value in stacked.items():
        dims = model.named_vars_to_dims.get(name, ("series", "state"))
        variables[name] = (("chain", "draw", *dims), value)
    coords = {k: list(v) for k, v in model.coords.items() if v is not None}
    return xr.Dataset(variables, coords={**coords, "chain": [0], "draw": np.arange(len(draws))})
