"""The DuckDB warehouse: schema migrations, idempotent ingest writes, and table status.

Only flows hold a connection (DuckDB allows one writing process), and every ingest is written
in a single transaction: a run that fails or is killed leaves the file exactly as it was,
because DuckDB rolls back an uncommitted transaction when the file is next opened.

Raw tables carry lineage (``source``, ``file``, ``sha256``, ``ingested_at``) and a natural key.
Writes are upserts that only touch rows whose values changed, so ingesting the same file
twice changes nothing, not even ``ingested_at``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from flows.sources.base import REJECT_SCHEMA, Parsed, Source
from flows.warehouse_file import (
    WarehouseError,
    open_file,
    problem,
    remember_whole,
    remove_empty_wal,
)

LINEAGE_COLUMNS = ("source", "file", "sha256", "ingested_at")


@dataclass(frozen=True)
class Batch:
    """One parsed file on its way into the warehouse."""

    source: Source
    dataset: str
    file: str
    sha256: str
    parsed: Parsed


@dataclass(frozen=True)
class IngestSummary:
    """What an ingest wrote; ``normalised`` is (file, what, count) for every normalisation a
    parser made (``Parsed.normalised``), so the summary can say what was changed per file."""

    run_id: str
    files: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    normalised: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class TableStatus:
    source: str
    table: str
    rows: int
    first: dt.date | None
    last: dt.date | None
    last_ingested_at: dt.datetime | None
    rejected: int


# --------------------------------------------------------------------------- connections


@contextmanager
def connect(
    path: Path, *, read_only: bool = False, wait: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse: migrated to the latest schema, or, ``read_only``, checked to be at it.

    Readers can then rely on every table and column of the current schema; a warehouse last
    written by an older winset gets one clear line instead of a missing-column error. A writer
    first checks the file is whole (``flows.warehouse_file``), and both wait up to ``wait``
    seconds (default ``WINSET_LOCK_WAIT``) for other processes holding it. DuckDB errors about
    the file (damage, a full disk), from opening or from any query in the block, become one
    ``WarehouseError`` line here.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet; run `winset ingest` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = open_file(path, read_only=read_only, wait=wait)
    failed = True
    try:
        if read_only:
            _require_current(con, path)
        else:
            migrate(con)
        yield con
        failed = False
    except duckdb.Error as exc:
        translated = problem(path, exc)
        if translated is None:
            raise
        raise translated from exc
    finally:
        if failed and not read_only:
            remove_empty_wal(path)
        con.close()
        if not failed and not read_only:
            remember_whole(path)


# --------------------------------------------------------------------------- migrations


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in ``flows/migrations``, in version order."""
    folder = resources.files("flows") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{3})_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found)


def _require_current(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    done = (
        {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
        if "schema_migrations" in tables
        else set()
    )
    missing = [v for v, _, _ in migrations() if v not in done]
    if missing:
        raise WarehouseError(
            f"{path}: the warehouse schema is older than this winset (migration "
            f"{missing[0]:03d} not applied); any writing command, e.g. `winset ingest`, "
            "migrates it"
        )


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)", [version, name]
            )
        applied.append(version)
    return applied


# --------------------------------------------------------------------------- ingest writes


def write_ingest(
    con: duckdb.DuckDBPyConnection,
    batches: Sequence[Batch],
    *,
    run_id: str,
    mode: str,
    started_at: dt.datetime,
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> IngestSummary:
    """Write every batch, its rejects and the run record in one transaction.

    ``also`` adds the caller's own writes (a live run's refresh outcomes) to that transaction.
    """
    ingested_at = started_at.replace(tzinfo=None)
    totals = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    with transaction(con):
        for batch in batches:
            for name, value in write_batch(con, batch, run_id, ingested_at).items():
                totals[name] += value
        con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, current_timestamp::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
            [run_id, ingested_at, mode, len(batches), *totals.values()],
        )
        if also is not None:
            also(con)
    normalised = tuple(
        (b.file, what, n) for b in batches for what, n in b.parsed.normalised.items() if n
    )
    return IngestSummary(run_id=run_id, files=len(batches), normalised=normalised, **totals)


def write_batch(
    con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str, ingested_at: dt.datetime
) -> dict[str, int]:
    """Upsert one file's rows, store its rejects and record the file, inside the caller's
    transaction (one per run for :func:`write_ingest`, one per file for the GDELT backfill).

    Returns the counts ``inserted``, ``updated``, ``unchanged`` and ``rejected``.
    """
    counts = _upsert(con, batch, ingested_at)
    counts["rejected"] = _write_rejects(con, batch, run_id, ingested_at)
    _record_file(con, batch, run_id, ingested_at)
    return counts


def _typed(frame: pl.DataFrame, source: Source) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(t) for c, t in source.schema.items())


def _upsert(con: duckdb.DuckDBPyConnection, batch: Batch, ingested_at: dt.datetime) -> dict:
    source = batch.source
    stage = _typed(batch.parsed.rows, source).with_columns(
        pl.lit(f"{source.name}:{batch.dataset}").alias("source"),
        pl.lit(batch.file).alias("file"),
        pl.lit(batch.sha256).alias("sha256"),
        pl.lit(ingested_at, dtype=pl.Datetime("us")).alias("ingested_at"),
    )
    key = ", ".join(_q(k) for k in source.key)
    values = [c for c in source.schema if c not in source.key]
    differs = " OR ".join(f"s.{_q(c)} IS DISTINCT FROM t.{_q(c)}" for c in values) or "false"
    join = " AND ".join(f"s.{_q(k)} = t.{_q(k)}" for k in source.key)
    table = _q(source.table)
    con.register("winset_stage", stage)
    try:
        [(new, changed)] = con.execute(
            f"SELECT count(*) FILTER (WHERE t.{_q(source.key[0])} IS NULL), "
            f"count(*) FILTER (WHERE t.{_q(source.key[0])} IS NOT NULL AND ({differs})) "
            f"FROM winset_stage s LEFT JOIN {table} t ON {join}"
        ).fetchall()
        updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in (*values, *LINEAGE_COLUMNS))
        guard = " OR ".join(f"{table}.{_q(c)} IS DISTINCT FROM excluded.{_q(c)}" for c in values)
        action = f"DO UPDATE SET {updates} WHERE {guard}" if values else "DO NOTHING"
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT * FROM winset_stage ON CONFLICT ({key}) {action}"
        )
    finally:
        _unregister(con, "winset_stage")
    return {"inserted": new, "updated": changed, "unchanged": stage.height - new - changed}


def _write_rejects(
    con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str, ingested_at: dt.datetime
) -> int:
    rejects = batch.parsed.rejects.select(pl.col(c).cast(t) for c, t in REJECT_SCHEMA.items())
    if rejects.is_empty():
        return 0
    stage = rejects.with_columns(
        pl.lit(batch.source.name).alias("source"),
        pl.lit(batch.dataset).alias("dataset"),
        pl.lit(batch.file).alias("file"),
        pl.lit(batch.sha256).alias("sha256"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(ingested_at, dtype=pl.Datetime("us")).alias("ingested_at"),
    )
    con.register("winset_rejects", stage)
    try:
        con.execute(
            "INSERT INTO rejects BY NAME SELECT * FROM winset_rejects ON CONFLICT DO NOTHING"
        )
    finally:
        _unregister(con, "winset_rejects")
    return rejects.height


def _record_file(
    con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str, ingested_at: dt.datetime
) -> None:
    con.execute(
        "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            batch.sha256,
            batch.source.name,
            batch.dataset,
            batch.file,
            batch.parsed.rows.height,
            batch.parsed.rejects.height,
            run_id,
            ingested_at,
        ],
    )


def _unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a registered frame; inside a failed transaction DuckDB refuses, and that is fine."""
    with contextlib.suppress(duckdb.Error):
        con.unregister(name)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --------------------------------------------------------------------------- reading


def read_table(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    """A whole table as a Polars frame (the raw tables are small: thousands of rows)."""
    return con.sql(f"SELECT * FROM {_q(table)}").pl()


def table_status(con: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> list[TableStatus]:
    """Per source table: rows, first and last date, last ingest, rejected rows."""
    rejected = dict(con.execute("SELECT source, count(*) FROM rejects GROUP BY source").fetchall())
    out = []
    for source in sources:
        time_column = next(c for c, t in source.schema.items() if t in (pl.Date(), pl.Datetime()))
        # fetchall, not fetchone: DuckDB 2 keeps a half-read result open on the connection
        [(rows, first, last, ingested)] = con.execute(
            f"SELECT count(*), min({_q(time_column)}), max({_q(time_column)}), max(ingested_at) "
            f"FROM {_q(source.table)}"
        ).fetchall()
        out.append(
            TableStatus(
                source=source.name,
                table=source.table,
                rows=rows,
                first=_as_date(first),
                last=_as_date(last),
                last_ingested_at=ingested,
                rejected=rejected.get(source.name, 0),
            )
        )
    return out


def _as_date(value: dt.date | dt.datetime | None) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


def read_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, pl.DataFrame]:
    """The named tables that exist, without lineage columns (what pure code consumes)."""
    present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return {
        t: read_table(con, t).drop(LINEAGE_COLUMNS, strict=False) for t in tables if t in present
    }


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit everything in the block, or nothing (also on KeyboardInterrupt)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        # a statement that failed may have ended the transaction already; keep its reason
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("ROLLBACK")
        raise
    # Outside the try: a COMMIT that fails (a full disk) has already been rolled back by
    # DuckDB, and a ROLLBACK then would fail too and hide the reason.
    con.execute("COMMIT")


def write_rows(
    con: duckdb.DuckDBPyConnection,
    frames: Mapping[str, pl.DataFrame],
    *,
    replace_on: Mapping[str, str] | None = None,
) -> None:
    """Append rows to existing tables, all in one transaction (columns matched by name).

    ``replace_on`` names, per table, a key column: stored rows whose key appears in the new
    rows are replaced, so re-running a step (publishing a run again) overwrites its rows.
    """
    with transaction(con):
        for table, frame in frames.items():
            con.register("winset_rows", frame)
            try:
                if key := (replace_on or {}).get(table):
                    con.execute(
                        f"DELETE FROM {_q(table)} "
                        f"WHERE {_q(key)} IN (SELECT {_q(key)} FROM winset_rows)"
                    )
                con.execute(f"INSERT INTO {_q(table)} BY NAME SELECT * FROM winset_rows")
            finally:
                _unregister(con, "winset_rows")


def replace_tables(con: duckdb.DuckDBPyConnection, frames: Mapping[str, pl.DataFrame]) -> None:
    """Swap derived tables' whole content in one transaction (readers never see half)."""
    with transaction(con):
        for table, frame in frames.items():
            con.register("winset_replace", frame)
            try:
                con.execute(f"CREATE OR REPLACE TABLE {_q(table)} AS SELECT * FROM winset_replace")
            finally:
                _unregister(con, "winset_replace")
