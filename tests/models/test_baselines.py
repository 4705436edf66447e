"""Baseline forecasts on a toy label series, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from models.baselines import BASELINES, climatology, persistence, uniform

# months before the origin: unlabelled, DC, DC, MC, unlabelled, SE, unlabelled
LABELS = np.array([-1, 0, 0, 2, -1, 1, -1])
HORIZONS = [1, 3, 6]
UNLABELLED = np.array([-1, -1, -1])


def test_uniform() -> None:
    np.testing.assert_allclose(uniform(LABELS, HORIZONS), np.full((3, 3), 1 / 3))


def test_climatology_with_laplace_smoothing() -> None:
    # labelled months: DC, DC, MC, SE -> counts (2, 1, 1), n = 4
    # (n_k + 1) / (n + 3) = (3/7, 2/7, 2/7), the same at every horizon
    np.testing.assert_allclose(
        climatology(LABELS, HORIZONS), np.tile([3 / 7, 2 / 7, 2 / 7], (3, 1))
    )
    # no labels: (0 + 1) / (0 + 3) = 1/3 each
    np.testing.assert_allclose(climatology(UNLABELLED, HORIZONS), np.full((3, 3), 1 / 3))


def test_persistence_uses_last_labelled_month() -> None:
    # last label is SE (the trailing -1 is skipped): SE gets 0.8, DC and MC (1 - 0.8) / 2 = 0.1
    np.testing.assert_allclose(persistence(LABELS, HORIZONS), np.tile([0.1, 0.8, 0.1], (3, 1)))
    np.testing.assert_allclose(persistence(LABELS, [2], p_stay=0.5), [[0.25, 0.5, 0.25]])


def test_persistence_without_a_label_is_uniform() -> None:
    np.testing.assert_allclose(persistence(UNLABELLED, HORIZONS), np.full((3, 3), 1 / 3))
    np.testing.assert_allclose(persistence(np.array([], dtype=int), [1]), [[1 / 3] * 3])


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_registry_baselines_share_the_contract(name: str) -> None:
    probs = BASELINES[name](LABELS, HORIZONS)
    assert probs.shape == (len(HORIZONS), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="horizons"):
        BASELINES[name](LABELS, [0])
    with pytest.raises(ValueError, match="labels_before_origin"):
        BASELINES[name](np.array([0, 3]), HORIZONS)


def test_registry_names() -> None:
    assert set(BASELINES) == {"uniform", "climatology", "persistence"}


def test_persistence_rejects_bad_p_stay() -> None:
    with pytest.raises(ValueError, match="p_stay"):
        persistence(LABELS, HORIZONS, p_stay=1.5)
