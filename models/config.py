"""Model configuration: what is fitted, with which priors, how it is sampled, and when a fit is
healthy enough to publish.

Why pydantic and a hash: the config is user-edited YAML (``from_yaml`` uses ``safe_load``), so
every field is validated with an error naming it; and the sha256 of its canonical JSON
(:meth:`ModelConfig.config_hash`) is the model identity stored with each posterior, so a
posterior can never be read back under priors or settings it was not fitted with.

The theory-signed driver priors (Putnam's two-level game, see the essay) are the defaults for
the four composite drivers: wider win-sets (``W_US``, ``W_CN``) and their overlap push toward
managed competition and selective engagement (positive effect on the SE and MC logits against
decoupling), international tension (``INTL``) pushes away from them (negative). A driver with
another name must be given a prior explicitly.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from models.drivers import DEFAULT_COMPOSITES, INTERACTION_SEPARATOR, Composite
from models.priors import Prior, normal
from models.strict import StrictModel, field_errors, read_yaml

THEORY_BETA: dict[str, Prior] = {
    "W_US": normal(0.3, 0.3),
    "W_CN": normal(0.3, 0.3),
    "W_US_x_W_CN": normal(0.3, 0.3),
    "INTL": normal(-0.3, 0.3),
}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ConfigError(ValueError):
    """A config a user wrote wrongly; the message names the file (if any) and each field."""


class PriorsConfig(StrictModel):
    """Priors. State means and scales are on the standardised scale of each series."""

    stay_logit: float = Field(4.0, gt=0, description="diagonal minus off-diagonal logit")
    alpha_sd: PositiveFloat = 0.5
    beta: dict[str, Prior] = Field(default_factory=lambda: dict(THEORY_BETA))
    mu_tension: Prior = normal(0.0, 1.5)
    mu: Prior = normal(0.0, 1.5)
    sigma: Prior = Prior(dist="HalfNormal", sigma=1.0)
    confusion_diag: PositiveFloat = 8.0
    confusion_off: PositiveFloat = 1.0
    # How far (standardised units) a state named in ``mean_highest`` lies above the others.
    mean_gap: Prior = Prior(dist="HalfNormal", sigma=1.0)
    # Count emissions: log rate per state, relative to the log of the series' mean count.
    count_log_rate: Prior = normal(0.0, 1.0)
    # How far (log scale) the state named in ``count_highest`` lies above the larger of the
    # other two states' rates.
    count_gap: Prior = Prior(dist="HalfNormal", sigma=1.0)
    # ... on top of this least ratio: the state a count identifies has at least this many
    # times the other states' rate (models/hmm.py says why a bare "highest" is not enough).
    count_min_ratio: float = Field(2.0, ge=1.0)
    # Negative binomial shape (larger = closer to Poisson).
    count_shape: Prior = Prior(dist="Gamma", alpha=2.0, beta=0.2)

    @field_validator("beta", mode="before")
    @classmethod
    def _merge_theory(cls, given: Any) -> Any:
        # A config naming one driver's prior keeps the theory defaults of the others.
        return {**THEORY_BETA, **given} if isinstance(given, dict) else given

    @field_validator("mu_tension", "mu")
    @classmethod
    def _real(cls, prior: Prior) -> Prior:
        if prior.support != "real":
            raise ValueError(f"a state mean needs a real-valued distribution, not {prior.dist}")
        return prior

    @field_validator("count_log_rate")
    @classmethod
    def _real_rate(cls, prior: Prior) -> Prior:
        if prior.support != "real":
            raise ValueError(f"a log rate needs a real-valued distribution, not {prior.dist}")
        return prior

    @field_validator("sigma", "mean_gap", "count_gap", "count_shape")
    @classmethod
    def _positive(cls, prior: Prior) -> Prior:
        if prior.support != "positive":
            raise ValueError(f"a scale needs a positive distribution, not {prior.dist}")
        return prior


class SamplerConfig(StrictModel):
    backend: Literal["numpyro", "nutpie", "pymc"] = "numpyro"
    chains: PositiveInt = 4
    draws: PositiveInt = 1000
    tune: PositiveInt = 1000
    seed: int = Field(20250120, ge=0)
    target_accept: float = Field(0.9, gt=0, lt=1)
    # Where chains start: independent prior draws (dispersed; the default, so the health
    # gate also checks that chains from far apart agree), or the model's data-quantile
    # initial point jittered per chain.
    init: Literal["prior_draws", "data_quantiles"] = "prior_draws"


class HealthConfig(StrictModel):
    max_rhat: float = Field(1.01, gt=1)
    min_ess: PositiveFloat = 400.0
    max_divergences: int = Field(0, ge=0)
    min_bfmi: float = Field(0.3, ge=0)


class ModelConfig(StrictModel):
    """Everything that defines a fit. ``series[0]`` is the tension series."""

    name: str = "winset-hmm"
    series: tuple[str, ...] = Field(min_length=1)
    drivers: tuple[str, ...] = ("W_US", "W_CN", "W_US_x_W_CN", "INTL")
    start: str = "2009-01"
    # Further series whose state means are ordered, besides series[0] (DC highest unless
    # ``count_highest`` fixes the labels).
    # One ordering is not always enough: two states with similar tension can swap labels.
    ordered_means: dict[str, Literal["DC_highest", "MC_highest"]] = Field(default_factory=dict)
    # One emission sd per series shared by the three states (default), or one per state and
    # series; models/hmm.py gives the measurement behind the default.
    emission_sd: Literal["per_series", "per_state"] = "per_series"
    # Event counts observed alongside the series (Poisson or negative binomial given the
    # state), in order; names from models/drivers.py (OBSERVED_COUNTS).
    counts: dict[str, Literal["poisson", "negative_binomial"]] = Field(default_factory=dict)
    # The count each state alone is highest on (at most one per state); it fixes the labels
    # of the states. Without it the tension series' means are ordered DC > SE > MC instead.
    count_highest: dict[str, Literal["DC", "SE", "MC"]] = Field(default_factory=dict)
    # Series whose mean is highest in one state (and otherwise free), e.g. tariffs highest in
    # decoupling; unlike ``ordered_means`` this says nothing about the other two states.
    mean_highest: dict[str, Literal["DC", "SE", "MC"]] = Field(default_factory=dict)
    # Whether the timeline's labels enter the likelihood (through a confusion matrix). Off
    # when the counts already include the timeline's events, which the labels summarise.
    label_emissions: bool = True
    # Whether the series are described *given* the pathways instead of helping to find them
    # (a cut, models/series_given_states.py): the states are then found from the counts and
    # labels alone, and each series' state means and sd are fitted on the paths they give.
    series_given_states: bool = False
    composites: tuple[Composite, ...] = DEFAULT_COMPOSITES
    priors: PriorsConfig = PriorsConfig()
    sampler: SamplerConfig = SamplerConfig()
    health: HealthConfig = HealthConfig()

    @field_validator("start")
    @classmethod
    def _month(cls, value: str) -> str:
        if not _MONTH.match(value):
            raise ValueError(f"expected a month as YYYY-MM, got {value!r}")
        return value

    @field_validator("series", "drivers")
    @classmethod
    def _unique(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(names)) != len(names) or any(not n for n in names):
            raise ValueError(f"names must be non-empty and unique, got {list(names)}")
        return names

    @model_validator(mode="after")
    def _ordered_series(self) -> ModelConfig:
        for name in self.ordered_means:
            if name not in self.series[1:]:
                raise ValueError(
                    f"ordered_means: {name!r} is not one of the series after the first "
                    f"{list(self.series[1:])} (the first is always ordered DC highest)"
                )
        return self

    @model_validator(mode="after")
    def _count_highest(self) -> ModelConfig:
        for name in self.count_highest:
            if name not in self.counts:
                raise ValueError(
                    f"count_highest: {name!r} is not one of counts {list(self.counts)}"
                )
        states = list(self.count_highest.values())
        if len(set(states)) != len(states):
            raise ValueError(f"count_highest: one count per state, got {self.count_highest}")
        return self

    @model_validator(mode="after")
    def _mean_highest(self) -> ModelConfig:
        for name in self.mean_highest:
            if name not in self.series:
                raise ValueError(f"mean_highest: {name!r} is not one of series {list(self.series)}")
            if name in self.ordered_means:
                raise ValueError(f"mean_highest: {name!r} is already in ordered_means")
        return self

    @model_validator(mode="after")
    def _cut(self) -> ModelConfig:
        if not self.series_given_states:
            return self
        if not self.count_highest:
            raise ValueError(
                "series_given_states: the states must be fixed by count_highest, since the "
                "series no longer enter the likelihood"
            )
        if self.ordered_means or self.mean_highest:
            raise ValueError(
                "series_given_states: ordered_means and mean_highest order series means that "
                "no longer enter the likelihood; remove them"
            )
        if self.emission_sd != "per_series":
            raise ValueError("series_given_states: needs emission_sd per_series")
        if self.priors.mu.dist != "Normal":
            raise ValueError("series_given_states: priors.mu must be Normal (conjugate update)")
        return self

    @property
    def orders_tension(self) -> bool:
        """Whether the tension means are ordered DC > SE > MC: only when neither a count nor a
        "highest" series mean fixes the states' labels."""
        return not self.count_highest and not self.mean_highest

    @model_validator(mode="after")
    def _driver_composites(self) -> ModelConfig:
        known = {c.name for c in self.composites}
        for name in self.drivers:
            parts = name.split(INTERACTION_SEPARATOR) if INTERACTION_SEPARATOR in name else [name]
            missing = [p for p in parts if p not in known]
            if missing:
                raise ValueError(
                    f"drivers: {name!r} needs a composite called {missing[0]!r} "
                    f"(composites: {sorted(known)})"
                )
        return self

    @model_validator(mode="after")
    def _driver_priors(self) -> ModelConfig:
        for name in self.drivers:
            if name not in self.priors.beta:
                raise ValueError(f"drivers: {name!r} has no prior; give one under priors.beta")
        for name in self.priors.beta:
            if name not in self.drivers and name not in THEORY_BETA:
                raise ValueError(f"priors.beta.{name}: not one of drivers {list(self.drivers)}")
        return self

    @property
    def start_month(self) -> np.datetime64:
        return np.datetime64(self.start, "M")

    def stored_json(self) -> str:
        """The config as a fit records it: field order kept, so a config read back orders its
        counts (and so the data it hashes) as the YAML did; the canonical form sorts them."""
        return self.model_dump_json()

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def config_hash(self) -> str:
        """sha256 of the canonical JSON: the identity of the model a posterior belongs to."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def fast(self) -> ModelConfig:
        """2 chains x 500 draws (tests, sweeps); the gate is looser and says so.

        With two short chains R-hat itself is noisy (measured 1.007-1.019 on well-mixed
        synthetic fits), so fast fits are gated at R-hat <= 1.05 and an ESS floor scaled to
        the draws kept. Fast fits are labelled as such wherever they are reported; only
        publication fits (4 x 1000, R-hat <= 1.01) feed the published forecast.
        """
        sampler = self.sampler.model_copy(update={"chains": 2, "draws": 500, "tune": 500})
        health = self.health.model_copy(update={"min_ess": 200.0, "max_rhat": 1.05})
        return self.model_copy(update={"sampler": sampler, "health": health})

    @classmethod
    def from_dict(cls, raw: Any, source: str = "config") -> ModelConfig:
        """Validate ``raw``; raise :class:`ConfigError` listing ``field: problem`` lines."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected a mapping of fields, got {type(raw).__name__}")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            lines = field_errors(exc)
            raise ConfigError(f"{source}: invalid model config\n  " + "\n  ".join(lines)) from None


def from_yaml(path: str | Path) -> ModelConfig:
    """Load a config from YAML (``safe_load``); every error names the file and the field."""
    path = Path(path)
    return ModelConfig.from_dict(read_yaml(path, ConfigError), source=str(path))
