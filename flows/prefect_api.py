"""Where Prefect keeps its state, and the one temporary API server a winset process uses.

Why this module exists: Prefect, left to itself, keeps its database in ``~/.prefect``, waits
20 s for its temporary ("ephemeral") API server and starts that server as a child that
outlives a killed parent. On a new 2-core machine the first start compiles Prefect's server
from source and migrates a new database, which takes longer than 20 s, so a newcomer's first
flow failed with a traceback. Here:

- Prefect's home defaults to ``var/prefect`` (beside the warehouse it describes, so
  checkouts and test runs stay apart and ``rm -r var`` resets both); a ``PREFECT_HOME``,
  ``PREFECT_API_URL`` or ``PREFECT_PROFILE`` set by the user, or an active profile in
  ``~/.prefect/profiles.toml`` that names an API URL, always wins;
- the start-up wait defaults to 180 s (``WINSET_PREFECT_STARTUP_TIMEOUT`` changes it);
- a flow command starts the server once, up front, so a failure is one line that says what
  to do, and hands its URL to Prefect, whose clients then use it for the rest of the process;
- the server runs under a small wrapper (``flows.prefect_server_child``) that exits as soon
  as its parent is gone, so even ``kill -9`` of winset leaves no server behind.

``configure`` only sets environment variables (it runs before Prefect is imported);
``ensure_api_server`` imports Prefect and is called only by commands that run flows.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

DEFAULT_STARTUP_TIMEOUT_S = 180
TIMEOUT_VARIABLE = "WINSET_PREFECT_STARTUP_TIMEOUT"
_PREFECT_TIMEOUT_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
_USER_CHOICES = ("PREFECT_HOME", "PREFECT_API_URL", "PREFECT_PROFILE")


class PrefectUnavailable(Exception):
    """Prefect's API could not be reached; ``str()`` is one line saying what to do."""


def configure(var_dir: Path) -> None:
    """Set Prefect's home and start-up wait unless the user chose them (before importing it)."""
    if not _user_configured_prefect():
        home = var_dir / "prefect"
        os.environ["PREFECT_HOME"] = str(home)
        # Prefect creates its home without parents and only warns if it cannot.
        home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(_PREFECT_TIMEOUT_VARIABLE, str(startup_timeout()))


def startup_timeout() -> int:
    """Seconds to wait for the temporary server (``WINSET_PREFECT_STARTUP_TIMEOUT``)."""
    raw = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        return max(1, int(float(raw))) if raw else DEFAULT_STARTUP_TIMEOUT_S
    except ValueError:
        return DEFAULT_STARTUP_TIMEOUT_S


def _user_configured_prefect() -> bool:
    if any(os.environ.get(name) for name in _USER_CHOICES):
        return True
    profiles = Path.home() / ".prefect" / "profiles.toml"
    try:
        document = tomllib.loads(profiles.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False
    active = document.get("profiles", {}).get(document.get("active", "default"), {})
    return bool(active.get("PREFECT_API_URL"))


def ensure_api_server() -> str | None:
    """Make sure flows have a Prefect API: the user's server, or our temporary one.

    Our server is started without importing Prefect's server code into this process (that
    import alone cost about 4 CPU-seconds per command), and its URL is put in
    ``PREFECT_API_URL`` so Prefect's clients use it instead of starting their own. Returns
    the URL, or None when a server is configured already. Raises ``PrefectUnavailable`` (one
    line) if the temporary server does not start in time.
    """
    global _server
    if _leave_to_prefect():
        return None
    timeout = startup_timeout()
    deadline = time.monotonic() + timeout
    for _attempt in range(3):  # a port taken between choosing and binding: choose again
        port = _free_port()
        process = subprocess.Popen(_server_command(port), env=_server_environment())
        atexit.register(_stop, process)
        url = f"http://127.0.0.1:{port}/api"
        while process.poll() is None and time.monotonic() < deadline:
            if _healthy(url):
                _server = process
                os.environ["PREFECT_API_URL"] = url
                return url
            time.sleep(0.1)
        if process.poll() is None:
            break
    exited = process.poll()
    _stop(process)
    why = (
        f"it exited with status {exited}"
        if exited is not None
        else f"it did not answer within {timeout} s"
    )
    raise PrefectUnavailable(
        f"Prefect's temporary API server did not start ({why}; its home is "
        f"{os.environ.get('PREFECT_HOME', '~/.prefect')}). On a slow or busy machine set "
        f"{TIMEOUT_VARIABLE} to more seconds; or run `prefect server start` and set "
        "PREFECT_API_URL to it."
    )


def stop_api_server() -> None:
    """Stop our temporary server now (at exit it stops by itself; a signal handler can't wait)."""
    if _server is not None:
        _server.kill()


_server: subprocess.Popen[bytes] | None = None


def _leave_to_prefect() -> bool:
    """True when the user set an API URL, or Prefect is imported already (as in a test
    harness): its settings were read at import, so a URL set now would not reach it."""
    return bool(os.environ.get("PREFECT_API_URL")) or "prefect" in sys.modules


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_command(port: int) -> list[str]:
    """Prefect's own temporary-server command, run through the parent-watching wrapper."""
    return [
        sys.executable, "-m", "flows.prefect_server_child", str(os.getpid()),
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def _server_environment() -> dict[str, str]:
    """As Prefect sets it for its temporary server, less the automation services (triggers
    and actions), which winset never uses and which failed noisily when stopped early."""
    return {
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_ACTIONS_ENABLED": "false",
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
    }


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
