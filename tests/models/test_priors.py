"""Prior draws in NumPy follow PyMC's parameterisation of every supported distribution (its
documented densities, written here as SciPy distributions)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.priors import DISTRIBUTIONS, Prior

LEVELS = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
# dist -> (parameters, quantiles of PyMC's distribution with them)
EXAMPLES = {
    "Normal": ({"mu": 0.3, "sigma": 0.3}, stats.norm(0.3, 0.3).ppf(LEVELS)),
    "StudentT": ({"nu": 4.0, "mu": 1.0, "sigma": 2.0}, stats.t(4.0, 1.0, 2.0).ppf(LEVELS)),
    "Laplace": ({"mu": 1.0, "b": 2.0}, stats.laplace(1.0, 2.0).ppf(LEVELS)),
    "HalfNormal": ({"sigma": 2.0}, stats.halfnorm(scale=2.0).ppf(LEVELS)),
    "HalfStudentT": ({"nu": 5.0, "sigma": 1.0}, stats.t(5.0).ppf((1 + LEVELS) / 2)),
    "Exponential": ({"lam": 2.0}, stats.expon(scale=0.5).ppf(LEVELS)),
    "Gamma": ({"alpha": 2.0, "beta": 3.0}, stats.gamma(2.0, scale=1 / 3).ppf(LEVELS)),
    "LogNormal": ({"mu": 0.1, "sigma": 0.5}, stats.lognorm(0.5, scale=np.exp(0.1)).ppf(LEVELS)),
}


def test_every_distribution_has_an_example() -> None:
    assert set(EXAMPLES) == set(DISTRIBUTIONS)


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_numpy_draws_match_the_distribution(dist: str) -> None:
    params, expected = EXAMPLES[dist]
    prior = Prior(dist=dist, **params)
    draws = prior.draw(np.random.default_rng(0), 40_000)
    # 40,000 draws: sampling error of these quantiles is under 1% of the 10-90% spread
    spread = expected[-1] - expected[0]
    np.testing.assert_allclose(np.quantile(draws, LEVELS), expected, atol=0.03 * spread)
    assert prior.draw(np.random.default_rng(0), (3, 2)).shape == (3, 2)
