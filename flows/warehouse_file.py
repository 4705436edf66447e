"""The warehouse as a file: wait for whoever holds it, check it is whole before writing, and
word DuckDB's file errors as one line that says what to do.

Why each part exists:

- DuckDB checks a block's checksum only when a query reads the block, so a truncated or
  bit-flipped file opens and accepts writes until some later read fails, and every write makes
  the damage harder to undo. Before a writer opens the file, every table is read once through
  a read-only connection; a file that fails is never opened for writing.
- Any DuckDB client holding the file, even read-only, keeps a writer out (and a writer keeps
  readers out). Giving up at once would drop work that took minutes (a finished fit), so
  opening waits, for a bounded and configurable time, and says who it is waiting for.
- A full disk or a damaged block surfaces as a DuckDB exception from whichever query touched
  it; ``problem()`` turns those into one line naming the file, at one place (``connect``).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import duckdb

from flows import settings

POLL_SECONDS = 0.25

# (size, mtime, inode) of files this process checked or wrote last: no need to read them again
_known_whole: dict[Path, tuple[int, int, int]] = {}


class WarehouseError(Exception):
    """A warehouse problem a user can act on; ``str()`` is one line."""


class WarehouseBusy(WarehouseError):
    """Another process holds the DuckDB file."""


class WarehouseDamaged(WarehouseError):
    """The file is truncated, has a block that fails its checksum, or is not a DuckDB file."""


class WarehouseFull(WarehouseError):
    """The device holding the warehouse has no space left; DuckDB rolled the write back."""


def open_file(
    path: Path, *, read_only: bool, wait: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``path``; a writer's file is first checked to be whole.

    ``wait`` (default ``WINSET_LOCK_WAIT``) bounds the seconds spent waiting for other
    processes that hold the file.
    """
    wait = settings.lock_wait_seconds() if wait is None else wait
    if not read_only and path.exists():
        check_whole(path, wait=wait)
    return _open_waiting(path, read_only=read_only, wait=wait)


def check_whole(path: Path, *, wait: float) -> None:
    """Read every table of ``path`` once (read-only), so every used block's checksum is checked.

    DuckDB has no integrity pragma; a full scan is the check it offers. Raises
    ``WarehouseDamaged`` naming the file. Skipped when this process checked or wrote the file
    and nothing has changed it since.
    """
    if _known_whole.get(path) == _stat_key(path):
        return
    con = _open_waiting(path, read_only=True, wait=wait)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary"
        ).fetchall()
        for schema, table in tables:
            # hash of the whole row reads every column's blocks; the one-row result costs nothing
            con.execute(f'SELECT bit_xor(hash(t)) FROM "{schema}"."{table}" AS t').fetchall()
    except duckdb.Error as exc:
        raise problem(path, exc) or _damaged(path, str(exc)) from exc
    finally:
        con.close()
    remember_whole(path)


def remember_whole(path: Path) -> None:
    """Note that ``path`` is whole as it is now (after a check, or after this process wrote it)."""
    if path.exists():
        _known_whole[path] = _stat_key(path)


def _stat_key(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _open_waiting(path: Path, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            holder = _lock_holder(str(exc))
            if holder is None:
                raise problem(path, exc) or WarehouseError(
                    f"{path}: cannot open the warehouse: {_first_line(exc)}"
                ) from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{path}: the warehouse is in use by {holder}; waited {wait:g} s "
                    "(WINSET_LOCK_WAIT sets how long); try again when it has finished"
                ) from None
            if not told:
                print(
                    f"{path} is in use by {holder}; waiting up to {wait:g} s for it…",
                    file=sys.stderr,
                    flush=True,
                )
                told = True
            time.sleep(POLL_SECONDS)


def _lock_holder(message: str) -> str | None:
    """Who holds the file, as DuckDB tells it (program and PID), or None if not a lock error."""
    if "Could not set lock" not in message and "Conflicting lock" not in message:
        return None
    found = re.search(r"lock is held in (.+?) \(PID (\d+)\)", message)
    if not found:
        return "another process"
    program, pid = found.groups()
    return f"process {pid} ({_command_line(pid) or Path(program).name})"


def _command_line(pid: str) -> str | None:
    """The holder's command line where the system shows it (Linux), shortened to one line."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    if not words:
        return None
    line = " ".join(" ".join([Path(words[0]).name, *words[1:]]).split())  # one line
    return line if len(line) <= 60 else line[:59] + "…"


def problem(path: Path, exc: duckdb.Error) -> WarehouseError | None:
    """The user-facing problem behind a DuckDB error about the file, or None for other errors.

    Errors about the data or the SQL (constraints, missing tables) are programming errors and
    stay as they are.
    """
    message = str(exc)
    if "No space left on device" in message or "Disk quota exceeded" in message:
        return WarehouseFull(
            f"{path}: no space left on the device; nothing was written and the warehouse is "
            "as it was: free some space and run again"
        )
    if any(sign in message for sign in _DAMAGE_SIGNS):
        return _damaged(path, message)
    if isinstance(exc, duckdb.IOException | duckdb.FatalException):
        return WarehouseError(f"{path}: {_first_line(exc)}")
    return None


_DAMAGE_SIGNS = (
    "Corrupt database file",
    "Could not read enough bytes",
    "not a valid DuckDB database file",
)


def _damaged(path: Path, message: str) -> WarehouseDamaged:
    if checksum := re.search(r"checksum .* in block at location (\d+)", message):
        why = f"the block at byte {checksum.group(1)} fails its checksum"
    elif short := re.search(r"read \d+ bytes from location (\d+)", message):
        why = f"it is cut short: the block at byte {short.group(1)} is missing"
    elif "not a valid DuckDB database file" in message:
        why = "it is not a DuckDB database file"
    else:
        why = message.splitlines()[0]
    return WarehouseDamaged(
        f"{path}: the warehouse is damaged ({why}); it was not written to. Restore it from a "
        "backup, or move it aside and rebuild it from the sources with `winset run`"
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def remove_empty_wal(path: Path) -> None:
    """Remove the empty write-ahead log a commit that failed on a full disk leaves behind.

    Only called while this process still holds the file's write lock, so no other writer can
    be using that log; an empty log holds nothing to replay.
    """
    wal = Path(f"{path}.wal")
    if wal.exists() and wal.stat().st_size == 0:
        os.unlink(wal)
