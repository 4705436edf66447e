"""The runtime helper: compiled code goes to the project cache, and a too-late call is loud."""

from __future__ import annotations

import os
from pathlib import Path

import pytensor
import pytest

from models.runtime import DEFAULT_CACHE_DIR, configure


def test_pytensor_compiles_into_the_project_cache() -> None:
    assert Path(pytensor.config.base_compiledir).resolve() == DEFAULT_CACHE_DIR.resolve()
    assert configure() == DEFAULT_CACHE_DIR.resolve()  # idempotent
    assert Path(os.environ["JAX_COMPILATION_CACHE_DIR"]) == DEFAULT_CACHE_DIR.parent / "jax"


def test_configure_after_import_with_another_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"before models\.runtime\.configure"):
        configure(tmp_path / "elsewhere")
