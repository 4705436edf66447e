"""The ledger is insert-only: a stored key is never replaced, and a refused write leaves
every ledger table as it was (real DuckDB file, the real migrations)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.ledger_store import KEYS, LedgerWriteError, insert_only
from flows.warehouse import connect


def entry(run_id: str, panel_hash: str = "p1") -> pl.DataFrame:
    return pl.DataFrame(
        [{"run_id": run_id, "recorded_at": dt.datetime(2025, 9, 1), "model_run_id": "m",
          "config_hash": "c", "panel_hash": panel_hash, "origin": dt.date(2025, 8, 1),
          "source_months_json": "{}", "n_draws": 2}]
    )  # fmt: skip


def revision(value: float) -> pl.DataFrame:
    return pl.DataFrame(
        [{"series": "us_tariff", "target_month": dt.date(2025, 9, 1), "resolved_value": 1.0,
          "revised_value": value, "panel_hash": "p2", "noted_at": dt.datetime(2025, 12, 1)}]
    )  # fmt: skip


def rows(db: Path, table: str) -> pl.DataFrame:
    with connect(db, read_only=True) as con:
        return con.sql(f"SELECT * FROM {table} ORDER BY ALL").pl()


def test_a_stored_key_is_refused_and_nothing_of_the_write_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        insert_only(con, {"ledger_entries": entry("a")})
        with pytest.raises(LedgerWriteError, match=r"ledger_entries: 1 row\(s\) already recorded"):
            # a new revision first, then the clash: the whole write is rolled back
            insert_only(con, {"ledger_revisions": revision(2.0),
                              "ledger_entries": entry("a", panel_hash="changed")})  # fmt: skip
    assert rows(db, "ledger_entries")["panel_hash"].to_list() == ["p1"]
    assert rows(db, "ledger_revisions").is_empty()


def test_a_key_repeated_within_a_write_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con, pytest.raises(LedgerWriteError, match="repeat a key"):
        insert_only(con, {"ledger_entries": pl.concat([entry("a"), entry("a")])})
    assert rows(db, "ledger_entries").is_empty()


def test_new_keys_are_appended(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        insert_only(con, {"ledger_entries": entry("a")})
        insert_only(con, {"ledger_entries": entry("b"), "ledger_revisions": revision(2.0)})
        insert_only(con, {"ledger_revisions": revision(3.0)})  # another revised value
    assert rows(db, "ledger_entries")["run_id"].to_list() == ["a", "b"]
    assert rows(db, "ledger_revisions")["revised_value"].to_list() == [2.0, 3.0]


def test_every_ledger_table_has_its_key_as_primary_key(tmp_path: Path) -> None:
    """The writer's keys and the schema's primary keys are the same columns, so the database
    itself refuses a duplicate that slipped past the writer."""
    db = tmp_path / "w.duckdb"
    with connect(db, read_only=False) as con:
        for table, key in KEYS.items():
            [(found,)] = con.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() "
                "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
                [table],
            ).fetchall()
            assert tuple(found) == key, table
