"""Live refreshes: what each source's live path can bring, which sources are stale, and when a
run is too stale to become ``latest``.

Why one module: a scheduled run keeps going when a publisher is down (the source keeps its last
good rows), so whoever reads the report, the Prefect UI or ``winset status`` must be told which
sources are stale, since when and why, and a run missing too much must not replace the last
good report as if nothing happened. The rule for "too much" is stated here once:

- more than a third (``MAX_STALE_SHARE``) of the sources whose live path can bring new data, or
- any key source (``KEY_SOURCES``): the US tariff on Chinese goods and the AI-GPR bilateral
  tension are emissions of the model, and VoteHub's polls are the only approval data of the
  second Trump term (the historical compilation ends in January 2025).

Each live ingest stores one row per source it tried in ``source_refreshes`` (in the ingest's
own transaction); a source is stale while its latest attempt failed, and "stale since" is its
last successful refresh.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import duckdb

from flows.sources import SOURCES
from flows.sources.base import Source
from reports.content import Staleness, StaleSource

KEY_SOURCES: tuple[str, ...] = ("tariffs", "ai_gpr", "approval_votehub")
MAX_STALE_SHARE = Fraction(1, 3)

PUBLISHER = "publisher"  # the publisher's own current file or API
MIRROR = "mirror"  # a repository's HEAD: follows its maintainer's updates
FROZEN_MIRROR = "frozen mirror"  # a repository pinned at one commit: never changes
FIXED_FILE = "fixed file"  # one dated file of a publisher: never changes
BUNDLED_ONLY = "bundled only"  # no live copy: live runs read the bundle
REFRESHABLE = frozenset({PUBLISHER, MIRROR})

# GDELT's live path names the one export of 2018-05-08 the bundle holds; newer days would need
# its file list, which no connector reads yet.
FIXED_FILES: frozenset[str] = frozenset({"gdelt"})
_COMMIT = re.compile(r"/[0-9a-f]{40}(/|$)")


def live_kind(source: Source) -> str:
    """What ``winset ingest --live`` can bring for ``source``, as ``winset status`` shows it.

    A repository pinned at a commit is a frozen mirror even when its file is derived here
    (``gdelt_graph``): what the reader needs to know is that it will never change."""
    if _COMMIT.search(source.base_url):
        return FROZEN_MIRROR
    if not any(d.live_path for d in source.datasets):
        return BUNDLED_ONLY
    if source.name in FIXED_FILES:
        return FIXED_FILE
    if source.base_url.startswith("https://raw.githubusercontent.com"):
        return MIRROR
    return PUBLISHER


def live_sources(sources: Iterable[Source] | None = None) -> list[str]:
    """The sources whose live path can bring new data: the ones the staleness rule counts."""
    return [s.name for s in (sources or SOURCES.values()) if live_kind(s) in REFRESHABLE]


@dataclass(frozen=True)
class Refresh:
    """One source's outcome in a live run: ``error`` is None when it was written."""

    source: str
    error: str | None = None


def record_refreshes(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    attempted_at: dt.datetime,
    outcomes: Sequence[Refresh],
) -> None:
    """Store a live run's outcomes; the caller holds the ingest's transaction."""
    when = attempted_at.astimezone(dt.UTC).replace(tzinfo=None)
    for outcome in outcomes:
        con.execute(
            "INSERT INTO source_refreshes VALUES (?, ?, ?, ?, ?)",
            [run_id, outcome.source, outcome.error is None, outcome.error, when],
        )


@dataclass(frozen=True)
class RefreshState:
    """A source's latest live refresh, for ``winset status``."""

    source: str
    kind: str
    last_ok: dt.datetime | None
    last_attempt: dt.datetime | None
    error: str | None  # the latest attempt's error: the source is stale

    @property
    def stale(self) -> bool:
        return self.error is not None

    def as_row(self) -> dict[str, object]:
        """Plain values (ISO times) for a Prefect table artifact and ``status --json``."""
        return {
            "source": self.source,
            "live": self.kind,
            "stale": self.stale,
            "last_refresh": self.last_ok.isoformat() if self.last_ok else None,
            "last_attempt": self.last_attempt.isoformat() if self.last_attempt else None,
            "why": self.error,
        }


def refresh_states(con: duckdb.DuckDBPyConnection) -> dict[str, RefreshState]:
    """Every registered source's live kind and latest refresh (None when never tried live)."""
    rows = con.execute(
        "SELECT source, max(attempted_at) FILTER (WHERE ok), max(attempted_at), "
        "arg_max(error, attempted_at) FROM source_refreshes GROUP BY source"
    ).fetchall()
    found = {source: (_utc(ok), _utc(last), error) for source, ok, last, error in rows}
    return {
        name: RefreshState(name, live_kind(source), *found.get(name, (None, None, None)))
        for name, source in SOURCES.items()
    }


def _utc(stored: dt.datetime | None) -> dt.datetime | None:
    """Stored times are naive UTC; readers get them aware, so they print as UTC."""
    return stored.replace(tzinfo=dt.UTC) if stored is not None else None


def staleness(states: Mapping[str, RefreshState]) -> Staleness:
    """The stale sources and the verdict of the rule in this module's docstring."""
    stale = tuple(
        StaleSource(
            source=s.source,
            kind=s.kind,
            since=s.last_ok,
            failed_at=s.last_attempt,
            error=s.error,
            key=s.source in KEY_SOURCES,
        )
        for s in states.values()
        if s.stale and s.last_attempt is not None and s.error is not None
    )
    return Staleness(stale, too_stale_reason(stale, live_sources()))


def too_stale_reason(stale: Sequence[StaleSource], counted: Sequence[str]) -> str | None:
    """Why a run with these stale sources may not become ``latest``, or None if it may."""
    key = [s.source for s in stale if s.key]
    live = [s.source for s in stale if s.source in counted]
    reasons = []
    if key:
        reasons.append(f"key source{'s' if len(key) > 1 else ''} {', '.join(key)} stale")
    if counted and Fraction(len(live), len(counted)) > MAX_STALE_SHARE:
        reasons.append(
            f"{len(live)} of {len(counted)} live sources stale (more than "
            f"{MAX_STALE_SHARE.numerator} in {MAX_STALE_SHARE.denominator})"
        )
    return "; ".join(reasons) or None


def read_staleness(con: duckdb.DuckDBPyConnection) -> Staleness:
    return staleness(refresh_states(con))
