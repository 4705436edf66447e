"""Fast approximate posterior for many-origin backtests: the mode plus a Laplace approximation.

Why not NUTS at every origin: a monthly backtest refits two models at well over a hundred
origins; even fast NUTS (2 chains x 500 draws) costs about 17 s per fit on two cores, which is
over an hour for the evaluation alone. Here the same PyMC model (:func:`models.hmm.build_model`,
untouched) is compiled once per origin to a JAX log density, its mode is found with L-BFGS on
the unconstrained scale (warm-started from the previous origin's mode when the parameters have
the same shapes), and the posterior is approximated by a Gaussian there, with the covariance
the inverse of a finite-difference Hessian of the exact gradient (a compiled JAX Hessian costs
several seconds more per origin). Draws are mapped back through the model's own transforms and
deterministics, so everything downstream reads them as it reads a NUTS posterior.

What it gives up: a Gaussian on the unconstrained scale cannot show a second mode (the label
switching the ordered means prevent) or strong skew; how much this moves the forecasts is
measured against the publication NUTS fit (``benchmarks/backtest.py``, figures in the README).
A Hessian that is not positive definite (a flat direction) has its eigenvalues floored at
:data:`MIN_CURVATURE` and the fit says so (``floored``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import optimize

from models.config import ModelConfig
from models.data import NO_LABEL, ModelData
from models.fit import fitted_data
from models.hmm import build_model

MIN_CURVATURE = 1e-3  # eigenvalue floor of the Hessian: an sd of at most ~30 on the raw scale
FD_STEP = 1e-4  # central-difference step of the Hessian, unconstrained scale
OUTPUTS = ("alpha", "beta", "mu", "sigma", "mu_data", "sigma_data", "confusion")


@dataclass(frozen=True)
class LaplaceFit:
    """An approximate posterior (``idata`` with one chain) and how it was found."""

    idata: xr.DataTree
    data: ModelData  # the sub-panel the model used (as ``FitResult.data``)
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
    )


def _jax_negative_logp(model, n_months: int):
    """-logp and its gradient as one jitted JAX function of the flat unconstrained vector,
    with the data arrays (every constant with ``n_months`` or ``n_months - 1`` rows) turned
    into arguments. Why: JAX bakes constants into the compiled program, so each origin's data
    would cost a fresh XLA compilation (20-30 s on a loaded 2-core machine); as arguments, two
    origins with the same shapes share one program, found in JAX's persistent cache."""
    # JAX is imported here: only this fast path needs it, and it must come after
    # models.runtime.configure() has set its cache and devices.
    import jax
    from pymc.sampling.jax import get_jaxified_graph
    from pytensor.graph.replace import graph_replace
    from pytensor.graph.traversal import graph_inputs
    from pytensor.tensor.variable import TensorConstant

    jax.config.update("jax_enable_x64", True)
    logp = model.logp(jacobian=True)
    constants = [
        v
        for v in graph_inputs([logp])
        if isinstance(v, TensorConstant)
        and v.ndim >= 2
        and v.data.shape[0] in (n_months, n_months - 1)
    ]
    arguments = [c.type() for c in constants]
    negative = -graph_replace(logp, dict(zip(constants, arguments, strict=True)))
    graph = get_jaxified_graph(inputs=[*model.value_vars, *arguments], outputs=[negative])
    point = model.initial_point()
    names = [v.name for v in model.value_vars]
    shapes = [np.shape(point[n]) for n in names]
    sizes = [int(np.prod(s)) for s in shapes]
    splits = np.cumsum(sizes)[:-1]
    data = [np.asarray(c.data) for c in constants]

    def negative_logp(x, arrays):
        parts = jax.numpy.split(x, splits)
        return graph(*(p.reshape(s) for p, s in zip(parts, shapes, strict=True)), *arrays)[0]

    value_and_grad = jax.jit(jax.value_and_grad(negative_logp))
    start = np.concatenate([np.ravel(point[n]) for n in names]).astype(float)
    return (lambda x: value_and_grad(x, data)), start, names, shapes, sizes


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
    model = build_model(_padded(data, n_months), config)
    value_and_grad, start, names, shapes, sizes = _jax_negative_logp(model, n_months)
    if warm_start is not None and warm_start.shape == start.shape:
        start = warm_start

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = value_and_grad(x)
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
    posterior = _constrained(model, unconstrained, names, shapes, sizes)
    return LaplaceFit(
        xr.DataTree.from_dict({"posterior": posterior}),
        fitted_data(data, config),
        result.x,
        bool(result.success),
        int(result.nit),
        floored,
        time.perf_counter() - started,
    )


def _constrained(model, draws: np.ndarray, names, shapes, sizes) -> xr.Dataset:
    """The model's own transforms and deterministics applied to each unconstrained draw."""
    wanted = [name for name in OUTPUTS if name in model.named_vars]
    # Outputs in terms of the value variables (through the inverse transforms), not of the
    # random variables, which a compiled function would otherwise draw from their priors.
    outputs = model.replace_rvs_by_values([model[name] for name in wanted])
    fn = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")
    splits = np.cumsum(sizes)[:-1]
    values: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
    for x in draws:
        point = {
            n: part.reshape(s)
            for n, part, s in zip(names, np.split(x, splits), shapes, strict=True)
        }
        for name, value in zip(wanted, fn(point), strict=True):
            values[name].append(np.asarray(value))
    variables = {}
    for name in wanted:
        dims = model.named_vars_to_dims.get(name, ())
        variables[name] = (("chain", "draw", *dims), np.stack(values[name])[None])
    coords = {k: list(v) for k, v in model.coords.items() if v is not None}
    return xr.Dataset(variables, coords={**coords, "chain": [0], "draw": np.arange(len(draws))})
