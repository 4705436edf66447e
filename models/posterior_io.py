"""Saving and loading posteriors as NetCDF, with their identity in the file's attributes.

Why: a posterior is only meaningful together with the config and data it was fitted on, so the
file carries the config JSON and its hash, the data hash, the library versions, the sampler and
the seed. ``load_posterior`` refuses a file whose stored config hash differs from the config it
is given, so forecasts can never silently combine one model's draws with another's priors.
NetCDF (HDF5 via h5netcdf) and JSON only: never pickle, which would execute code on load.

Writes go to a temporary file in the target folder and are renamed into place, so a crash
while writing never leaves a half-written posterior where a good one was.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import xarray as xr

from models.config import ModelConfig
from models.fit import FitResult

ENGINE = "h5netcdf"
PREFIX = "winset_"
_LIBRARIES = ("pymc", "pytensor", "arviz", "numpyro", "jax", "numpy", "xarray")


class PosteriorFileError(ValueError):
    """A posterior file that cannot be used as asked; the message names the file."""


def library_versions() -> dict[str, str]:
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def save_posterior(result: FitResult, path: str | Path) -> Path:
    """Write ``result.idata`` with identity attributes to ``path`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = result.idata.copy()
    tree.attrs = {
        **tree.attrs,
        f"{PREFIX}config_json": result.config.stored_json(),
        f"{PREFIX}config_hash": result.config.config_hash(),
        f"{PREFIX}data_hash": result.data_hash,
        f"{PREFIX}library_versions": json.dumps(library_versions(), sort_keys=True),
        f"{PREFIX}sampler": result.sampler,
        f"{PREFIX}seed": int(result.config.sampler.seed),
        f"{PREFIX}diagnostics": json.dumps(result.diagnostics.as_dict(), sort_keys=True),
        f"{PREFIX}wall_seconds": float(result.wall_seconds),
    }
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        tree.to_netcdf(tmp, engine=ENGINE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@dataclass(frozen=True)
class LoadedPosterior:
    idata: xr.DataTree
    config_hash: str
    data_hash: str
    attrs: dict

    @property
    def config(self) -> ModelConfig:
        """The config stored in the file (validated again on the way in)."""
        return ModelConfig.model_validate_json(self.attrs[f"{PREFIX}config_json"])


def load_posterior(
    path: str | Path, config: ModelConfig, data_hash: str | None = None
) -> LoadedPosterior:
    """Read a posterior saved by :func:`save_posterior`, checking it belongs to ``config``.

    ``data_hash``, when given, must match too (e.g. to insist on the current panel).
    """
    path = Path(path)
    try:
        with xr.open_datatree(path, engine=ENGINE) as handle:
            tree = handle.load()
    except (OSError, ValueError) as exc:
        raise PosteriorFileError(f"{path}: cannot read a posterior ({exc})") from None
    attrs = dict(tree.attrs)
    stored = attrs.get(f"{PREFIX}config_hash")
    if stored is None:
        raise PosteriorFileError(f"{path}: not a winset posterior (no {PREFIX}config_hash)")
    wanted = config.config_hash()
    if stored != wanted:
        raise PosteriorFileError(
            f"{path}: fitted with config {stored[:12]}, not the given config {wanted[:12]}; "
            "refit, or load it with the config it was fitted with"
        )
    stored_data = str(attrs.get(f"{PREFIX}data_hash", ""))
    if data_hash is not None and stored_data != data_hash:
        raise PosteriorFileError(
            f"{path}: fitted on data {stored_data[:12]}, not the given data {data_hash[:12]}"
        )
    return LoadedPosterior(tree, stored, stored_data, attrs)
