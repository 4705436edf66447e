"""A GDELT 2.0 mirror for the local HTTP server: real export rows in 15-minute zip files.

The rows are the real bundled export's (``data/jaimelavie_gdelt-analysis``), split in file
order across consecutive 15-minute files, each zipped as GDELT does (one ``.CSV`` member)
and listed in ``masterfilelist.txt`` and ``lastupdate.txt`` as ``size md5 url`` with the
zips' true sizes and md5s. Every export line is followed, as in GDELT's list, by a line for
the slot's mentions file (the same size and md5, never served): a backfill must skip it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.local_http import LocalServer

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "data/jaimelavie_gdelt-analysis/DERIVED_20180508_partial.export.CSV"
)
FIRST_SLOT = dt.datetime(2018, 5, 8)
PREFIX = "/gdeltv2"


@dataclass(frozen=True)
class MirrorFile:
    time: dt.datetime
    lines: list[bytes]
    zipped: bytes

    @property
    def name(self) -> str:
        return f"{self.time:%Y%m%d%H%M%S}.export.CSV.zip"

    @property
    def path(self) -> str:
        return f"{PREFIX}/{self.name}"

    @property
    def md5(self) -> str:
        return hashlib.md5(self.zipped).hexdigest()


def fixture_lines() -> list[bytes]:
    return FIXTURE.read_bytes().splitlines()


def split_into_files(lines: list[bytes], n_files: int, first: dt.datetime = FIRST_SLOT):
    """``lines`` in ``n_files`` contiguous chunks, one per 15-minute slot from ``first``."""
    size = -(-len(lines) // n_files)
    files = []
    for k in range(n_files):
        chunk = lines[k * size : (k + 1) * size]
        time = first + k * dt.timedelta(minutes=15)
        files.append(MirrorFile(time, chunk, _zip(f"{time:%Y%m%d%H%M%S}.export.CSV", chunk)))
    return files


def _zip(member: str, lines: list[bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(member, date_time=(2018, 5, 8, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, b"".join(line + b"\n" for line in lines))
    return buffer.getvalue()


def list_line(server: LocalServer, file: MirrorFile, kind: str = "export") -> str:
    name = file.name.replace(".export.", f".{kind}.")
    return f"{len(file.zipped)} {file.md5} {server.url}{PREFIX}/{name}\n"


def serve(server: LocalServer, files: list[MirrorFile]) -> str:
    """Put the files and both lists on ``server``; return the base URL to give winset."""
    master = ""
    for file in files:
        server.routes[file.path] = file.zipped
        master += list_line(server, file) + list_line(server, file, "mentions")
    server.routes[f"{PREFIX}/masterfilelist.txt"] = master.encode()
    last = files[-1]
    server.routes[f"{PREFIX}/lastupdate.txt"] = (
        list_line(server, last) + list_line(server, last, "mentions")
    ).encode()
    return f"{server.url}{PREFIX}"
