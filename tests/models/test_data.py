"""The input contract: malformed panels fail at the door; the hash tracks every value."""

from __future__ import annotations

import numpy as np
import pytest

from models.data import DataError, ModelData


def panel(n: int = 12, **overrides) -> ModelData:
    rng = np.random.default_rng(0)
    fields = {
        "months": np.datetime64("2020-01", "M") + np.arange(n),
        "drivers": rng.normal(size=(n, 2)),
        "driver_names": ("W_US", "INTL"),
        "series": rng.normal(size=(n, 2)),
        "series_names": ("tension", "coop"),
        "labels": np.full(n, -1),
    }
    fields.update(overrides)
    return ModelData(**fields)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"drivers": np.full((12, 2), np.nan)}, "drivers"),
        ({"drivers": np.zeros((11, 2))}, "drivers"),
        ({"driver_names": ("W_US",)}, "driver_names"),
        ({"series_names": ("a", "a")}, "series_names"),
        ({"labels": np.full(12, 3)}, "labels"),
        ({"labels": np.zeros(12)}, "labels"),
        ({"months": np.datetime64("2020-01", "M") + 2 * np.arange(12)}, "months"),
        ({"series": np.full((12, 2), np.inf)}, "series"),
    ],
)
def test_contract_violations_name_the_array(overrides: dict, field: str) -> None:
    with pytest.raises(DataError, match=f"^{field}:"):
        panel(**overrides)


def test_arrays_are_frozen_copies() -> None:
    drivers = np.zeros((12, 2))
    data = panel(drivers=drivers)
    drivers[0, 0] = 5.0  # the caller's array stays writable and does not leak in
    assert data.drivers[0, 0] == 0.0
    with pytest.raises(ValueError):
        data.drivers[0, 0] = 1.0


def test_hash_tracks_values_and_is_nan_stable() -> None:
    base = panel()
    series = base.series.copy()
    series[3, 1] = np.nan
    with_gap = panel(series=series)
    assert with_gap.data_hash() == panel(series=series.copy()).data_hash()
    assert with_gap.data_hash() != base.data_hash()
    labels = base.labels.copy()
    labels[0] = 2
    assert panel(labels=labels).data_hash() != base.data_hash()


def test_select_reorders_and_trims() -> None:
    data = panel()
    sub = data.select(["coop", "tension"], ["INTL"], np.datetime64("2020-04"))
    assert sub.series_names == ("coop", "tension") and sub.driver_names == ("INTL",)
    assert sub.n_months == 9 and str(sub.months[0]) == "2020-04"
    np.testing.assert_array_equal(sub.series[:, 0], data.series[3:, 1])
    np.testing.assert_array_equal(sub.drivers[:, 0], data.drivers[3:, 1])
