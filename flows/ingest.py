"""The ``ingest`` flow: read every source (bundled, live or a user's file), then write once.

Each source is one Prefect task that only reads and parses; the flow holds the single DuckDB
connection and writes all batches in one transaction after every task succeeded. A source that
fails (404, corrupt file, missing column) therefore fails the run and leaves the warehouse as it
was, and the user sees one line per failure naming the file, row and field.

Scheduled runs ask for ``keep_going`` instead: a live source that cannot be reached or fails
validation is left out whole (its last good rows stay), the others are written, and each
source's outcome goes to ``source_refreshes`` in the same transaction, so reports, artifacts
and ``winset status`` can say which sources are stale, since when and why (``flows.refresh``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows import settings
from flows.artifacts import record_refresh_artifact
from flows.fetch import DEFAULT_TIMEOUT_S, TransientFetchError, fetch, sha256
from flows.ingest_summary import normalised_lines, record_ingest_artifact, totals_line
from flows.refresh import Refresh, record_refreshes, refresh_states
from flows.sources import SOURCES, get_source
from flows.sources.base import Dataset, IngestFailed, Parsed, Source, SourceError
from flows.sources.limits import FileLimits, check_rejects, read_capped
from flows.warehouse import Batch, IngestSummary, connect, write_ingest


@dataclass(frozen=True)
class LiveOptions:
    """How live downloads behave; base URLs can point at a mirror or a local test server."""

    base_urls: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT_S
    max_bytes: int = field(default_factory=lambda: FileLimits.from_env().max_file_bytes)
    retries: int = 2
    retry_delay: float = 5.0

    def base_url(self, source: Source) -> str:
        if source.name in self.base_urls:
            return self.base_urls[source.name].rstrip("/")
        if "*" in self.base_urls:  # a mirror of every source, one folder per source
            return f"{self.base_urls['*'].rstrip('/')}/{source.name}"
        return source.base_url.rstrip("/")


def _retry_transient(task, task_run, state) -> bool:
    try:
        state.result()
    except TransientFetchError:
        return True
    except Exception:
        return False
    return False


def parse_capped(dataset: Dataset, content: bytes, name: str) -> Parsed:
    """``dataset.parse`` with the reject cap and the systematic-reject rule enforced for every
    connector (:func:`~flows.sources.limits.check_rejects`; the CSV reader and GDELT also
    stop early at the cap)."""
    return check_rejects(dataset.parse(content, name), name)


@task(cache_policy=NONE, task_run_name="read-{source_name}")
def read_bundled(source_name: str, data_dir: Path, max_bytes: int) -> list[Batch]:
    """Parse every bundled file of a source."""
    source = get_source(source_name)
    batches = []
    for dataset in source.datasets:
        path = data_dir / dataset.bundled
        if not path.exists():
            raise SourceError(str(path), "bundled file is missing")
        content = read_capped(path, max_bytes)
        batches.append(
            Batch(
                source,
                dataset.name,
                dataset.bundled,
                sha256(content),
                parse_capped(dataset, content, dataset.bundled),
            )
        )
    return batches


@task(cache_policy=NONE, task_run_name="download-{url}", retry_condition_fn=_retry_transient)
def download(url: str, timeout: float, max_bytes: int) -> tuple[bytes, str]:
    fetched = fetch(url, timeout=timeout, max_bytes=max_bytes)
    return fetched.content, fetched.sha256


@task(cache_policy=NONE, task_run_name="fetch-{source_name}")
def read_live(source_name: str, data_dir: Path, live: LiveOptions) -> list[Batch]:
    """Download and parse every published file of a source; curated files come from the bundle."""
    source = get_source(source_name)
    logger = get_run_logger()
    batches = []
    retrying = download.with_options(retries=live.retries, retry_delay_seconds=live.retry_delay)
    for dataset in source.datasets:
        if not dataset.live_path:
            logger.info(
                "%s:%s has no publisher URL; using the bundled file", source.name, dataset.name
            )
            name = dataset.bundled
            content = read_capped(data_dir / name, live.max_bytes)
            digest = sha256(content)
        else:
            name = f"{live.base_url(source)}{dataset.live_path}"
            content, digest = retrying(name, live.timeout, live.max_bytes)
        batches.append(
            Batch(source, dataset.name, name, digest, parse_capped(dataset, content, name))
        )
    return batches


@task(cache_policy=NONE, task_run_name="read-file-{path}")
def read_file(
    source_name: str, dataset_name: str | None, path: Path, max_bytes: int
) -> list[Batch]:
    """Parse a file the user downloaded themselves (e.g. a GDELT export)."""
    source = get_source(source_name)
    dataset = source.dataset(dataset_name) if dataset_name else _only_dataset(source)
    content = read_capped(path, max_bytes)
    parsed = parse_capped(dataset, content, str(path))
    return [Batch(source, dataset.name, str(path), sha256(content), parsed)]


def _only_dataset(source: Source):
    if len(source.datasets) != 1:
        names = ", ".join(f"{source.name}:{d.name}" for d in source.datasets)
        raise SourceError(source.name, f"say which dataset the file is: one of {names}")
    return source.datasets[0]


@flow(name="ingest", log_prints=True)
def ingest(
    db_path: Path | None = None,
    sources: Sequence[str] | None = None,
    live: LiveOptions | None = None,
    files: Sequence[tuple[str, str | None, Path]] = (),
    data_dir: Path | None = None,
    max_file_bytes: int | None = None,
    keep_going: bool = False,
) -> IngestSummary:
    """Read the chosen sources (all by default) and write them to the warehouse atomically.

    The defaults are those of a plain ``winset ingest``: every bundled source into the default
    warehouse. The weekly deployment (``prefect.yaml``) adds ``live`` and ``keep_going``.

    Args:
        db_path: The DuckDB warehouse (default: ``WINSET_DB`` or ``var/winset.duckdb``).
        sources: Source names to ingest (default: all).
        live: Download from the publishers with these options instead of the bundle.
        files: (source, dataset or None, path) triples for user-supplied files; when given,
            only those files are ingested.
        data_dir: The bundle (default: ``WINSET_DATA_DIR`` or ``data/``).
        max_file_bytes: The size cap of each file read from disk (default:
            ``WINSET_MAX_FILE_MB``, see :mod:`flows.sources.limits`); downloads use
            ``live.max_bytes``.
        keep_going: With ``live``: a source that fails keeps its last good rows and is
            recorded as stale while the others are written (scheduled runs); without it any
            failure writes nothing.
    """
    db_path = Path(db_path or settings.warehouse_path())
    data_dir = Path(data_dir or settings.data_dir())
    limits = FileLimits.from_env()  # a bad WINSET_MAX_* value fails before anything is read
    max_bytes = max_file_bytes or limits.max_file_bytes
    started = dt.datetime.now(dt.UTC)
    names = list(sources or SOURCES)
    for name in names:
        get_source(name)
    if keep_going and (live is None or files):
        raise ValueError("keep_going applies to live ingests only (use it with live)")
    if files:
        futures = {f"{s}:{p}": read_file.submit(s, d, Path(p), max_bytes) for s, d, p in files}
        mode = "file"
    elif live is not None:
        futures = {n: read_live.submit(n, data_dir, live) for n in names}
        mode = "live"
    else:
        futures = {n: read_bundled.submit(n, data_dir, max_bytes) for n in names}
        mode = "bundled"

    batches, errors, outcomes = [], [], []
    for name, future in futures.items():
        try:
            batches.extend(future.result())
            outcomes.append(Refresh(name))
        except SourceError as exc:
            errors.append(str(exc))
            outcomes.append(Refresh(name, str(exc)))
        except KeyError as exc:  # an unknown dataset name
            errors.append(exc.args[0])
    if errors and not keep_going:
        raise IngestFailed(errors)

    run_id = f"ingest-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    refreshed = mode == "live"

    def record(con: duckdb.DuckDBPyConnection) -> None:
        record_refreshes(con, run_id, started, outcomes)

    with connect(db_path) as con:
        summary = write_ingest(
            con, batches, run_id=run_id, mode=mode, started_at=started,
            also=record if refreshed else None,
        )  # fmt: skip
        states = refresh_states(con) if refreshed else {}
    logger = get_run_logger()
    for line in errors:
        logger.warning("stale, its last good rows kept: %s", line)
    if refreshed:
        record_refresh_artifact(states, run_id)
    for line in [f"{run_id}: {totals_line(summary)}", *normalised_lines(summary)]:
        logger.info("%s", line)
    record_ingest_artifact(summary)
    return summary
