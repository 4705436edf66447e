"""Held-out agreement with the timeline's labels: is the publication fit right about months
whose labels it did not see?

Why: the publication model has the labels in its likelihood (``label_emissions``), so the
validity gate's agreement with them is in-sample. Here the labelled months are split by
calendar year; for each year the model is refitted with that year's labels hidden (the month
keeps its counts and series, only its label is removed) and its most likely pathway in those
months is compared with the hidden labels. The bar is the constant classifier of the other
years' labels (always answering their most common pathway), scored on the same hidden
months. Each refit's agreement with the pathway rules is reported too, on all classifiable
months, since the labels also steer which months the rules and the model share.

The panel is the warehouse's (``--db``) or, without one, the bundled files'. The last line is
one JSON object; per fold the hidden months, how many the refit and the constant got right,
the months the refit missed (label, and the pathway it gave instead), and the refit's health.

    .venv/bin/python benchmarks/label_holdout.py [--draws 500] [--tune 500] [--db PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
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
import polars as pl  # noqa: E402

from flows.warehouse import connect  # noqa: E402
from models.config import from_yaml  # noqa: E402
from models.data import NO_LABEL, STATES  # noqa: E402
from models.drivers import model_data  # noqa: E402
from models.fit import fit  # noqa: E402
from models.pathway_rules import agreement, classify, load_rules  # noqa: E402
from models.prepared import fitted_data  # noqa: E402
from models.states import state_probabilities  # noqa: E402
from models.validity import most_likely_path  # noqa: E402


def panel_from(db: Path) -> pl.DataFrame:
    if db.is_file():
        with connect(db, read_only=True) as con:
            return con.sql("SELECT * FROM panel_monthly ORDER BY month").pl()
    from benchmarks.sampler import bundled_panel

    return bundled_panel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, help="draws per chain (default: the config's)")
    parser.add_argument("--tune", type=int, help="tuning steps (default: the config's)")
    parser.add_argument("--db", type=Path, default=settings.warehouse_path())
    args = parser.parse_args()

    config = from_yaml(settings.model_config_path())
    sampler = config.sampler.model_copy(
        update={k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v}
    )
    config = config.model_copy(update={"sampler": sampler})
    panel = panel_from(args.db)
    start = dt.date.fromisoformat(f"{config.start}-01")
    data, _ = model_data(
        panel, config.series, config.drivers, start, None, config.composites, tuple(config.counts)
    )
    data = fitted_data(data, config)
    rules = classify(panel, load_rules(settings.pathway_rules_path()))
    years = data.months.astype("datetime64[Y]").astype(int) + 1970
    labelled = data.labels != NO_LABEL
    folds = []
    started = time.perf_counter()
    for year in sorted(set(years[labelled].tolist())):
        hidden = labelled & (years == year)
        seen = data.labels[labelled & ~hidden]
        modal = int(np.bincount(seen, minlength=len(STATES)).argmax())
        result = fit(
            dataclasses.replace(data, labels=np.where(hidden, NO_LABEL, data.labels)), config
        )
        smoothed = state_probabilities(result.model).mean_smoothed
        path = smoothed.argmax(axis=1)
        rule_share, rule_months = agreement(most_likely_path(data.months, smoothed), rules)
        d = result.diagnostics
        folds.append(
            {
                "year": year,
                "hidden": int(hidden.sum()),
                "model_right": int((path[hidden] == data.labels[hidden]).sum()),
                "constant_right": int((data.labels[hidden] == modal).sum()),
                "constant": STATES[modal],
                "missed": [
                    f"{m} {STATES[data.labels[i]]} as {STATES[path[i]]}"
                    for i, m in enumerate(data.months)
                    if hidden[i] and path[i] != data.labels[i]
                ],
                "rule_agreement": round(rule_share, 3),
                "rule_months": rule_months,
                "max_rhat": round(d.max_rhat, 4),
                "divergences": d.divergences,
                "healthy": d.healthy,
            }
        )
        print(json.dumps(folds[-1]), file=sys.stderr, flush=True)
    hidden = sum(f["hidden"] for f in folds)
    print(
        json.dumps(
            {
                "benchmark": "label_holdout",
                "labelled_months": hidden,
                "folds": len(folds),
                "draws": config.sampler.draws,
                "tune": config.sampler.tune,
                "seconds": round(time.perf_counter() - started, 1),
                "held_out_agreement": round(sum(f["model_right"] for f in folds) / hidden, 3),
                "constant_agreement": round(sum(f["constant_right"] for f in folds) / hidden, 3),
                "min_rule_agreement": min(f["rule_agreement"] for f in folds),
                "all_healthy": all(f["healthy"] for f in folds),
                "per_year": folds,
            }
        )
    )


if __name__ == "__main__":
    main()
