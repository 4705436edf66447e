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
    """Process defaults that only work if set before ``prefect``, ``pytensor`` or ``jax`` load:
    Prefect offline (no analytics), its home and start-up wait (``flows/prefect_api.py``),
    compiler caches in the project cache folder."""
    from flows import prefect_api  # imports no Prefect
    from models import runtime  # imports neither pytensor nor jax

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    prefect_api.configure(var_dir())
    runtime.configure(cache_dir() / "pytensor")


def model_config_path() -> Path:
    """The publication model configuration (``WINSET_MODEL_CONFIG`` overrides)."""
    return Path(os.environ.get("WINSET_MODEL_CONFIG", data_dir() / "model.yaml"))


def pathway_rules_path() -> Path:
    """The operational pathway definitions fits are judged against (``WINSET_PATHWAY_RULES``)."""
    return Path(os.environ.get("WINSET_PATHWAY_RULES", data_dir() / "pathways.yaml"))


def lock_wait_seconds() -> float:
    """How long a command waits for another process holding the warehouse
    (``WINSET_LOCK_WAIT``, seconds; default 60): long enough for a reader to finish a query,
    bounded so a scheduled run never hangs on a forgotten connection."""
    raw = os.environ.get("WINSET_LOCK_WAIT", "60")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ValueError(f"WINSET_LOCK_WAIT: expected a number of seconds, got {raw!r}")
    return seconds


def posterior_dir() -> Path:
    return var_dir() / "posteriors"


MEMORY_MB = "WINSET_MEMORY_MB"
DEFAULT_MEMORY_MB = 4096


def memory_budget_bytes() -> int:
    """What one forecast or sweep may hold in simulation arrays (``WINSET_MEMORY_MB``, default
    4096): checked before simulating, so a huge ``--paths`` is refused with what it would need
    instead of failing deep inside NumPy or pushing the machine into swap."""
    text = os.environ.get(MEMORY_MB, "").strip()
    try:
        megabytes = float(text) if text else DEFAULT_MEMORY_MB
    except ValueError:
        megabytes = -1
    if not megabytes > 0:
        raise ValueError(f"{MEMORY_MB}: expected a number of MB above 0, got {text!r}")
    return int(megabytes * 1024 * 1024)
