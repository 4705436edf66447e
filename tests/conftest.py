"""Shared fixtures: one Prefect test server per session, a local HTTP server, temp warehouses."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Posteriors, reports, default warehouses and Prefect's home of the tests go to a temporary
# folder, never to the project's var/ (where `make run` keeps the real ones). Set before
# `flows` is imported: importing it fixes Prefect's home.
os.environ.setdefault("WINSET_VAR_DIR", tempfile.mkdtemp(prefix="winset-test-var-"))

import polars as pl
import pytest
import yaml

from flows import settings  # noqa: F401  (Prefect's offline defaults before it imports)
from flows.sources import SOURCES
from tests.local_http import LocalServer

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Prefect's test harness costs ~10 s to start, so the whole session shares one. On a
    loaded machine the start took 80 s, hence the generous timeout."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
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


def tiny_config(folder: Path, *, healthy_gate: bool = True, **changes: object) -> Path:
    """The publication model config with test-sized sampling, written to ``folder``.

    ``healthy_gate`` relaxes the health gate so a 2 x 60 draw fit passes it: tests that need a
    usable posterior (forecasts, reports) get one in seconds; the gate itself is tested
    elsewhere with the real thresholds.
    """
    raw = yaml.safe_load((DATA_DIR / "model.yaml").read_text())
    raw["sampler"] = {**raw["sampler"], "chains": 2, "draws": 60, "tune": 60}
    if healthy_gate:
        raw["health"] = {"max_rhat": 10.0, "min_ess": 1.0, "max_divergences": 1000, "min_bfmi": 0.0}
    raw.update(changes)
    path = folder / "model.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="session")
def ingested_db(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> dict:
    """A warehouse with only the real bundle ingested, and the ingest's record.

    Ingesting the whole bundle is the slow step every end-to-end warehouse starts from, so the
    session does it once. Read-only for sharers: copy the file before writing to it.
    """
    from flows.ingest import ingest

    db = tmp_path_factory.mktemp("ingested") / "w.duckdb"
    return {"db": db, "record": ingest(db_path=db)}


@pytest.fixture(scope="session")
def fitted_db(tmp_path_factory: pytest.TempPathFactory, ingested_db: dict) -> dict[str, Path]:
    """A warehouse with the real bundle ingested, its panel, and one tiny *healthy* fit.

    Shared by the forecast, report and pipeline tests so the session samples only once here.
    """
    from flows.fit import fit_model
    from flows.pipeline import refresh_panel

    folder = tmp_path_factory.mktemp("fitted")
    db, config = folder / "w.duckdb", tiny_config(folder)
    shutil.copy(ingested_db["db"], db)
    refresh_panel(db)
    record = fit_model(db_path=db, config_path=config)
    assert record.healthy, record.problems
    return {"db": db, "config": config, "posterior": record.posterior_path}


@pytest.fixture(scope="session")
def backtested_db(fitted_db: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of ``fitted_db`` with one test-sized backtest origin (2025-04, two tiny fits).

    The backtest tests read it and the publish tests copy it, so the session runs the
    backtest's fits once. Read-only for sharers: copy the file before writing to it.
    """
    from flows.backtest import backtest

    db = tmp_path_factory.mktemp("backtested") / "w.duckdb"
    shutil.copy(fitted_db["db"], db)
    record = backtest(db_path=db, origins=["2025-04"], fast=False, config_path=fitted_db["config"])
    return {"db": db, "record": record, "config": fitted_db["config"]}
