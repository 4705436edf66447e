"""Prior-sensitivity axes of a sweep grid: names, checks, and the model config of each setting.

A sweep axis named ``priors.<path>`` sets one number of the model config's ``priors`` section,
addressed exactly as in the config: ``priors.stay_logit``, ``priors.alpha_sd``,
``priors.beta.INTL.sigma``, ``priors.mu_tension.sigma``, ``priors.confusion_diag``. Why the
config's own path: it is what ``data/model.yaml`` and every config error message already call
the field, so a name can be checked against the config itself and an error can name it.

Each distinct combination of prior values is one *setting*; the sweep refits the model once
per setting (in fast mode: a refit per grid point would repeat identical fits) and simulates
all of that setting's points from the refit's posterior. :func:`prior_variant` builds the
setting's config by validating a changed copy of the swept fit's config
(:meth:`~models.config.ModelConfig.from_dict`), so an impossible value (a negative scale) is
refused with the field named before anything is fitted, and the config hash differs from the
swept fit's whenever a prior does.

Pure: no Prefect, no DuckDB. :mod:`models.config` (which imports PyMC) is imported only when a
prior axis is actually checked, so grids without prior axes never pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.config import ModelConfig

PRIOR_PREFIX = "priors."
# A headline is prior-determined when P(DC at the horizon) moves by more than this (probability
# units, 10 points) across a sweep of prior axes alone: the priors, not the data, then set it.
PRIOR_DETERMINED_SPREAD = 0.10
Setting = tuple[tuple[str, float], ...]  # ((axis name, value), ...) in grid order; () = none


def is_prior_axis(name: str) -> bool:
    return name.startswith(PRIOR_PREFIX)


def prior_fields() -> tuple[str, ...]:
    """The top-level fields of the ``priors`` section, as the config class declares them."""
    from models.config import PriorsConfig

    return tuple(PriorsConfig.model_fields)


def check_prior_name(name: str) -> None:
    """Refuse a prior axis whose first field is not a ``priors`` field (no config needed).

    The rest of the path (which driver, which distribution parameter) depends on the fitted
    config and is checked by :func:`check_prior_axis` against it.
    """
    path = name.removeprefix(PRIOR_PREFIX).split(".")
    fields = prior_fields()
    if not path[0] or path[0] not in fields:
        raise ValueError(
            f"{name}: not a prior field; prior axes are priors.<field> with field one of "
            f"{', '.join(fields)} (e.g. priors.stay_logit, priors.beta.INTL.sigma)"
        )


def check_prior_axis(priors: dict[str, Any], name: str) -> None:
    """Refuse ``name`` unless it addresses one number in ``priors`` (a config's dumped
    ``priors`` section); the message names the first part of the path that does not exist."""
    check_prior_name(name)
    path = name.removeprefix(PRIOR_PREFIX).split(".")
    node: Any = priors
    for depth, key in enumerate(path):
        here = PRIOR_PREFIX + ".".join(path[: depth + 1])
        if not isinstance(node, dict):
            parent = PRIOR_PREFIX + ".".join(path[:depth])
            raise ValueError(f"{here}: not a prior field ({parent} is a number, not a section)")
        if key not in node:
            choices = ", ".join(PRIOR_PREFIX + ".".join([*path[:depth], k]) for k in _numeric(node))
            raise ValueError(f"{here}: not a prior field (fields here: {choices})")
        node = node[key]
    if isinstance(node, dict):
        choices = ", ".join(f"{name}.{k}" for k in _numeric(node))
        raise ValueError(f"{name}: a prior, not a number; sweep one of its parameters: {choices}")
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise ValueError(f"{name}: not a number ({node!r}); a prior axis sets one number")


def _numeric(node: dict[str, Any]) -> list[str]:
    """Keys of ``node`` that lead to numbers (not a prior's ``dist`` name)."""
    return [k for k, v in node.items() if isinstance(v, dict | int | float) and k != "dist"]


def setting_of(point: dict[str, float]) -> Setting:
    """The prior setting of a grid point: its prior axes and their values, in grid order."""
    return tuple((name, value) for name, value in point.items() if is_prior_axis(name))


def describe_setting(setting: Setting) -> str:
    return ", ".join(f"{name}={value:g}" for name, value in setting) or "the swept fit's priors"


def prior_variant(config: ModelConfig, setting: Setting) -> ModelConfig:
    """``config`` with the setting's prior values, validated as a config file would be.

    Raises ``ValueError`` naming the axis for a path that does not exist in this config and
    the config's own field error (e.g. ``priors.stay_logit: Input should be greater than 0``)
    for a value the config refuses.
    """
    from models.config import ConfigError, ModelConfig

    raw = config.model_dump(mode="json")
    for name, value in setting:
        check_prior_axis(raw["priors"], name)
        *parents, leaf = name.removeprefix(PRIOR_PREFIX).split(".")
        node = raw["priors"]
        for key in parents:
            node = node[key]
        node[leaf] = float(value)
    try:
        return ModelConfig.from_dict(raw, source=describe_setting(setting))
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def refit_config(variant: ModelConfig, sampling: ModelConfig | None = None) -> ModelConfig:
    """The config a refit runs with: fast mode (:meth:`ModelConfig.fast`, 2 chains x 500
    draws and its looser gate), or the sampler and gate of ``sampling`` when given (tests use
    test-sized sampling; a user may want publication-sized refits)."""
    if sampling is None:
        return variant.fast()
    return variant.model_copy(update={"sampler": sampling.sampler, "health": sampling.health})


def prior_determined(parameters: tuple[str, ...], low: float, high: float) -> bool | None:
    """Whether P(DC at the horizon) ranging ``low``..``high`` over a sweep makes its headline
    prior-determined; None when the sweep also moves scenario parameters (their effect would
    be counted as the priors') or has no prior axis."""
    if not parameters or not all(is_prior_axis(p) for p in parameters):
        return None
    return high - low > PRIOR_DETERMINED_SPREAD
