"""How fast :func:`flows.sources.gdelt.parse_export` reads a full-size GDELT export.

A day of GDELT 2.0 is about 100 files of a few thousand rows, and a backfill reads years of
them, so the parser's speed on the whole file (before the USA–CHN filter throws almost all of
it away) is what matters. Run ``python -m benchmarks.gdelt_parse`` for one JSON line.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from pathlib import Path

from flows.sources.gdelt import parse_export

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "data/jaimelavie_gdelt-analysis/DERIVED_20180508_partial.export.CSV"
)


def build_export(rows: int, path: Path) -> Path:
    """Write a ``rows``-line export made by cycling the real fixture's lines.

    Every field is the fixture's, except GLOBALEVENTID, rewritten to the line number so ids
    stay unique: repeated ids would send every copy after the first to the duplicate-key
    rejects and time the error path instead of the normal one.
    """
    tails = [line.split(b"\t", 1)[1] for line in FIXTURE.read_bytes().splitlines()]
    with path.open("wb") as out:
        for start in range(0, rows, len(tails)):
            count = min(len(tails), rows - start)
            out.write(b"".join(b"%d\t%s\n" % (start + k + 1, tails[k]) for k in range(count)))
    return path


def measure(rows: int = 1_000_000, workdir: Path | None = None) -> dict[str, float | int]:
    """Parse a ``rows``-line export three times and report the best wall-clock time."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = build_export(rows, Path(tmp) / "replicated.export.CSV")
        content = path.read_bytes()
    seconds = min(_time_parse(content, path.name) for _ in range(3))
    baseline = _time_csv_module(content)
    return {
        "gdelt_rows": rows,
        "gdelt_parse_seconds": seconds,
        "gdelt_rows_per_s": rows / seconds,
        "gdelt_csv_module_seconds": round(baseline, 3),
        "gdelt_speedup_vs_csv_module": round(baseline / seconds, 1),
    }


def _time_csv_module(content: bytes) -> float:
    """The straightforward baseline: Python's csv module, filtering the dyad row by row."""
    start = time.perf_counter()
    kept = 0
    lines = content.decode().splitlines()
    for cells in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        if {cells[7], cells[17]} == {"USA", "CHN"}:
            kept += 1
    return time.perf_counter() - start


def _time_parse(content: bytes, name: str) -> float:
    start = time.perf_counter()
    parsed = parse_export(content, name)
    seconds = time.perf_counter() - start
    if parsed.rejects.height:  # a benchmark of the reject path would mislead
        raise RuntimeError(f"{name}: {parsed.rejects.height} rows rejected")
    return seconds


if __name__ == "__main__":
    print(json.dumps(measure()))
