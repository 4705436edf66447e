"""Many-origin evaluation speed, and how far the fast posterior is from NUTS.

Runs the monthly evaluation's per-origin work (``flows.evaluation.evaluate_origin``: two
Laplace fits, observables forecasts of every model, scores) on consecutive monthly origins of
the bundled panel, then fits the publication NUTS posterior at two of them and compares the
answers (``flows.evaluation.nuts_agreement``). Origins per minute is the figure to compare
with the NUTS seconds per fit measured in the same run; the machine's load average is printed
beside them. The last line is one JSON object.

    .venv/bin/python benchmarks/backtest.py [--since 2019-01] [--origins 12] [--nuts 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows import settings
from models import runtime

runtime.configure(settings.cache_dir() / "pytensor")
import numpy as np  # noqa: E402

from flows.backtest import all_origin_inputs  # noqa: E402
from flows.evaluation import (  # noqa: E402
    EvaluationSettings,
    evaluate_origin,
    monthly_origins,
    nuts_agreement,
)
from flows.fit import load_config  # noqa: E402
from flows.panel import build_panel  # noqa: E402
from flows.sources import SOURCES  # noqa: E402


def bundled_raw() -> dict:
    import polars as pl

    tables: dict[str, list] = {}
    for source in SOURCES.values():
        for d in source.datasets:
            rows = d.parse((settings.data_dir() / d.bundled).read_bytes(), d.bundled).rows
            typed = rows.select(pl.col(c).cast(t) for c, t in source.schema.items())
            tables.setdefault(source.table, []).append(typed)
    return {t: pl.concat(f) for t, f in tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", default="2019-01")
    parser.add_argument("--origins", type=int, default=12)
    parser.add_argument("--nuts", type=int, default=2)
    args = parser.parse_args()
    raw = bundled_raw()
    truth = build_panel(raw).frame
    months = monthly_origins(args.since, None, truth["month"].max())[: args.origins]
    inputs = all_origin_inputs(raw, months, load_config(None, fast=True))
    run = EvaluationSettings(draws=80, paths=20)
    pad_to = max(i.data.n_months for i in inputs)
    wall, cpu = time.perf_counter(), time.process_time()
    warm: dict = {}
    first = None
    for i, origin in enumerate(inputs):
        part = evaluate_origin.fn(origin, truth, run, warm, pad_to)
        warm = part["modes"]
        if i == 0:  # the first origin compiles the models: reported apart
            first = time.perf_counter() - wall
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    steady = (len(inputs) - 1) / max(wall - first, 1e-9) * 60
    picks = np.unique(np.linspace(0, len(inputs) - 1, args.nuts).round().astype(int))
    checks = [nuts_agreement(inputs[i], truth, run) for i in picks] if args.nuts else []
    result = {
        "origins": len(inputs),
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "first_origin_seconds": round(first, 1),
        "origins_per_minute": round(len(inputs) / wall * 60, 2),
        "origins_per_minute_after_first": round(steady, 2),
        "nuts": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in c.items()}
            for c in checks
        ],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
