"""Downloading a publisher's file: one bounded attempt, classified so callers know what to retry.

Retries live in the Prefect task that calls :func:`fetch` (only for :class:`TransientFetchError`),
so a 404 fails at once while a timeout or a 503 is tried again. The size cap is enforced while
streaming, so a runaway response never fills memory, and the sha256 recorded in the warehouse
is of the exact bytes that were parsed.
"""

from __future__ import annotations

import hashlib
from contextlib import nullcontext
from dataclasses import dataclass

import httpx

from flows.sources.base import SourceError

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 512 * 1024 * 1024  # a month of GDELT exports zipped is far below this


class FetchError(SourceError):
    """A download that cannot succeed as asked (404, over the size cap, refused)."""


class TransientFetchError(FetchError):
    """A download that may succeed if tried again (timeout, connection reset, HTTP 5xx)."""


@dataclass(frozen=True)
class Fetched:
    url: str
    content: bytes
    sha256: str


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.Client | None = None,
) -> Fetched:
    """Download ``url`` once; raise a one-line :class:`FetchError` naming the URL on failure.

    Pass a ``client`` to reuse one across many downloads (the GDELT backfill): creating a
    client loads the CA bundle, about 0.1 s of CPU each time.
    """
    opened = nullcontext(client) if client else httpx.Client(timeout=timeout, follow_redirects=True)
    try:
        with opened as http, http.stream("GET", url, timeout=timeout) as response:
            if response.status_code >= 500:
                raise TransientFetchError(url, f"HTTP {response.status_code} from server")
            if response.status_code >= 400:
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise FetchError(url, _too_big(max_bytes))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(url, _too_big(max_bytes))
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise TransientFetchError(url, f"timed out after {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise TransientFetchError(url, f"connection failed: {exc}") from None
    content = b"".join(chunks)
    return Fetched(url, content, sha256(content))


def _too_big(max_bytes: int) -> str:
    return f"response is larger than the size cap of {max_bytes:,} bytes"
