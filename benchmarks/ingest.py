"""Ingest speed: the bundled ingest, GDELT raw-export parsing on ≥ 1M rows, GDELT backfill.

Prints one JSON object as its last line. Timings are measured, never asserted: compare the
ratios inside one run (Prefect flow vs the same work as plain function calls; winset's GDELT
parser vs Python's csv module on the same file; a backfill that downloads vs one that reads
the same files from its cache) rather than absolute seconds across machines.

The backfill is served by a real HTTP server on 127.0.0.1 (the tests' server): the bundled
export's real rows cycled (ids renumbered so none repeats) into 15-minute zip files of a
realistic size, listed with their true md5s.

    .venv/bin/python benchmarks/ingest.py [--gdelt-rows 1000000] [--backfill-files 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import gdelt_parse
from flows import settings
from flows.fetch import sha256
from flows.sources import SOURCES
from flows.warehouse import Batch, connect, write_ingest
from tests import gdelt_mirror
from tests.local_http import LocalServer


def plain_ingest(db: Path, data_dir: Path) -> float:
    """The same parse + write as the flow, as plain calls: the floor Prefect adds to."""
    start = time.perf_counter()
    batches = []
    for source in SOURCES.values():
        for d in source.datasets:
            content = (data_dir / d.bundled).read_bytes()
            batches.append(
                Batch(source, d.name, d.bundled, sha256(content), d.parse(content, d.bundled))
            )
    with connect(db) as con:
        write_ingest(con, batches, run_id="bench", mode="bench", started_at=dt.datetime.now(dt.UTC))
    return time.perf_counter() - start


def flow_ingest(workdir: Path) -> dict[str, float]:
    """Cold process: the first flow run pays for Prefect's temporary server; the second does not."""
    from flows.ingest import ingest

    start = time.perf_counter()
    ingest(db_path=workdir / "first.duckdb")
    first = time.perf_counter() - start
    start = time.perf_counter()
    ingest(db_path=workdir / "second.duckdb")
    second = time.perf_counter() - start
    return {"flow_first_run_s": first, "flow_warm_server_s": second}


def gdelt_backfill(workdir: Path, n_files: int, rows_per_file: int, workers: int) -> dict:
    """Backfill ``n_files`` export files from a local server, then again from the cache into
    a new warehouse: files/s and rows/s (every row read, not only the USA–CHN ones kept)."""
    from flows.gdelt_backfill import gdelt_backfill as backfill
    from flows.ingest import LiveOptions

    path = gdelt_parse.build_export(n_files * rows_per_file, workdir / "rows.export.CSV")
    files = gdelt_mirror.split_into_files(path.read_bytes().splitlines(), n_files)
    result: dict[str, float | int] = {"backfill_files": n_files, "backfill_workers": workers}
    with LocalServer().running() as server:
        live = LiveOptions(base_urls={"gdelt": gdelt_mirror.serve(server, files)})
        for label, db in (("download", "backfill.duckdb"), ("cache", "from_cache.duckdb")):
            start = time.perf_counter()
            summary = backfill(
                db_path=workdir / db, since="2018-05", until="2018-05", workers=workers,
                cache_dir=workdir / "cache", live=live,
            )  # fmt: skip
            seconds = time.perf_counter() - start
            assert summary.files == n_files, summary.describe()
            result[f"backfill_{label}_s"] = round(seconds, 3)
            result[f"backfill_{label}_files_per_s"] = round(n_files / seconds, 1)
            result[f"backfill_{label}_rows_per_s"] = round(n_files * rows_per_file / seconds)
        result["backfill_events_kept"] = summary.inserted
    result["backfill_rows"] = n_files * rows_per_file
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gdelt-rows", type=int, default=1_000_000)
    parser.add_argument("--backfill-files", type=int, default=300)
    parser.add_argument("--backfill-rows-per-file", type=int, default=1_500)
    parser.add_argument("--backfill-workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        plain = plain_ingest(workdir / "plain.duckdb", settings.data_dir())
        flows = flow_ingest(workdir)
        parse = gdelt_parse.measure(args.gdelt_rows, workdir)
        backfill = gdelt_backfill(
            workdir, args.backfill_files, args.backfill_rows_per_file, args.backfill_workers
        )
    result = {
        "bundled_ingest_plain_s": round(plain, 3),
        "bundled_ingest_flow_s": round(flows["flow_warm_server_s"], 3),
        "bundled_ingest_flow_cold_s": round(flows["flow_first_run_s"], 3),
        "prefect_overhead_ratio": round(flows["flow_warm_server_s"] / plain, 2),
        **parse,
        **backfill,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
