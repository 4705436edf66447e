"""The real bundled files as they were published at the end of a past month, for replaying time.

A file is cut by dropping its data lines dated after the month (the date is each line's first
cell, as in every live file that has rows after 2025); the header, line endings and format stay
the publisher's. Each cut is checked against the connector: its parsed rows must be exactly the
full file's rows up to the month, so a wrong cut fails here rather than in a distant assertion.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import polars as pl

from flows.sources import SOURCES
from flows.sources.base import Dataset, Source
from tests.local_http import LocalServer
from tests.sources.helpers import votehub_json

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y")


def month_end(month: str) -> dt.date:
    """The last day of ``YYYY-MM``."""
    first = dt.date.fromisoformat(f"{month}-01")
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def time_column(source: Source) -> str:
    return next(c for c, t in source.schema.items() if t in (pl.Date(), pl.Datetime()))


def rows_through(source: Source, dataset: Dataset, content: bytes, end: dt.date) -> pl.DataFrame:
    """The connector's rows of ``content`` dated on or before ``end``."""
    rows = dataset.parse(content, dataset.bundled).rows
    return rows.filter(pl.col(time_column(source)).cast(pl.Date) <= end)


def _line_date(line: bytes) -> dt.date:
    cell = line.split(b",", 1)[0].decode("utf-8-sig").strip().strip('"')
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cell, fmt).date()
        except ValueError:
            continue
    raise AssertionError(f"no date in the first cell of {line[:80]!r}")


def cut_at(source: Source, dataset: Dataset, content: bytes, month: str) -> bytes:
    """``content`` without its lines dated after ``month`` (checked against the connector)."""
    end = month_end(month)
    full = dataset.parse(content, dataset.bundled).rows
    if full.is_empty() or full[time_column(source)].cast(pl.Date).max() <= end:
        return content  # nothing published after the month
    header, *body = content.splitlines(keepends=True)
    cut = header + b"".join(line for line in body if line.strip() and _line_date(line) <= end)
    expected = rows_through(source, dataset, content, end)
    assert dataset.parse(cut, dataset.bundled).rows.equals(expected), (source.name, dataset.name)
    return cut


def live_datasets() -> list[tuple[Source, Dataset]]:
    return [(s, d) for s in SOURCES.values() for d in s.datasets if d.live_path]


def serve_as_of(server: LocalServer, data_dir: Path, month: str) -> None:
    """Every live source's files at ``<server>/<source><live path>`` as published by ``month``:
    GDELT as its zip and VoteHub's polls as the API's JSON, like the publishers serve them."""
    for source, dataset in live_datasets():
        content = cut_at(source, dataset, (data_dir / dataset.bundled).read_bytes(), month)
        if dataset is SOURCES["approval_votehub"].datasets[0]:
            content = votehub_json(content)
        if dataset.live_path.endswith(".zip"):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(Path(dataset.live_path).stem, content)
            content = buffer.getvalue()
        server.routes[f"/{source.name}{dataset.live_path}"] = content
