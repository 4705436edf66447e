"""Priors as small validated objects: a distribution name plus its parameters.

Why not free-form dicts: priors are user-editable YAML, and a typo (``sigm: 1``), a zero scale
or an unknown distribution must fail when the config is loaded, with the field named, not as
a sampler crash an hour later. Written in the spirit of PyMC-Marketing's ``Prior``: a prior is
data (it is hashed into the model identity and printed in reports) that can also create the
PyMC variable.

YAML form is flat: ``{dist: Normal, mu: 0.3, sigma: 0.3}``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pymc as pm
from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

# name -> ((parameter, must be > 0), ...), and the support of the distribution
_SPECS: dict[str, tuple[tuple[tuple[str, bool], ...], Literal["real", "positive"]]] = {
    "Normal": ((("mu", False), ("sigma", True)), "real"),
    "StudentT": ((("nu", True), ("mu", False), ("sigma", True)), "real"),
    "Laplace": ((("mu", False), ("b", True)), "real"),
    "HalfNormal": ((("sigma", True),), "positive"),
    "HalfStudentT": ((("nu", True), ("sigma", True)), "positive"),
    "Exponential": ((("lam", True),), "positive"),
    "Gamma": ((("alpha", True), ("beta", True)), "positive"),
    "LogNormal": ((("mu", False), ("sigma", True)), "positive"),
}
DISTRIBUTIONS: tuple[str, ...] = tuple(_SPECS)


class Prior(BaseModel):
    """One univariate prior, e.g. ``Prior(dist="Normal", mu=0.0, sigma=1.0)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dist: str
    params: dict[str, float]

    @model_validator(mode="before")
    @classmethod
    def _collect_params(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "params" not in raw:
            raw = dict(raw)
            return {"dist": raw.pop("dist", None), "params": raw}
        return raw

    @model_validator(mode="after")
    def _check(self) -> Prior:
        if self.dist not in _SPECS:
            raise ValueError(f"unknown distribution {self.dist!r}; choose one of {DISTRIBUTIONS}")
        spec, _ = _SPECS[self.dist]
        names = [name for name, _ in spec]
        if set(self.params) != set(names):
            raise ValueError(f"{self.dist} takes {names}, got {sorted(self.params)}")
        for name, positive in spec:
            value = self.params[name]
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")
            if positive and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        return self

    @model_serializer
    def _flat(self) -> dict[str, Any]:
        return {"dist": self.dist, **self.params}

    @property
    def support(self) -> Literal["real", "positive"]:
        return _SPECS[self.dist][1]

    def create(self, name: str, **kwargs: Any) -> pm.Distribution:
        """The PyMC random variable (inside a model context); kwargs are dims, shape, ..."""
        return getattr(pm, self.dist)(name, **self.params, **kwargs)

    def draw(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Independent draws in NumPy, parameterised exactly as PyMC's distribution.

        Why not ``pm.draw``: prior-only forecasts and calibration draw thousands of values per
        forecast, and compiling a PyMC graph per prior costs more than the simulation.
        """
        p = self.params
        match self.dist:
            case "Normal":
                return rng.normal(p["mu"], p["sigma"], size)
            case "StudentT":
                return p["mu"] + p["sigma"] * rng.standard_t(p["nu"], size)
            case "Laplace":
                return rng.laplace(p["mu"], p["b"], size)
            case "HalfNormal":
                return np.abs(rng.normal(0.0, p["sigma"], size))
            case "HalfStudentT":
                return p["sigma"] * np.abs(rng.standard_t(p["nu"], size))
            case "Exponential":
                return rng.exponential(1.0 / p["lam"], size)
            case "Gamma":
                return rng.gamma(p["alpha"], 1.0 / p["beta"], size)
            case _:  # LogNormal, the last of _SPECS
                return rng.lognormal(p["mu"], p["sigma"], size)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.dist}({args})"


def normal(mu: float, sigma: float) -> Prior:
    return Prior(dist="Normal", mu=mu, sigma=sigma)
