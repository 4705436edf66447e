"""The ``gdelt-backfill`` flow: USA–CHN events from every GDELT 2.0 export file since the last.

GDELT 2.0 publishes an event export every 15 minutes (~2,900 files a month). A backfill lists
the files of a time window (:mod:`flows.gdelt_filelist`), downloads the missing ones in a
bounded thread pool (md5-checked and cached, :mod:`flows.gdelt_exports`), and writes them
*one transaction per file, in time order*: the file's events (upserted on GlobalEventID), its
rejects and a row in ``gdelt_export_files`` commit together. So a run killed at any moment
leaves whole files only, the files written always form a prefix of the window, and the next
run resumes after the last one recorded; files already in the cache are not downloaded again.

Downloads run in plain threads inside one flow run rather than as a Prefect task per file:
thousands of 15-minute files would spend more time in task bookkeeping than in transfer. A
file that cannot be used (md5 mismatch after retries, HTTP 404, a corrupt zip) stops the run
at that file with one line naming it; everything before it stays written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
from prefect import flow, get_run_logger

from flows import settings
from flows.fetch import sha256
from flows.gdelt_exports import Download, ExportCache, ThreadClients, get_export, with_retries
from flows.gdelt_filelist import ExportFile, list_exports
from flows.ingest import LiveOptions
from flows.sources import gdelt
from flows.sources.base import SourceError
from flows.sources.limits import check_rejects
from flows.warehouse import Batch, connect, transaction, write_batch


class BackfillStopped(SourceError):
    """A file could not be used; the files before it are written, it and later ones are not."""


@dataclass(frozen=True)
class FileWritten:
    """One export file committed to the warehouse."""

    file: ExportFile
    events: int
    inserted: int
    updated: int
    rejected: int
    codes_normalised: int
    from_cache: bool

    def describe(self) -> str:
        how = "from the cache" if self.from_cache else "downloaded"
        fixed = f", {self.codes_normalised} CAMEO codes normalised" if self.codes_normalised else ""
        return (
            f"{self.file.name}: {self.events} USA–CHN events ({self.inserted} new), "
            f"{self.rejected} rejected{fixed}, {how}"
        )


@runtime_checkable
class BackfillProgress(Protocol):
    """What the CLI shows while a backfill runs (a progress bar, or one line per file)."""

    def planned(self, files: int, list_url: str) -> None: ...

    def written(self, done: FileWritten) -> None: ...


@dataclass(frozen=True)
class BackfillSummary:
    run_id: str
    list_url: str
    start: dt.datetime
    end: dt.datetime
    listed: int  # export files in the window
    already: int  # of those, written by earlier runs
    files: int  # written now
    downloaded: int
    from_cache: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    codes_normalised: int
    left: int  # pending files beyond --max-files, for the next run

    def describe(self) -> str:
        lines = [
            f"GDELT backfill {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC "
            f"({self.listed} export files listed in {self.list_url}, {self.already} already "
            "written):",
            f"  {self.files} files written ({self.downloaded} downloaded, {self.from_cache} from "
            f"the cache): {self.inserted} events new, {self.updated} changed, {self.unchanged} "
            f"unchanged, {self.rejected} rejected, {self.codes_normalised} CAMEO codes normalised",
        ]
        if self.left:
            files = "1 more file is" if self.left == 1 else f"{self.left} more files are"
            lines.append(f"  {files} pending: run the backfill again")
        return "\n".join(lines)


# --------------------------------------------------------------------------- the window


def parse_moment(text: str, option: str) -> tuple[dt.datetime, dt.datetime]:
    """The period a --since/--until value names, as [first instant, first instant after).

    ``2024-03`` is March 2024, ``2024-03-15`` that day, ``20240315103000`` one 15-minute
    file slot; so ``--since 2024-03 --until 2024-03`` is the whole of March.
    """
    value = text.strip()
    for fmt, step in (("%Y-%m", None), ("%Y-%m-%d", dt.timedelta(days=1))):
        try:
            first = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        if step is None:  # a month
            after = (first + dt.timedelta(days=32)).replace(day=1)
            return first, after
        return first, first + step
    try:
        first = dt.datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        raise ValueError(
            f"{option} {text!r}: expected YYYY-MM, YYYY-MM-DD or YYYYMMDDHHMMSS"
        ) from None
    return first, first + dt.timedelta(seconds=1)


def window(
    since: str | None,
    until: str | None,
    last_written: dt.datetime | None,
    now: dt.datetime,
    start_if_empty: str | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the files to backfill: from --since, or just after the last file
    written, or (nothing written yet) from ``start_if_empty``; to the end of --until, or now.

    ``start_if_empty`` is the scheduled deployment's: a daily run must resume by itself, and
    on a new warehouse it needs a first start that a later run never goes back to."""
    if since is not None:
        start = parse_moment(since, "--since")[0]
    elif last_written is not None:
        start = last_written + dt.timedelta(seconds=1)
    elif start_if_empty is not None:
        start = parse_moment(start_if_empty, "start_if_empty")[0]
    else:
        raise ValueError(
            "no GDELT export file has been backfilled into this warehouse yet: "
            "say where to start with --since YYYY-MM"
        )
    end = parse_moment(until, "--until")[1] if until is not None else now
    if end <= start:
        raise ValueError(f"nothing to backfill: the window {start} to {end} is empty")
    return start, end


# --------------------------------------------------------------------------- the flow


@dataclass(frozen=True)
class _Fetched:
    content_sha256: str
    parsed: gdelt.ParsedExport
    from_cache: bool


@flow(name="gdelt-backfill", log_prints=True)
def gdelt_backfill(
    db_path: Path | None = None,
    since: str | None = None,
    until: str | None = None,
    max_files: int | None = None,
    workers: int = 4,
    cache_dir: Path | None = None,
    live: LiveOptions | None = None,
    progress: BackfillProgress | None = None,
    start_if_empty: str | None = None,
) -> BackfillSummary:
    """Backfill USA–CHN events from GDELT 2.0 export files into ``raw_gdelt_events``.

    The daily ``gdelt-backfill`` deployment (``prefect.yaml``) runs it with ``max_files`` and
    ``start_if_empty`` and no ``since``: each run resumes after the last file written.

    Args:
        db_path: The warehouse (default: ``WINSET_DB`` or ``var/winset.duckdb``).
        since: First period to backfill (YYYY-MM, YYYY-MM-DD or YYYYMMDDHHMMSS); default:
            just after the last file written.
        until: Last period to backfill, included; default: now.
        max_files: At most this many files in this run (the rest are left for the next).
        workers: Parallel downloads.
        cache_dir: Where verified zips are kept (default ``var/gdelt-exports``).
        live: Base URL (``gdelt`` or a mirror), timeout, size cap and retries.
        progress: Told the plan and each file written (the CLI's progress display).
        start_if_empty: Where to start when no file has been written yet and ``since`` is
            not given (the scheduled deployment's first run); ignored afterwards.
    """
    if workers < 1:
        raise ValueError(f"--workers {workers}: needs at least 1")
    if max_files is not None and max_files < 1:
        raise ValueError(f"--max-files {max_files}: needs at least 1")
    live = live or LiveOptions()
    how = Download(live.timeout, live.max_bytes, live.retries, live.retry_delay)
    cache = ExportCache(Path(cache_dir or settings.var_dir() / "gdelt-exports"))
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = f"gdelt-backfill-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    logger = get_run_logger()

    with connect(Path(db_path or settings.warehouse_path())) as con:
        [(last,)] = con.execute("SELECT max(file_time) FROM gdelt_export_files").fetchall()
        start, end = window(since, until, last, started, start_if_empty)
        files, list_url = list_exports(
            live.base_url(gdelt.SOURCE), start, end, timeout=live.timeout,
            attempt=lambda fn: with_retries(fn, how.retries, how.retry_delay),
        )  # fmt: skip
        done = _written_between(con, start, end)
        pending = [f for f in files if f.time not in done]
        left = max(0, len(pending) - max_files) if max_files else 0
        pending = pending[: len(pending) - left]
        logger.info("%s: %d files to backfill from %s", run_id, len(pending), list_url)
        if progress is not None:
            progress.planned(len(pending), list_url)

        written: list[FileWritten] = []
        try:
            with (
                ThreadClients(live.timeout) as clients,
                closing(
                    _fetched_in_order(
                        pending, workers, partial(_fetch, cache=cache, how=how, clients=clients)
                    )
                ) as fetched_files,  # closed before the clients: no download outlives them
            ):
                for file, fetched in fetched_files:
                    done_file = _write_file(con, file, fetched, run_id)
                    written.append(done_file)
                    logger.info("%s", done_file.describe())
                    if progress is not None:
                        progress.written(done_file)
        finally:
            if written:
                _record_run(con, run_id, started, written)
    return _summary(run_id, list_url, start, end, files, done, written, left)


def _written_between(
    con: duckdb.DuckDBPyConnection, start: dt.datetime, end: dt.datetime
) -> set[dt.datetime]:
    rows = con.execute(
        "SELECT file_time FROM gdelt_export_files WHERE file_time >= ? AND file_time < ?",
        [start, end],
    ).fetchall()
    return {t for (t,) in rows}


def _fetch(file: ExportFile, cache: ExportCache, how: Download, clients: ThreadClients) -> _Fetched:
    """Runs in a worker thread: get the verified bytes and parse them (Polars releases the
    GIL, so parsing overlaps the other downloads)."""
    content, from_cache = get_export(file, cache, how, clients)
    parsed = check_rejects(gdelt.parse_export(content, file.url), file.url)
    return _Fetched(sha256(content), parsed, from_cache)


def _fetched_in_order[R](
    files: Sequence[ExportFile], workers: int, fetch_one: Callable[[ExportFile], R]
) -> Iterator[tuple[ExportFile, R]]:
    """Each file with its fetched result, in list order, fetching up to ``workers`` at once.

    At most ``2 * workers`` files are in flight or waiting to be written, so memory stays
    bounded however long the window. The first failure is raised as :class:`BackfillStopped`
    for that file; queued downloads are cancelled and running ones finish into the cache.
    """
    queue: deque[tuple[ExportFile, Future[R]]] = deque()
    upcoming = iter(files)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gdelt") as pool:
        try:
            for file in upcoming:
                queue.append((file, pool.submit(fetch_one, file)))
                if len(queue) >= 2 * workers:
                    break
            while queue:
                file, future = queue.popleft()
                try:
                    result = future.result()
                except SourceError as exc:
                    raise BackfillStopped(
                        exc.file,
                        f"{exc.message}; nothing was written for this file, the files before "
                        "it are written and the next run resumes here",
                        row=exc.row,
                        field=exc.field,
                    ) from None
                following = next(upcoming, None)
                if following is not None:
                    queue.append((following, pool.submit(fetch_one, following)))
                yield file, result
        finally:
            for _, future in queue:
                future.cancel()


def _write_file(
    con: duckdb.DuckDBPyConnection, file: ExportFile, fetched: _Fetched, run_id: str
) -> FileWritten:
    """The file's events, rejects and record, in one transaction."""
    parsed = fetched.parsed
    ingested_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batch = Batch(gdelt.SOURCE, "export", file.url, fetched.content_sha256, parsed)
    with transaction(con):
        counts = write_batch(con, batch, run_id, ingested_at)
        con.execute(
            "INSERT INTO gdelt_export_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                file.time, file.url, file.size, file.md5, fetched.content_sha256,
                parsed.rows.height, parsed.rejects.height, parsed.codes_normalised,
                run_id, ingested_at,
            ],
        )  # fmt: skip
    return FileWritten(
        file=file,
        events=parsed.rows.height,
        inserted=counts["inserted"],
        updated=counts["updated"],
        rejected=counts["rejected"],
        codes_normalised=parsed.codes_normalised,
        from_cache=fetched.from_cache,
    )


def _record_run(
    con: duckdb.DuckDBPyConnection, run_id: str, started: dt.datetime, written: list[FileWritten]
) -> None:
    """The run in ``ingest_runs`` (mode ``gdelt-backfill``), also when it stopped at a file."""
    unchanged = sum(w.events - w.inserted - w.updated for w in written)
    with transaction(con):
        con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, current_timestamp::TIMESTAMP, "
            "'gdelt-backfill', ?, ?, ?, ?, ?)",
            [
                run_id, started, len(written), sum(w.inserted for w in written),
                sum(w.updated for w in written), unchanged, sum(w.rejected for w in written),
            ],
        )  # fmt: skip


def _summary(
    run_id: str,
    list_url: str,
    start: dt.datetime,
    end: dt.datetime,
    files: list[ExportFile],
    done: set[dt.datetime],
    written: list[FileWritten],
    left: int,
) -> BackfillSummary:
    return BackfillSummary(
        run_id=run_id,
        list_url=list_url,
        start=start,
        end=end,
        listed=len(files),
        already=sum(f.time in done for f in files),
        files=len(written),
        downloaded=sum(not w.from_cache for w in written),
        from_cache=sum(w.from_cache for w in written),
        inserted=sum(w.inserted for w in written),
        updated=sum(w.updated for w in written),
        unchanged=sum(w.events - w.inserted - w.updated for w in written),
        rejected=sum(w.rejected for w in written),
        codes_normalised=sum(w.codes_normalised for w in written),
        left=left,
    )
