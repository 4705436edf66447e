"""Prior versus posterior of the driver effects, on the session's SYNTHETIC fit and on
hand-made draws whose answer is known."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import xarray as xr
from scipy import integrate, stats

from models.config import ModelConfig
from models.effects import (
    HDI_PROB,
    MIN_CONTRACTION,
    MIN_SHIFT,
    PRIOR_DRAWS,
    SCHEMA,
    compare,
    overlap,
    prior_dominated,
    prior_posterior,
)
from models.priors import Prior, normal


@pytest.fixture(scope="module")
def table(fitted) -> pl.DataFrame:
    return prior_posterior(fitted.idata, fitted.config, seed=3, include_alpha=True)


def test_one_row_per_driver_and_destination_with_its_prior(fitted, table) -> None:
    beta = table.filter(pl.col("parameter") == "beta")
    drivers = fitted.config.drivers
    assert beta.height == len(drivers) * 2
    assert set(zip(beta["term"], beta["dest"], strict=True)) == {
        (d, j) for d in drivers for j in ("SE", "MC")
    }
    assert table.schema == pl.Schema(SCHEMA)
    posterior = fitted.idata["posterior"]["beta"]
    for row in beta.iter_rows(named=True):
        prior = fitted.config.priors.beta[row["term"]]
        assert row["prior"] == str(prior)
        # moments of PRIOR_DRAWS draws: within 4 Monte Carlo standard errors of the truth
        mc_se = prior.params["sigma"] / np.sqrt(PRIOR_DRAWS)
        assert row["prior_mean"] == pytest.approx(prior.params["mu"], abs=4 * mc_se)
        assert row["prior_sd"] == pytest.approx(prior.params["sigma"], rel=0.05)
        # selected by coordinate, not position (the ArviZ summary bug would swap these)
        expected = posterior.sel(driver=row["term"], dest=row["dest"]).values
        assert row["post_mean"] == pytest.approx(float(expected.mean()))
        assert row["post_sd"] == pytest.approx(float(expected.std()))
        inside = ((expected >= row["hdi_lower"]) & (expected <= row["hdi_upper"])).mean()
        assert inside == pytest.approx(HDI_PROB, abs=0.01)


def test_alpha_rows_use_the_sticky_prior(fitted, table) -> None:
    alpha = table.filter(pl.col("parameter") == "alpha")
    assert alpha.height == 6
    stay = fitted.config.priors.stay_logit
    sd = fitted.config.priors.alpha_sd
    rows = {(r["term"], r["dest"]): r["prior"] for r in alpha.iter_rows(named=True)}
    assert rows[("SE", "SE")] == str(normal(stay, sd))
    assert rows[("DC", "MC")] == str(normal(-stay, sd))
    assert rows[("MC", "SE")] == str(normal(0.0, sd))
    assert prior_posterior(fitted.idata, fitted.config).height == len(fitted.config.drivers) * 2


def test_flags_follow_the_documented_rule(table) -> None:
    for row in table.iter_rows(named=True):
        assert row["prior_dominated"] == (
            row["contraction"] < MIN_CONTRACTION and abs(row["shift"]) < MIN_SHIFT
        )
        assert row["shift"] == pytest.approx(
            (row["post_mean"] - row["prior_mean"]) / row["prior_sd"]
        )
        assert 0.0 <= row["overlap"] <= 1.0


def test_a_parameter_the_data_pin_down_contracts(fitted) -> None:
    # The tension state means are pinned by 210 observed months; their prior is Normal(0, 1.5).
    prior = fitted.config.priors.mu_tension
    prior_draws = stats.norm(prior.params["mu"], prior.params["sigma"]).rvs(
        PRIOR_DRAWS, random_state=0
    )
    draws = fitted.idata["posterior"]["mu_tension"].sel(state="DC").values
    row = compare(prior_draws, draws)
    assert row["contraction"] > 0.95
    assert row["overlap"] < 0.2
    assert not row["prior_dominated"]


def _config(priors: dict[str, Prior]) -> ModelConfig:
    return ModelConfig(series=("tension",), drivers=tuple(priors), priors={"beta": priors})


def test_table_flags_a_driver_without_signal() -> None:
    # Hand-made posterior: W_US's draws are fresh draws of its Laplace prior (the data taught
    # nothing); INTL's posterior is a tenth as wide as its prior (the data taught a lot).
    priors = {"W_US": Prior(dist="Laplace", mu=0.3, b=0.2), "INTL": normal(-0.3, 0.3)}
    rng = np.random.default_rng(7)
    shape = (2, 1000, 1)
    w_us = rng.laplace(0.3, 0.2, size=(*shape, 2))
    intl = rng.normal(-0.5, 0.03, size=(*shape, 2))
    posterior = xr.Dataset(
        {"beta": (("chain", "draw", "driver", "dest"), np.concatenate([w_us, intl], axis=2))},
        coords={"driver": ["W_US", "INTL"], "dest": ["SE", "MC"]},
    )
    table = prior_posterior(posterior, _config(priors), seed=1)
    flags = dict(zip(table["term"], table["prior_dominated"], strict=True))
    assert flags == {"W_US": True, "INTL": False}
    laplace = table.filter(pl.col("term") == "W_US")
    assert laplace["prior"][0] == "Laplace(mu=0.3, b=0.2)"
    assert laplace["prior_sd"][0] == pytest.approx(0.2 * np.sqrt(2), rel=0.05)
    assert laplace["overlap"].min() > 0.9


@pytest.mark.parametrize(
    ("posterior_loc", "posterior_scale", "flagged"),
    [
        (0.0, 1.0, True),  # the prior itself
        (0.2, 0.95, True),  # barely moved, barely narrowed
        (0.0, 0.5, False),  # narrowed to a quarter of the variance
        (1.0, 1.0, False),  # as wide, but moved a full prior sd
    ],
)
def test_rule_on_hand_made_draws(posterior_loc: float, posterior_scale: float, flagged) -> None:
    rng = np.random.default_rng(11)
    row = compare(rng.normal(0, 1, 20_000), rng.normal(posterior_loc, posterior_scale, 4000))
    assert row["prior_dominated"] is flagged
    assert row["shift"] == pytest.approx(posterior_loc, abs=0.05)
    assert row["contraction"] == pytest.approx(1 - posterior_scale**2, abs=0.06)
    assert prior_dominated(row["shift"], row["contraction"]) is flagged


def _exact_overlap(loc: float, scale: float) -> float:
    """Overlap of Normal(0, 1) and Normal(loc, scale) by adaptive quadrature."""
    a, b = stats.norm(0, 1), stats.norm(loc, scale)
    peaks = sorted({0.0, loc})
    value, _ = integrate.quad(lambda x: min(a.pdf(x), b.pdf(x)), -30, 30, points=peaks, limit=200)
    return value


@pytest.mark.parametrize(
    ("loc", "scale"),
    [(0.0, 1.0), (1.0, 1.0), (0.0, 0.05), (2.0, 0.3), (20.0, 1.0)],
)
def test_overlap_matches_the_exact_coefficient(loc: float, scale: float) -> None:
    # Over 20 seeds per case the estimate stayed within 0.05 of the exact value (noise biases
    # identical distributions low, smoothing biases distinct ones high; see overlap's doc).
    rng = np.random.default_rng(5)
    estimate = overlap(rng.normal(0, 1, 4000), rng.normal(loc, scale, 2000))
    assert estimate == pytest.approx(_exact_overlap(loc, scale), abs=0.05)


def test_overlap_extremes() -> None:
    rng = np.random.default_rng(2)
    assert overlap(rng.normal(0, 1, 4000), rng.normal(0, 1, 4000)) > 0.94
    assert overlap(rng.normal(0, 1, 4000), rng.normal(50, 0.1, 4000)) < 1e-6


def test_seeded_and_reproducible(fitted, table) -> None:
    again = prior_posterior(fitted.idata, fitted.config, seed=3, include_alpha=True)
    assert again.equals(table)
    other = prior_posterior(fitted.idata, fitted.config, seed=4, include_alpha=True)
    assert not other["prior_mean"].equals(table["prior_mean"])
    assert other["post_mean"].equals(table["post_mean"])
