"""Sampler speed on the project's model and the bundled panel: numpyro against PyMC's default.

Both fit the same model (``data/model.yaml``) on the same panel in the same run, so the ratio
of their min bulk ESS per second is what to compare; absolute seconds depend on the machine.
numpyro is timed twice: cold (an empty JAX compilation cache) and warm (the cache filled by
the first fit, as in every scheduled run after the first). The last line is one JSON object.

    .venv/bin/python benchmarks/sampler.py [--draws 1000] [--chains 4] [--skip-pymc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows import settings
from models import runtime

JAX_CACHE = Path(tempfile.mkdtemp(prefix="winset-jax-cold-"))
runtime.configure(settings.cache_dir() / "pytensor", jax_cache_dir=JAX_CACHE)  # cold JAX cache
from flows.panel import build_panel  # noqa: E402
from flows.sources import SOURCES  # noqa: E402
from models.config import ModelConfig, from_yaml  # noqa: E402
from models.drivers import model_data  # noqa: E402
from models.fit import fit  # noqa: E402


def bundled_panel():
    """The panel straight from the bundled files (no warehouse: only the sampler is timed)."""
    import polars as pl

    tables: dict[str, list] = {}
    for source in SOURCES.values():
        for d in source.datasets:
            rows = d.parse((settings.data_dir() / d.bundled).read_bytes(), d.bundled).rows
            typed = rows.select(pl.col(c).cast(t) for c, t in source.schema.items())
            tables.setdefault(source.table, []).append(typed)
    return build_panel({t: pl.concat(f) for t, f in tables.items()}).frame


def timed_fit(data, config: ModelConfig, backend: str) -> dict[str, float]:
    sampler = config.sampler.model_copy(update={"backend": backend})
    result = fit(data, config.model_copy(update={"sampler": sampler}))
    d = result.diagnostics
    return {
        "seconds": round(result.wall_seconds, 2),
        "min_ess_bulk": round(float(d.min_ess_bulk), 1),
        "min_ess_bulk_per_s": round(float(d.min_ess_bulk) / result.wall_seconds, 3),
        "max_rhat": round(d.max_rhat, 4),
        "divergences": d.divergences,
        "healthy": d.healthy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--skip-pymc", action="store_true", help="numpyro only (faster)")
    args = parser.parse_args()
    config = from_yaml(settings.model_config_path())
    sampler = config.sampler.model_copy(
        update={"draws": args.draws, "tune": args.draws, "chains": args.chains}
    )
    config = config.model_copy(update={"sampler": sampler})
    start = dt.date.fromisoformat(f"{config.start}-01")
    data, _ = model_data(
        bundled_panel(), config.series, config.drivers, start, None, config.composites
    )
    result: dict[str, object] = {"months": data.n_months, "chains": args.chains,
                                 "draws": args.draws}  # fmt: skip
    result["numpyro_cold"] = timed_fit(data, config, "numpyro")
    result["numpyro_warm"] = timed_fit(data, config, "numpyro")
    if not args.skip_pymc:
        result["pymc_default"] = timed_fit(data, config, "pymc")
        warm = result["numpyro_warm"]["min_ess_bulk_per_s"]
        result["ess_per_s_ratio_numpyro_vs_pymc"] = round(
            warm / max(result["pymc_default"]["min_ess_bulk_per_s"], 1e-9), 2
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
