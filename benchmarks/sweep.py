"""How long a 100-point scenario sweep takes on this machine, and how much memory it holds.

100 grid points (10 x 10 values of two shock sizes) x 100,000 paths each (100 posterior draws
x 1,000 paths per draw) to January 2029, run through the real ``sweep`` flow three times: on
the default pool of 2 threads, on Prefect's process pool with 2 workers, and on one thread
(the single-process reference for the speedup). Every run must store identical numbers (same
sweep id, same seeds); the benchmark checks that.

The fit is REAL but tiny: the bundled data ingested into a temporary warehouse and a 2 x 60
draw fit with a relaxed health gate (as the tests' ``fitted_db``), built before any timing;
``--db PATH`` reuses a warehouse that already has a healthy fit. Prefect runs its temporary
local server (as ``winset`` does), with its home in the temporary folder.

Peak memory is the largest sum of resident set sizes over this process and all its
descendants (process-pool workers and the Prefect server), sampled every 20 ms with psutil.
The machine may be shared, so the 1-minute load average is reported. Run
``python -m benchmarks.sweep``; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
VALUES = [round(0.25 * i, 2) for i in range(10)]  # 10 values per parameter: 100 points


class PeakRSS:
    """Samples the summed RSS of this process tree in a background thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # a worker that just exited
                    continue
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def tiny_fit(folder: Path) -> Path:
    """A warehouse with the bundle ingested and one tiny healthy fit (2 chains x 60 draws)."""
    from flows.fit import fit_model
    from flows.ingest import ingest
    from flows.pipeline import refresh_panel

    raw = yaml.safe_load((ROOT / "data" / "model.yaml").read_text())
    raw["sampler"] = {**raw["sampler"], "chains": 2, "draws": 60, "tune": 60}
    raw["health"] = {"max_rhat": 10.0, "min_ess": 1.0, "max_divergences": 1000, "min_bfmi": 0.0}
    config = folder / "model.yaml"
    config.write_text(yaml.safe_dump(raw))
    db = folder / "bench.duckdb"
    ingest(db_path=db)
    refresh_panel(db)
    if not fit_model(db_path=db, config_path=config).healthy:
        raise SystemExit("the tiny fit failed its (relaxed) health gate")
    return db


def grid_file(folder: Path, n_paths: int, max_draws: int) -> Path:
    shock = {"start": "2026-10", "duration_months": 9, "decay": 0.8, "why": "benchmark shock"}
    grid = {
        "description": "Benchmark: 10 x 10 shock sizes on W_US and INTL.",
        "base_scenario": "baseline",
        "n_paths": n_paths,
        "max_draws": max_draws,
        "seed": 1,
        "max_points": len(VALUES) ** 2,
        "parameters": {
            "us_shock": {"values": VALUES, "shocks": [{"driver": "W_US", "size": -1.0, **shock}]},
            "intl_shock": {"values": VALUES, "shocks": [{"driver": "INTL", "size": 1.0, **shock}]},
        },
    }
    path = folder / "bench_grid.yaml"
    path.write_text(yaml.safe_dump(grid, sort_keys=False))
    return path


def cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (pool workers, not the
    Prefect server, which outlives the runs)."""
    me, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(run: Callable[[], object]) -> dict:
    """Wall and CPU seconds (CPU / wall near 2 means both cores worked), peak RSS, load."""
    load, cpu = os.getloadavg()[0], cpu_seconds()
    with PeakRSS() as rss:
        start = time.perf_counter()
        record = run()
        seconds = time.perf_counter() - start
    return {
        "wall_seconds": seconds,
        "flow_wall_seconds": record.wall_seconds,
        "cpu_seconds": cpu_seconds() - cpu,
        "peak_rss_mb_all_processes": rss.peak / 2**20,
        "load_avg_1min_before": load,
    }


def stored(db: Path, sweep_id: str):
    from flows.warehouse import connect

    with connect(db, read_only=True) as con:
        return con.execute(
            "SELECT point_id, measure, pathway, mean, q05, q50, q95 FROM sweep_results "
            "WHERE sweep_id = ? ORDER BY ALL",
            [sweep_id],
        ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a warehouse with a healthy fit (default: build)")
    parser.add_argument("--paths", type=int, default=1000, help="paths per posterior draw")
    parser.add_argument("--draws", type=int, default=100, help="posterior draws per point")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="winset-sweep-bench-"))
    # Registered before Prefect's server starts, so it runs after the server has stopped.
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ.setdefault("PREFECT_HOME", str(folder / "prefect"))
    os.environ.setdefault("WINSET_VAR_DIR", str(folder / "var"))
    from flows.sweep import sweep

    db = args.db or tiny_fit(folder)
    grid = grid_file(folder, args.paths, args.draws)
    # Untimed warm-up (one point): starts Prefect's server and imports PyMC, which every
    # timed run would otherwise pay differently (only the first).
    sweep(grid, ["us_shock=0", "intl_shock=0"], db_path=db, runner="threads", workers=1)
    runs, results = {}, {}
    for name, options in (
        ("threads_2", {"runner": "threads", "workers": 2}),
        ("processes_2", {"runner": "processes", "workers": 2}),
        ("single_thread", {"runner": "threads", "workers": 1}),
    ):
        holder = {}

        def run(options=options, holder=holder):
            holder["record"] = sweep(grid, db_path=db, **options)
            return holder["record"]

        runs[name] = timed(run)
        results[name] = stored(db, holder["record"].sweep_id)
    record = holder["record"]
    single = runs["single_thread"]["wall_seconds"]
    print(
        json.dumps(
            {
                "points": record.points,
                "draws": record.n_draws,
                "paths_per_draw": record.n_paths,
                "paths_per_point": record.n_draws * record.n_paths,
                "horizon": record.horizon,
                "inputs": "real tiny fit (2 x 60 draws) on the bundled data",
                "runs": runs,
                "speedup_threads_vs_single": single / runs["threads_2"]["wall_seconds"],
                "speedup_processes_vs_single": single / runs["processes_2"]["wall_seconds"],
                "identical_results": all(r == results["single_thread"] for r in results.values()),
                "cpu_count": os.cpu_count(),
                "load_avg_1min_after": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
