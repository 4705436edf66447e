"""How fast the command line answers: Prefect's start-up cost against the work itself.

Each figure is a fresh process, as a user runs it, in its own temporary state folder:

- ``first_flow_s``: the first flow command on a new Prefect home (``winset ingest --source
  cpi`` with an empty ``var/``): Prefect's database is created and migrated;
- ``warm_ingest_s``: the same one-file ingest again (the home exists);
- ``status_s``, ``help_s``: commands with nothing to orchestrate (no Prefect at all);
- ``plain_ingest_s``: the same one-file ingest as plain function calls in a new process (parse
  and write, no Prefect): the floor the flow adds to.

Wall seconds are noisy on a shared machine, so CPU seconds (user + system, including the
Prefect server child) are printed beside them, and the ratio ``warm_ingest_over_plain`` is
taken within this run. Prints one JSON line.

    .venv/bin/python benchmarks/cli.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINSET = str(Path(sys.executable).with_name("winset"))

PLAIN_INGEST = """
import datetime as dt
from flows import settings
from flows.fetch import sha256
from flows.sources import get_source
from flows.warehouse import Batch, connect, write_ingest
source = get_source("cpi")
batches = []
for d in source.datasets:
    content = (settings.data_dir() / d.bundled).read_bytes()
    batches.append(Batch(source, d.name, d.bundled, sha256(content), d.parse(content, d.bundled)))
with connect(settings.warehouse_path()) as con:
    write_ingest(con, batches, run_id="bench", mode="bench", started_at=dt.datetime.now(dt.UTC))
"""


def timed(args: list[str], var_dir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one command, CPU counting every process it waited for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WINSET_"))}
    env["WINSET_VAR_DIR"] = str(var_dir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Runs per figure (median).")
    args = parser.parse_args()
    ingest_cpi = [WINSET, "ingest", "--source", "cpi"]
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="winset-bench-cli-") as folder:
            var_dir = Path(folder)
            runs.setdefault("first_flow", []).append(timed(ingest_cpi, var_dir))
            runs.setdefault("warm_ingest", []).append(timed(ingest_cpi, var_dir))
            runs.setdefault("status", []).append(timed([WINSET, "status"], var_dir))
            runs.setdefault("help", []).append(timed([WINSET, "--help"], var_dir))
            plain = [sys.executable, "-c", PLAIN_INGEST]
            runs.setdefault("plain_ingest", []).append(timed(plain, var_dir))
    result: dict[str, float | int] = {"repeat": args.repeat, "cores": os.cpu_count() or 0}
    for name, pairs in runs.items():
        result[f"{name}_s"] = round(statistics.median(w for w, _ in pairs), 2)
        result[f"{name}_cpu_s"] = round(statistics.median(c for _, c in pairs), 2)
    result["warm_ingest_over_plain"] = round(result["warm_ingest_s"] / result["plain_ingest_s"], 2)
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
