"""One GDELT export file, downloaded at most once: md5-checked, retried, cached on disk.

A backfill of a year is ~35,000 files; a killed or failed run must not fetch them again, so
every verified zip is kept in a cache folder (default ``var/gdelt-exports/``) and read from
there next time. A file enters the cache only after its size and md5 match the file list,
and under its final name only by an atomic rename, so a download cut by a kill leaves at most
a ``.part`` file that is never read. A cached file is checked again before use, and one that
no longer matches is downloaded anew.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from flows.fetch import TransientFetchError, fetch
from flows.gdelt_filelist import ExportFile


class ChecksumError(TransientFetchError):
    """The bytes do not match the file list: a broken transfer, worth trying again."""


def verify(file: ExportFile, content: bytes) -> None:
    """Refuse bytes whose size or md5 differ from the file list's."""
    if len(content) != file.size:
        raise ChecksumError(
            file.url, f"size mismatch: the file list says {file.size:,} bytes, got {len(content):,}"
        )
    digest = hashlib.md5(content).hexdigest()
    if digest != file.md5:
        raise ChecksumError(
            file.url, f"md5 mismatch: the file list says {file.md5}, the download is {digest}"
        )


def with_retries[T](fn: Callable[[], T], retries: int, delay: float) -> T:
    """Run ``fn``; try again up to ``retries`` times on a transient error (timeouts, 5xx,
    checksum mismatches). The last error says how many attempts were made."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except TransientFetchError as exc:
            if attempt == retries:
                raise type(exc)(exc.file, f"{exc.message} ({attempt + 1} attempts)") from None
            time.sleep(delay)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class ExportCache:
    """Verified export zips by file name in ``folder``."""

    folder: Path

    def read(self, file: ExportFile) -> bytes | None:
        path = self.folder / file.name
        if not path.is_file():
            return None
        content = path.read_bytes()
        try:
            verify(file, content)
        except ChecksumError:
            path.unlink(missing_ok=True)
            return None
        return content

    def write(self, file: ExportFile, content: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        part = self.folder / f".{file.name}.{os.getpid()}-{threading.get_ident()}.part"
        part.write_bytes(content)
        part.replace(self.folder / file.name)


@dataclass(frozen=True)
class Download:
    """How export files are fetched (the CLI's --timeout, --max-mb, --retries, ...)."""

    timeout: float
    max_bytes: int
    retries: int
    retry_delay: float


class ThreadClients:
    """One HTTP client per download thread, all closed together when the run ends.

    Creating a client costs about 0.1 s of CPU (it loads the CA bundle): a backfill of
    thousands of small files would otherwise spend more on that than on the transfers.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(timeout=self._timeout, follow_redirects=True)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def __enter__(self) -> ThreadClients:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for client in self._clients:
            client.close()


def get_export(
    file: ExportFile, cache: ExportCache, how: Download, clients: ThreadClients
) -> tuple[bytes, bool]:
    """The file's verified bytes and whether they came from the cache."""
    cached = cache.read(file)
    if cached is not None:
        return cached, True

    def once() -> bytes:
        fetched = fetch(
            file.url, timeout=how.timeout, max_bytes=how.max_bytes, client=clients.get()
        )
        content = fetched.content
        verify(file, content)
        return content

    content = with_retries(once, how.retries, how.retry_delay)
    cache.write(file, content)
    return content, False
