"""The reports folder on disk, written so that a process killed at any instant leaves it usable.

Layout of ``var/reports/``::

    .builds/<run_id>.<token>/   one immutable folder per publish: report.html, summary.md, CSVs
    <run_id> -> .builds/...     the run's current build (a link, so republishing swaps it)
    index.html                  every published run
    latest -> <run_id>          the newest healthy publication report
    .publish.lock               held while a publish runs: one publish at a time per folder

Why this shape: a rename is atomic, so readers see the old name or the new one, never half a
file; but neither a file's content nor a rename survives a crash until it is fsynced. So every
file is fsynced before anything names it, every rename is followed by an fsync of its folder,
and a build is complete and durable before a ``reports`` row may point at it. Replacing a
folder in place cannot be atomic (two renames), replacing a link can: hence the links.

Which builds, links, index and ``latest`` are right is decided by the ``reports`` rows
(``flows.publish``); this module only makes the files say it, idempotently.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

BUILDS = ".builds"
INDEX = "index.html"
LATEST = "latest"
LOCK = ".publish.lock"
_STAGING_PREFIX = ".staging-"  # temporary links and index files, renamed into place


@contextmanager
def lock(reports_dir: Path) -> Iterator[None]:
    """Hold the folder's publish lock; the kernel releases it when the process dies."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    with (reports_dir / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync_folder(folder: Path) -> None:
    """Make the folder's entries (new names, renames, removals) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, content: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def write_build(reports_dir: Path, run_id: str, files: Mapping[str, bytes]) -> str:
    """Write a run's files into a new hidden build folder, durably; return the build's name.

    Until a committed ``reports`` row names the build, nothing refers to it (a publish killed
    before its commit leaves only this); :func:`remove_unused` deletes it once the run is
    published.
    """
    builds = reports_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{run_id}.{uuid.uuid4().hex[:12]}"
    folder = builds / name
    folder.mkdir()
    for file, content in files.items():
        _write_durably(folder / file, content)
    sync_folder(folder)
    sync_folder(builds)
    sync_folder(reports_dir)
    return name


def _replace_link(reports_dir: Path, name: str, target: str) -> bool:
    """Point ``reports_dir/name`` at ``target`` by renaming a new link over it; False when it
    already pointed there."""
    path = reports_dir / name
    if path.is_symlink() and os.readlink(path) == target:
        return False
    staging = reports_dir / f"{_STAGING_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
    staging.symlink_to(target, target_is_directory=True)
    if path.is_dir() and not path.is_symlink():
        # A run published before builds existed has a real folder, which a link cannot be
        # renamed over: it is moved aside first (the one non-atomic step, for old runs only).
        path.rename(reports_dir / BUILDS / f"{name}.replaced-{uuid.uuid4().hex[:8]}")
    os.replace(staging, path)
    sync_folder(reports_dir)
    return True


def link_run(reports_dir: Path, run_id: str, build: str) -> bool:
    """Make ``<run_id>`` the run's current build; False when it already was."""
    return _replace_link(reports_dir, run_id, f"{BUILDS}/{build}")


def point_latest(reports_dir: Path, run_id: str) -> bool:
    """Swap ``latest`` to ``run_id`` atomically; False when it already pointed there."""
    return _replace_link(reports_dir, LATEST, run_id)


def write_index(reports_dir: Path, html: str) -> None:
    """Replace ``index.html`` atomically and durably."""
    staging = reports_dir / f"{_STAGING_PREFIX}{INDEX}-{uuid.uuid4().hex[:8]}"
    _write_durably(staging, html.encode())
    os.replace(staging, reports_dir / INDEX)
    sync_folder(reports_dir)


def remove_unused(reports_dir: Path, builds: Mapping[str, str]) -> None:
    """Delete the builds of the runs in ``builds`` (run id -> its current build) other than
    their current one (superseded, or written by a publish killed before its commit), and
    staging leftovers of killed runs. Builds of runs not in ``builds`` are left alone: another
    warehouse may publish into the same folder. Only ever called under :func:`lock`, so no
    publish is between its build and its commit."""
    for entry in reports_dir.glob(f"{_STAGING_PREFIX}*"):
        entry.unlink(missing_ok=True)
    folder = reports_dir / BUILDS
    if not folder.is_dir():
        return
    removed = False
    for entry in folder.iterdir():
        run_id = entry.name.rsplit(".", 1)[0]
        if run_id in builds and entry.name != builds[run_id]:
            shutil.rmtree(entry, ignore_errors=True)
            removed = True
    if removed:
        sync_folder(folder)
