"""Config validation: bad configs fail with the field named; the hash is the model identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.config import ConfigError, ModelConfig, from_yaml
from models.data import DataError
from models.hmm import build_model
from models.prepared import prepare
from models.priors import Prior

BASE = {"series": ["tension", "cooperation"], "drivers": ["W_US", "INTL"], "start": "2009-01"}


def with_changes(**changes) -> dict:
    return {**BASE, **changes}


def test_defaults_are_publication_settings_and_fast_is_smaller() -> None:
    config = ModelConfig.from_dict(BASE)
    assert (config.sampler.chains, config.sampler.draws) == (4, 1000)
    assert config.health.max_rhat == 1.01 and config.health.max_divergences == 0
    fast = config.fast()
    assert (fast.sampler.chains, fast.sampler.draws, fast.sampler.tune) == (2, 500, 500)
    assert fast.config_hash() != config.config_hash()


def test_hash_is_canonical_and_sensitive_to_priors() -> None:
    a = ModelConfig.from_dict(BASE)
    b = ModelConfig.from_dict(dict(reversed(list(BASE.items()))))
    assert a.config_hash() == b.config_hash()
    changed = ModelConfig.from_dict(
        with_changes(priors={"beta": {"W_US": {"dist": "Normal", "mu": 0.5, "sigma": 0.3}}})
    )
    assert changed.config_hash() != a.config_hash()
    # naming one driver's prior keeps the theory defaults of the others (INTL stays negative)
    assert changed.priors.beta["INTL"].params["mu"] < 0


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(
        "series: [tension, cooperation]\n"
        "drivers: [W_US, INTL]\n"
        "start: '2010-06'\n"
        "priors:\n"
        "  sigma: {dist: HalfNormal, sigma: 0.5}\n"
        "  beta:\n"
        "    INTL: {dist: StudentT, nu: 4, mu: -0.2, sigma: 0.3}\n"
        "sampler: {seed: 7, backend: numpyro}\n"
    )
    config = from_yaml(path)
    assert config.priors.beta["INTL"] == Prior(dist="StudentT", nu=4, mu=-0.2, sigma=0.3)
    assert str(config.start_month) == "2010-06"
    assert ModelConfig.model_validate_json(config.canonical_json()) == config


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (with_changes(priors={"sigma": {"dist": "HalfNormal", "sigma": 0}}), "priors.sigma", "> 0"),
        (
            with_changes(priors={"mu": {"dist": "Normal", "mu": 0, "sigma": -1}}),
            "priors.mu",
            "> 0",
        ),
        (
            with_changes(priors={"beta": {"W_US": {"dist": "Cauchyish", "mu": 0}}}),
            "priors.beta.W_US",
            "unknown distribution",
        ),
        (
            with_changes(priors={"beta": {"W_US": {"dist": "Normal", "mu": 0, "sd": 1}}}),
            "priors.beta.W_US",
            "takes",
        ),
        (
            with_changes(priors={"beta": {"W_UZ": {"dist": "Normal", "mu": 0, "sigma": 1}}}),
            "priors.beta.W_UZ",
            "not one of drivers",
        ),
        (with_changes(drivers=["TARIFFS"]), "drivers", "needs a composite called 'TARIFFS'"),
        (with_changes(start="2009-13"), "start", "YYYY-MM"),
        (with_changes(start="Jan 2009"), "start", "YYYY-MM"),
        (with_changes(series=[]), "series", "at least 1"),
        (with_changes(series=["a", "a"]), "series", "unique"),
        (with_changes(sampler={"backend": "stan"}), "sampler.backend", "numpyro"),
        (with_changes(sampler={"chainz": 4}), "sampler.chainz", "not permitted"),
        (
            with_changes(priors={"sigma": {"dist": "Normal", "mu": 0, "sigma": 1}}),
            "priors.sigma",
            "positive",
        ),
    ],
)
def test_bad_config_names_the_field(raw: dict, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ModelConfig.from_dict(raw, source="model.yaml")
    message = str(caught.value)
    assert "model.yaml" in message
    assert f"{field}:" in message
    assert words in message


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("series: [tension\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: line 2 not valid YAML"):
        from_yaml(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- tension\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping"):
        from_yaml(listing)
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read"):
        from_yaml(tmp_path / "missing.yaml")
    unquoted = tmp_path / "date.yaml"
    unquoted.write_text("series: [tension]\nstart: 2009-01-01\n")
    with pytest.raises(ConfigError, match="start:"):
        from_yaml(unquoted)


@pytest.mark.parametrize(
    ("changes", "field", "name"),
    [
        ({"series": ["tension", "gdelt_goldstein"]}, "series", "gdelt_goldstein"),
        (
            {
                "drivers": ["W_US", "W_CN"],
                "priors": {"beta": {"W_CN": {"dist": "Normal", "mu": 0.3, "sigma": 0.3}}},
            },
            "drivers",
            "W_CN",
        ),
        ({"start": "1990-01"}, "start", "1990-01"),
    ],
)
def test_config_not_matching_the_data_names_the_field(
    synthetic_data, changes: dict, field: str, name: str
) -> None:
    config = ModelConfig.from_dict(with_changes(**changes))
    with pytest.raises(DataError) as caught:
        build_model(prepare(synthetic_data, config), config)
    assert str(caught.value).startswith(f"{field}:")
    assert name in str(caught.value)
