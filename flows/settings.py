"""Where winset keeps things, and the process-wide defaults that must be set before imports.

Paths default to the checkout (``data/`` for the bundle, ``var/`` for generated state) and can be
moved with environment variables, so scheduled runs and tests can each use their own warehouse.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The bundled real data (``WINSET_DATA_DIR`` overrides)."""
    return Path(os.environ.get("WINSET_DATA_DIR", PROJECT_ROOT / "data"))


def var_dir() -> Path:
    """Generated state: warehouse, posteriors, reports (``WINSET_VAR_DIR`` overrides)."""
    return Path(os.environ.get("WINSET_VAR_DIR", PROJECT_ROOT / "var"))


def warehouse_path() -> Path:
    return Path(os.environ.get("WINSET_DB", var_dir() / "winset.duckdb"))


def cache_dir() -> Path:
    """Compiler caches (PyTensor, JAX) live with the project, not in $HOME."""
    return Path(os.environ.get("WINSET_CACHE_DIR", PROJECT_ROOT / ".cache"))


def configure_environment() -> None:
    """Offline-friendly defaults for Prefect; must run before ``prefect`` is imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
