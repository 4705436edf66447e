"""A real HTTP server on 127.0.0.1 for connector tests: exact routes, plus faults on demand.

Routes map a path *with* its query string (FRED serves ``/graph/fredgraph.csv?id=EXPCH``) to
bytes. ``/slow/...`` sleeps before answering and ``/fail-once/...`` answers 503 the first time,
so timeouts and retries are exercised over real sockets rather than mocks; a path prefix in
``down`` answers 503 every time (a publisher that is down).

``hits`` counts requests per path and ``served`` the complete 200 responses (a request held
and then dropped is a hit, not a download). ``bodies`` gives a path successive answers (the
last one repeats), e.g. a corrupt body and then the right one. Requests for a path in ``held``
wait until :meth:`LocalServer.release`, so a client can be caught mid-way deterministically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.served: dict[str, int] = {}
        self.bodies: dict[str, list[bytes]] = {}
        self.held: set[str] = set()
        self.down: set[str] = set()
        self._released = threading.Event()
        self._drop_held = False
        self.slow_seconds = 3.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path
                server.hits[path] = server.hits.get(path, 0) + 1
                if any(path.startswith(prefix) for prefix in server.down):
                    self._send(503, b"service unavailable")
                    return
                if path.startswith("/slow/"):
                    time.sleep(server.slow_seconds)
                    path = path.removeprefix("/slow")
                if path.startswith("/fail-once/"):
                    path = path.removeprefix("/fail-once")
                    if server.hits[self.path] == 1:
                        self._send(503, b"try again")
                        return
                if path in server.held:
                    server._released.wait()
                    if server._drop_held:
                        return  # the connection closes without an answer
                body = server._body(path)
                if body is None:
                    self._send(404, b"not found")
                elif self._send(200, body):
                    server.served[path] = server.served.get(path, 0) + 1

            def _send(self, status: int, body: bytes) -> bool:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    return False  # the client gave up (timeout tests)
                return True

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def _body(self, path: str) -> bytes | None:
        answers = self.bodies.get(path)
        if answers:
            return answers.pop(0) if len(answers) > 1 else answers[0]
        return self.routes.get(path)

    def release(self, *, drop_waiting: bool) -> None:
        """Stop holding: waiting requests are answered, or dropped unanswered."""
        self._drop_held = drop_waiting
        self.held = set()
        self._released.set()

    @contextmanager
    def running(self) -> Iterator[LocalServer]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._released.set()
            self._httpd.shutdown()
            self._httpd.server_close()
