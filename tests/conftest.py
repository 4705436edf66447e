"""Shared fixtures: one Prefect test server per session, a local HTTP server, temp warehouses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from flows import settings  # noqa: F401  (sets Prefect's offline defaults before prefect imports)
from flows.sources import SOURCES
from tests.local_http import LocalServer

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Prefect's test harness costs ~10 s to start, so the whole session shares one."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    with LocalServer().running() as server:
        yield server


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def bundled_tables() -> dict[str, pl.DataFrame]:
    """Every raw table as the connectors parse the real bundle (no warehouse involved)."""
    tables: dict[str, list[pl.DataFrame]] = {}
    for source in SOURCES.values():
        for dataset in source.datasets:
            content = (DATA_DIR / dataset.bundled).read_bytes()
            rows = dataset.parse(content, dataset.bundled).rows
            typed = rows.select(pl.col(c).cast(t) for c, t in source.schema.items())
            tables.setdefault(source.table, []).append(typed)
    return {table: pl.concat(frames) for table, frames in tables.items()}
