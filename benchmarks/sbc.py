"""Simulation-based calibration of the transition parameters at the real panel's number of
regime switches (models/calibration.py): rank uniformity and contraction per parameter.

The drivers are the stored panel's, as the newest healthy fit's config builds them, and the
number of switches is that fit's most likely (smoothed) regime path's; ``--switches`` sets
another. Without a warehouse the bundled panel is used and ``--switches`` is required. The
last line is one JSON object: per parameter the chi-square p-value of uniform ranks and the
mean contraction (1 - posterior / prior variance: 0 = nothing learned).

    .venv/bin/python benchmarks/sbc.py [--replications 200] [--draws 99] [--bins 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from flows import settings
from models import runtime

runtime.configure()
from flows.warehouse import connect  # noqa: E402
from models.calibration import calibrate, switches  # noqa: E402
from models.config import ModelConfig, from_yaml  # noqa: E402
from models.data import STATES  # noqa: E402
from models.drivers import model_data  # noqa: E402


def stored_fit(db: Path):
    """The newest healthy fit's config, stored panel and most likely regime path."""
    with connect(db, read_only=True) as con:
        found = con.sql(
            "SELECT run_id, config_json FROM model_runs WHERE healthy AND purpose = 'fit' "
            "ORDER BY created_at DESC LIMIT 1"
        ).fetchall()
        if not found:
            return None
        run_id, config_json = found[0]
        panel = con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
        path = con.execute(
            "SELECT arg_max(pathway, smoothed) FROM regime_probabilities WHERE run_id = ? "
            "GROUP BY month ORDER BY month",
            [run_id],
        ).fetchall()
    states = [STATES.index(state) for (state,) in path]
    return run_id, ModelConfig.model_validate_json(config_json), panel, states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--draws", type=int, default=99, help="posterior draws kept per fit")
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument("--switches", type=int, help="default: the newest healthy fit's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", type=Path, default=settings.warehouse_path())
    args = parser.parse_args()

    found = stored_fit(args.db) if args.db.is_file() else None
    run_id, fitted_switches = None, None
    if found is not None:
        run_id, config, panel, states = found
        fitted_switches = switches(np.array(states))
    elif args.switches is None:
        sys.exit(f"error: no healthy fit in {args.db}; give --switches N")
    else:
        from benchmarks.sampler import bundled_panel

        config, panel = from_yaml(settings.model_config_path()), bundled_panel()
    n_switches = args.switches if args.switches is not None else fitted_switches
    start = dt.date.fromisoformat(f"{config.start}-01")
    data, _ = model_data(
        panel, config.series, config.drivers, start, None, config.composites, tuple(config.counts)
    )
    started = time.perf_counter()
    result = calibrate(
        config, data.drivers, data.driver_names, n_switches, args.replications, args.draws,
        args.seed,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    p_values = result.uniformity(args.bins)
    print(
        json.dumps(
            {
                "benchmark": "sbc_transitions",
                "model_run_id": run_id,
                "months": int(data.drivers.shape[0]),
                "switches": n_switches,
                "switches_of_the_fit": fitted_switches,
                "replications": args.replications,
                "draws": args.draws,
                "bins": args.bins,
                "prior_draws_per_replication": float(result.tries.mean()),
                "seconds": round(seconds, 1),
                "min_p_value": round(float(p_values.min()), 4),
                "parameters": {
                    name: {"p_value": round(float(p), 4), "contraction": round(float(c), 3)}
                    for name, p, c in zip(result.names, p_values, result.contraction, strict=True)
                },
            }
        )
    )


if __name__ == "__main__":
    main()
