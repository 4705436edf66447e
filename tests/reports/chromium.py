"""Test support: a minimal Chrome DevTools Protocol client for real headless Chromium.

Why not Playwright or Selenium: they would be new dependencies (and Playwright downloads its
own browsers). Chromium speaks CDP over a websocket, and the ``websockets`` package is
already in the environment (Prefect depends on it), so a page can be loaded, inspected and
photographed with ~100 lines and the system's ``/usr/bin/chromium``.

The browser runs with a throwaway profile and everything that could reach the network in the
background switched off, so any request the report page makes is the page's own doing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
)
START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 30.0


def find_chromium() -> str | None:
    """The Chromium executable (Debian's ``chromium`` first), or None if none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Connection:
    """One websocket to the browser; command ids are unique across all sessions on it."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        reply = json.loads(self._ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
        if "method" in reply:
            self.events.append(reply)
        return reply

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its result, keeping the events that arrive meanwhile."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def wait_for(self, method: str, session: str, timeout: float) -> dict[str, Any]:
        """Block until the session has received an event ``method`` (maybe already)."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["method"] == method and e.get("sessionId") == session:
                    return e
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {method} within {timeout:.0f} s")
            self._receive(deadline)


class Page:
    """One browser tab over a flattened CDP session."""

    def __init__(self, connection: Connection, session: str) -> None:
        self._connection = connection
        self._session = session

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event this tab has received so far, in order."""
        return [e for e in self._connection.events if e.get("sessionId") == self._session]

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self._connection.send(method, self._session, **params)

    def wait_for(self, method: str, timeout: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        return self._connection.wait_for(method, self._session, timeout)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        """Save a PNG of the page (the whole scrollable page when ``full_page``)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            params |= {"clip": clip, "captureBeyondViewport": True}
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def console_errors(self) -> list[str]:
        """Console errors, log entries at level error and uncaught exceptions, as text."""
        out = []
        for e in self.events:
            params = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                out.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif e["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                out.append(f"{params['entry'].get('url', '')}: {params['entry']['text']}")
            elif e["method"] == "Runtime.exceptionThrown":
                out.append(params["exceptionDetails"].get("text", "exception"))
        return out

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]


def _devtools_url(process: subprocess.Popen, profile: Path) -> str:
    """Chromium writes its port and browser websocket path to DevToolsActivePort."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with status {process.returncode}")
        if marker.exists():
            lines = marker.read_text().split()
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise TimeoutError(f"chromium did not open its DevTools port in {START_TIMEOUT:.0f} s")


@contextmanager
def open_page(executable: str, width: int = 1200, height: int = 900) -> Iterator[Page]:
    """Start Chromium with a fresh profile and yield a blank tab with events enabled."""
    # Chromium's helper processes can still write to the profile for a moment after the
    # browser exits; the whole process group is stopped, and leftovers never fail a test.
    with tempfile.TemporaryDirectory(prefix="winset-chromium-", ignore_cleanup_errors=True) as tmp:
        profile = Path(tmp)
        process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            with connect(_devtools_url(process, profile), max_size=None) as ws:
                browser = Connection(ws)
                target = browser.send("Target.createTarget", url="about:blank")["targetId"]
                session = browser.send("Target.attachToTarget", targetId=target, flatten=True)
                page = Page(browser, session["sessionId"])
                for domain in ("Page", "Runtime", "Log", "Network"):
                    page.send(f"{domain}.enable")
                page.send(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=height,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                yield page
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM Chromium and its helpers (one session), SIGKILL whatever outlives 10 s."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
