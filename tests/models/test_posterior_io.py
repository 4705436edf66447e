"""Posterior files: exact round trip, identity attributes, and refusal of a mismatched config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from models.posterior_io import PosteriorFileError, load_posterior, save_posterior


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory) -> Path:
    return save_posterior(fitted, tmp_path_factory.mktemp("posterior") / "fit.nc")


def test_round_trip_is_exact(saved: Path, fitted) -> None:
    loaded = load_posterior(saved, fitted.config, data_hash=fitted.data_hash)
    for group in ("posterior", "sample_stats"):
        original = fitted.idata[group].to_dataset()
        back = loaded.idata[group].to_dataset()
        assert set(original.data_vars) == set(back.data_vars)
        for name in original.data_vars:
            np.testing.assert_array_equal(back[name].values, original[name].values, name)
    assert loaded.config == fitted.config
    assert loaded.config_hash == fitted.config.config_hash()
    assert loaded.data_hash == fitted.data_hash
    attrs = loaded.attrs
    assert attrs["winset_sampler"] == "numpyro"
    assert int(attrs["winset_seed"]) == fitted.config.sampler.seed
    assert "pymc" in json.loads(attrs["winset_library_versions"])
    assert json.loads(attrs["winset_diagnostics"])["divergences"] == 0


def test_file_is_netcdf_not_pickle(saved: Path) -> None:
    assert saved.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    assert not list(saved.parent.glob("*.tmp"))  # the temporary file was renamed away


def test_other_config_is_refused(saved: Path, fitted) -> None:
    other = fitted.config.model_copy(
        update={"sampler": fitted.config.sampler.model_copy(update={"seed": 1})}
    )
    with pytest.raises(PosteriorFileError, match="fitted with config") as caught:
        load_posterior(saved, other)
    assert str(saved) in str(caught.value)


def test_other_data_is_refused(saved: Path, fitted) -> None:
    with pytest.raises(PosteriorFileError, match="fitted on data"):
        load_posterior(saved, fitted.config, data_hash="0" * 64)


def test_foreign_netcdf_is_refused(tmp_path: Path, fitted) -> None:
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("i", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(PosteriorFileError, match="not a winset posterior"):
        load_posterior(foreign, fitted.config)
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"not a netcdf file")
    with pytest.raises(PosteriorFileError, match="cannot read"):
        load_posterior(garbage, fitted.config)
