"""Ingest speed: the full bundled ingest, and GDELT raw-export parsing on ≥ 1M rows.

Prints one JSON object as its last line. Timings are measured, never asserted: compare the
ratios inside one run (Prefect flow vs the same work as plain function calls; winset's GDELT
parser vs Python's csv module on the same file) rather than absolute seconds across machines.

    .venv/bin/python benchmarks/ingest.py [--gdelt-rows 1000000]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gdelt-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        plain = plain_ingest(workdir / "plain.duckdb", settings.data_dir())
        flows = flow_ingest(workdir)
        parse = gdelt_parse.measure(args.gdelt_rows, workdir)
    result = {
        "bundled_ingest_plain_s": round(plain, 3),
        "bundled_ingest_flow_s": round(flows["flow_warm_server_s"], 3),
        "bundled_ingest_flow_cold_s": round(flows["flow_first_run_s"], 3),
        "prefect_overhead_ratio": round(flows["flow_warm_server_s"] / plain, 2),
        **parse,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
