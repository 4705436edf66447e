"""Prior axes of a sweep grid: a setting changes exactly the named prior (and so the config
hash), refits are fast unless told otherwise, and every unknown or impossible field is refused
with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.config import ModelConfig, from_yaml
from models.prior_axes import (
    check_prior_axis,
    describe_setting,
    prior_variant,
    refit_config,
    setting_of,
)

MODEL_YAML = Path(__file__).resolve().parents[2] / "data" / "model.yaml"


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    return from_yaml(MODEL_YAML)


def test_a_setting_changes_only_its_priors_and_the_config_hash(config: ModelConfig) -> None:
    setting = (("priors.stay_logit", 3.0), ("priors.beta.INTL.sigma", 0.6))
    variant = prior_variant(config, setting)
    assert variant.priors.stay_logit == 3.0
    assert variant.priors.beta["INTL"].params == {"mu": -0.3, "sigma": 0.6}
    assert variant.priors.beta["W_US"] == config.priors.beta["W_US"]
    unchanged = variant.model_dump(exclude={"priors"}) == config.model_dump(exclude={"priors"})
    assert unchanged and variant.config_hash() != config.config_hash()
    assert prior_variant(config, ()).config_hash() == config.config_hash()


def test_refits_are_fast_unless_another_sampling_is_given(config: ModelConfig) -> None:
    variant = prior_variant(config, (("priors.alpha_sd", 1.0),))
    fast = refit_config(variant)
    assert (fast.sampler.chains, fast.sampler.draws, fast.health.max_rhat) == (2, 500, 1.05)
    assert fast.priors == variant.priors
    tiny = config.model_copy(update={"sampler": config.sampler.model_copy(update={"draws": 60})})
    custom = refit_config(variant, tiny)
    assert custom.sampler.draws == 60 and custom.priors.alpha_sd == 1.0


def test_setting_of_a_point_keeps_prior_axes_in_grid_order() -> None:
    point = {"tariff_shock": 1.0, "priors.stay_logit": 5.0, "priors.alpha_sd": 0.25}
    setting = setting_of(point)
    assert setting == (("priors.stay_logit", 5.0), ("priors.alpha_sd", 0.25))
    assert describe_setting(setting) == "priors.stay_logit=5, priors.alpha_sd=0.25"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("priors.stay_logitt", 3.0, r"priors.stay_logitt: not a prior field; .*stay_logit, "),
        ("priors.beta.W_EU.sigma", 0.2, r"priors.beta.W_EU: not a prior field \(fields here: "),
        ("priors.beta.INTL.sd", 0.2, r"priors.beta.INTL.sd: not a prior field .*INTL.sigma"),
        ("priors.beta.INTL", 0.2, r"priors.beta.INTL: a prior, not a number; .*INTL.mu, "),
        ("priors.beta.INTL.dist", 0.2, r"priors.beta.INTL.dist: not a number \('Normal'\)"),
        ("priors.stay_logit.mu", 0.2, r"priors.stay_logit.mu: not a prior field"),
        ("priors.stay_logit", -1.0, r"priors.stay_logit: Input should be greater than 0"),
        ("priors.beta.INTL.sigma", 0.0, r"priors.beta.INTL: sigma must be > 0, got 0.0"),
    ],
)
def test_unknown_or_impossible_prior_fields_are_named(
    config: ModelConfig, name: str, value: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        prior_variant(config, ((name, value),))


def test_a_valid_path_passes_the_check(config: ModelConfig) -> None:
    priors = config.model_dump(mode="json")["priors"]
    for name in ("priors.mu_tension.sigma", "priors.sigma.sigma", "priors.confusion_diag"):
        check_prior_axis(priors, name)
