"""Downloads against a real local HTTP server: success, 404, timeout, 5xx and the size cap."""

from __future__ import annotations

import pytest

from flows.fetch import FetchError, TransientFetchError, fetch, sha256
from tests.local_http import LocalServer


def test_fetch_returns_bytes_and_their_sha256(http_server: LocalServer) -> None:
    http_server.routes["/graph/fredgraph.csv?id=EXPCH"] = b"observation_date,EXPCH\n"
    got = fetch(f"{http_server.url}/graph/fredgraph.csv?id=EXPCH")
    assert got.content == b"observation_date,EXPCH\n"
    assert got.sha256 == sha256(b"observation_date,EXPCH\n")


def test_404_is_final_and_names_the_url(http_server: LocalServer) -> None:
    url = f"{http_server.url}/missing.csv"
    with pytest.raises(FetchError) as info:
        fetch(url)
    assert not isinstance(info.value, TransientFetchError)
    assert str(info.value) == f"{url}: HTTP 404 Not Found"


def test_timeout_is_transient(http_server: LocalServer) -> None:
    http_server.routes["/x.csv"] = b"a"
    http_server.slow_seconds = 2.0
    with pytest.raises(TransientFetchError, match=r"timed out after 0\.3 s"):
        fetch(f"{http_server.url}/slow/x.csv", timeout=0.3)


def test_server_error_is_transient(http_server: LocalServer) -> None:
    http_server.routes["/x.csv"] = b"a"
    with pytest.raises(TransientFetchError, match="HTTP 503"):
        fetch(f"{http_server.url}/fail-once/x.csv")
    assert fetch(f"{http_server.url}/fail-once/x.csv").content == b"a"


def test_response_over_the_size_cap_is_refused(http_server: LocalServer) -> None:
    http_server.routes["/big.csv"] = b"x" * 10_000
    with pytest.raises(FetchError, match="larger than the size cap of 1,000 bytes"):
        fetch(f"{http_server.url}/big.csv", max_bytes=1000)


def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransientFetchError, match="connection failed"):
        fetch("http://127.0.0.1:9/nothing", timeout=2)
