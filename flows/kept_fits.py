"""A finished fit's warehouse rows, kept on disk beside its posterior until the warehouse has them.

Sampling takes minutes and the warehouse can be unavailable at the moment it ends: another
DuckDB client holds the file longer than the writer waits, the disk is full, or the process is
killed. The rows (``model_runs``, ``regime_probabilities``, ``model_effects``) are therefore
written to ``<posteriors>/<run_id>.rows/`` before the warehouse is opened and removed once they
are committed; whatever is left is recorded by the next fit or run on the same warehouse, so a
finished fit is never lost.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from flows.warehouse import connect, write_rows

SUFFIX = ".rows"
WAREHOUSE_FILE = "warehouse.txt"


def keep(
    posterior_dir: Path, run_id: str, db_path: Path, frames: Mapping[str, pl.DataFrame]
) -> Path:
    """Write the rows of ``run_id`` (one Parquet file per table) into a folder, atomically."""
    target = posterior_dir / f"{run_id}{SUFFIX}"
    posterior_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=posterior_dir))
    try:
        for table, frame in frames.items():
            frame.write_parquet(staging / f"{table}.parquet")
        (staging / WAREHOUSE_FILE).write_text(str(db_path.resolve()))
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def discard(kept: Path) -> None:
    """The rows are in the warehouse: the kept copy is no longer needed."""
    shutil.rmtree(kept, ignore_errors=True)


def record_kept(posterior_dir: Path, db_path: Path) -> list[str]:
    """Commit every kept fit of this warehouse that it does not have yet; return their run ids.

    A folder left by a commit that succeeded just before the process died is only removed.
    """
    kept = [
        folder
        for folder in sorted(posterior_dir.glob(f"*{SUFFIX}"))
        if (folder / WAREHOUSE_FILE).is_file()
        and (folder / WAREHOUSE_FILE).read_text() == str(db_path.resolve())
    ]
    if not kept:
        return []
    recorded = []
    with connect(db_path) as con:
        for folder in kept:
            run_id = folder.name.removesuffix(SUFFIX)
            [(present,)] = con.execute(
                "SELECT count(*) FROM model_runs WHERE run_id = ?", [run_id]
            ).fetchall()
            if not present:
                frames = {f.stem: pl.read_parquet(f) for f in sorted(folder.glob("*.parquet"))}
                write_rows(con, frames)
                recorded.append(run_id)
    for folder in kept:
        discard(folder)
    return recorded
