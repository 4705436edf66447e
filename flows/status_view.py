"""What ``winset status`` prints: one row per source, then the stale sources in words.

Why its own module: the table is the first thing a user reads after an ingest or a scheduled
run, in a terminal or in a log 80 characters wide, so its layout is a decision worth keeping
in one place: seven columns that fit 80 characters without cutting a date to "2026-0…" (light
borders, one space between columns, times wrapped onto two lines). A stale source says so
under its live kind; since when and why follow the table, so a long error does not squeeze it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.table import Table

from flows.refresh import RefreshState
from reports import Staleness

COLUMNS = ("source", "live", "rows", "first", "last", "last ingest (UTC)", "rejected")
WRAPPED = "last ingest (UTC)"  # "YYYY-MM-DD" over "HH:MM" in a narrow console


def status_table(title: str, rows: Sequence[Any], states: Mapping[str, RefreshState]) -> Table:
    """``rows`` are ``flows.warehouse.TableStatus``; ``states`` each source's live refresh."""
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    for column in COLUMNS:
        table.add_column(
            column,
            justify="right" if column in ("rows", "rejected") else "left",
            no_wrap=column != WRAPPED,
            min_width=10 if column == WRAPPED else None,
        )
    for r in rows:
        state = states[r.source]
        ingested = f"{r.last_ingested_at:%Y-%m-%d %H:%M}" if r.last_ingested_at else "-"
        table.add_row(
            r.source,
            f"{state.kind}\n[bold red]stale[/]" if state.stale else state.kind,
            f"{r.rows:,}",
            str(r.first or "-"),
            str(r.last or "-"),
            ingested,
            f"{r.rejected:,}",
        )
    return table


def stale_lines(states: Mapping[str, RefreshState], staleness: Staleness) -> list[str]:
    """The lines below the table: each stale source since when and why, and the verdict."""
    stale = [s for s in states.values() if s.stale]
    lines = ["Stale sources (their last good rows are kept):"] if stale else []
    lines += [f"  {s.source}: {stale_since(s)}: {s.error}" for s in stale]
    if staleness.too_stale:
        lines.append(f"Too stale to publish as latest: {staleness.too_stale}.")
    return lines


def stale_since(state: RefreshState) -> str:
    """Since when a stale source is stale: its last good refresh, or never refreshed."""
    if state.last_ok is None:
        return "stale since always (never refreshed from its publisher)"
    return f"stale since {state.last_ok:%Y-%m-%d %H:%M} UTC (its last good refresh)"


def status_json(rows: Sequence[Any], states: Mapping[str, RefreshState]) -> list[dict[str, Any]]:
    """``winset status --json``: the table's values, plain, with each source's refresh."""
    return [
        {
            "source": r.source,
            "table": r.table,
            "rows": r.rows,
            "first": r.first.isoformat() if r.first else None,
            "last": r.last.isoformat() if r.last else None,
            "last_ingested_at": r.last_ingested_at.isoformat() if r.last_ingested_at else None,
            "rejected": r.rejected,
        }
        | states[r.source].as_row()
        for r in rows
    ]
