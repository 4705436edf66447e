"""GDELT 2.0's file lists: which 15-minute export files exist, with their size and md5.

GDELT publishes ``lastupdate.txt`` (the newest three files: export, mentions, GKG) and
``masterfilelist.txt`` (every file since 2015, a few hundred MB), each line ``size md5 url``.
A backfill needs only the export lines inside its time window, so the master list is streamed
and every other line is skipped by name without being held in memory. Only lines that the
backfill will use are checked strictly: a malformed one stops the run with the list, row and
field, because downloading a file against a wrong md5 or size would refuse a good file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import httpx

from flows.fetch import FetchError, TransientFetchError, fetch
from flows.sources.base import SourceError

EXPORT = re.compile(r"(\d{14})\.export\.CSV\.zip$")
MD5 = re.compile(r"^[0-9a-f]{32}$")
SLOT = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class ExportFile:
    """One listed export file; ``time`` is its 15-minute slot, taken from its name."""

    time: dt.datetime
    url: str
    size: int
    md5: str

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def read_list(
    lines: Iterable[str], list_name: str, start: dt.datetime, end: dt.datetime
) -> list[ExportFile]:
    """The export files with ``start <= time < end`` in a file list, in time order."""
    found: dict[dt.datetime, ExportFile] = {}
    for row, line in enumerate(lines, start=1):
        match = EXPORT.search(line.rstrip())
        if match is None:
            continue  # mentions, GKG, blank lines
        time = _slot(match.group(1), list_name, row)
        if not start <= time < end:
            continue
        file = _entry(line, time, list_name, row)
        if found.setdefault(time, file) != file:
            raise SourceError(
                list_name, f"{file.name} is listed twice with different size or md5", row=row
            )
    return sorted(found.values(), key=lambda f: f.time)


def _slot(stamp: str, list_name: str, row: int) -> dt.datetime:
    try:
        return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        raise SourceError(
            list_name, f"not a timestamp in the file name: {stamp!r}", row=row, field="url"
        ) from None


def _entry(line: str, time: dt.datetime, list_name: str, row: int) -> ExportFile:
    parts = line.split()
    if len(parts) != 3:
        raise SourceError(
            list_name, f"expected 'size md5 url', found {len(parts)} fields: {line.strip()!r}",
            row=row,
        )  # fmt: skip
    size, md5, url = parts
    if not size.isdigit():
        raise SourceError(list_name, f"not a byte count: {size!r}", row=row, field="size")
    if not MD5.match(md5.lower()):
        raise SourceError(list_name, f"not an md5 digest: {md5!r}", row=row, field="md5")
    return ExportFile(time, url, int(size), md5.lower())


def list_exports(
    base_url: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    timeout: float,
    attempt: Callable[[Callable[[], list[ExportFile]]], list[ExportFile]],
) -> tuple[list[ExportFile], str]:
    """The export files in ``[start, end)`` and the list they came from.

    ``lastupdate.txt`` is enough when the window holds at most its one file (a scheduled run
    every 15 minutes); otherwise the master list is streamed. ``attempt`` runs a download
    with the caller's retry policy.
    """
    last_url = f"{base_url}/lastupdate.txt"

    def read_last() -> list[ExportFile]:
        text = fetch(last_url, timeout=timeout).content.decode("utf-8", errors="replace")
        return read_list(text.splitlines(), last_url, dt.datetime.min, dt.datetime.max)

    newest = attempt(read_last)
    if newest and start > newest[-1].time - SLOT:
        return [f for f in newest if start <= f.time < end], last_url
    master_url = f"{base_url}/masterfilelist.txt"
    files = attempt(lambda: read_list(stream_lines(master_url, timeout), master_url, start, end))
    return files, master_url


def stream_lines(url: str, timeout: float) -> Iterator[str]:
    """The lines of a large text file, read as they arrive (errors classified as in fetch)."""
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 500:
                raise TransientFetchError(url, f"HTTP {response.status_code} from server")
            if response.status_code >= 400:
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}")
            yield from response.iter_lines()
    except httpx.TimeoutException:
        raise TransientFetchError(url, f"timed out after {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise TransientFetchError(url, f"connection failed: {exc}") from None
