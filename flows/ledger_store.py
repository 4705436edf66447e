"""Insert-only writes for the resolution ledger.

Why a writer of its own: the ledger is a track record, and a track record that can be edited
is worth nothing. :func:`insert_only` is the only way rows reach the ledger's tables, and it
refuses any row whose key is already stored instead of replacing it (``flows.warehouse``'s
``write_rows`` replaces on request, which is right for reports and wrong here). Nothing in
winset updates or deletes a ledger row; a changed outcome is a new row in
``ledger_revisions``, never an edit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import duckdb
import polars as pl

from flows.warehouse import transaction

KEYS: Mapping[str, tuple[str, ...]] = {
    "ledger_entries": ("run_id",),
    "ledger_quantities": ("run_id", "forecaster", "series", "horizon"),
    "ledger_questions": ("run_id", "question_id", "forecaster"),
    "ledger_resolutions": ("run_id", "kind", "item", "horizon", "forecaster"),
    "ledger_revisions": ("series", "target_month", "revised_value"),
}


class LedgerWriteError(ValueError):
    """An attempt to write a ledger row that is already there (the ledger is never rewritten)."""


def insert_only(con: duckdb.DuckDBPyConnection, frames: Mapping[str, pl.DataFrame]) -> None:
    """Append every frame to its ledger table in one transaction; any key already stored
    (or repeated within a frame) aborts the whole write, so nothing is half-written."""
    with transaction(con):
        for table, frame in frames.items():
            if not frame.height:
                continue
            key = KEYS[table]
            if frame.select(key).is_duplicated().any():
                raise LedgerWriteError(f"{table}: the new rows repeat a key {list(key)}")
            con.register("ledger_rows", frame)
            try:
                on = " AND ".join(f"t.{k} = n.{k}" for k in key)
                [(clash,)] = con.execute(
                    f"SELECT count(*) FROM {table} t JOIN ledger_rows n ON {on}"
                ).fetchall()
                if clash:
                    raise LedgerWriteError(
                        f"{table}: {clash} row(s) already recorded with the same {list(key)}; "
                        "ledger rows are never replaced"
                    )
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ledger_rows")
            finally:
                with contextlib.suppress(duckdb.Error):  # refused inside a failed transaction
                    con.unregister("ledger_rows")
