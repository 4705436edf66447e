"""RENDERING FIXTURE for the report tests: hand-made frames with made-up numbers.

Nothing here is a forecast or comes from a fit; the numbers are smooth formulas chosen so the
charts have something to draw (probabilities that sum to one, drivers that wander around 0).
Two fixtures: ``rendering_data`` has only the required sections, ``full_rendering_data``
adds every optional one (driver paths, driver attribution, previous run, sweep, backtest).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import polars as pl
import pytest

from reports.content import (
    Estimate,
    Headline,
    PathwayCheck,
    Previous,
    PriorSpread,
    ReportData,
    RunInfo,
    Sweep,
)

DRIVERS = ("W_US", "W_CN", "W_US_x_W_CN", "INTL")
SCENARIOS = {
    "baseline": ("Baseline (calendar only)", "No shocks beyond the shared calendar."),
    "tariff_escalation": ("Tariff escalation", "Tariffs rise 50 points in 2026."),
    "taiwan_strait_crisis": ("Taiwan Strait crisis", "A blockade drill turns into a crisis."),
    "grand_bargain": ("Grand bargain", "A comprehensive deal in 2026 both leaders can sell."),
}
# Scenario tilt toward decoupling (made up): positive = more DC, negative = more SE/MC.
TILT = {"baseline": 0.0, "tariff_escalation": 0.8, "taiwan_strait_crisis": 1.3, "grand_bargain": -1}


def months(first: dt.date, count: int) -> list[dt.date]:
    return [
        dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1)
        for k in range(count)
    ]


def _softmax(logits: tuple[float, ...]) -> tuple[float, ...]:
    exps = [math.exp(v) for v in logits]
    return tuple(e / sum(exps) for e in exps)


def _monthly() -> pl.DataFrame:
    rows = []
    for scenario, tilt in TILT.items():
        for k, month in enumerate(months(dt.date(2025, 11, 1), 39)):
            grow = k / 38
            dc, se, mc = _softmax((-0.2 + tilt * grow, -1.0 - 0.3 * tilt * grow, 0.3))
            for pathway, p in (("DC", dc), ("SE", se), ("MC", mc)):
                half = 0.04 + 0.18 * grow * math.sqrt(p * (1 - p))
                rows.append(
                    (scenario, month, pathway, p, max(p - half, 0.0), p, min(p + half, 1.0))
                )
    return pl.DataFrame(
        rows, schema=["scenario", "month", "pathway", "mean", "q05", "q50", "q95"], orient="row"
    )


def _horizon(monthly: pl.DataFrame) -> pl.DataFrame:
    last = monthly.filter(pl.col("month") == pl.col("month").max())
    at = last.select(
        "scenario", pl.lit("pathway_at_horizon").alias("measure"), "pathway", "mean", "q05", "q95"
    )
    ever = last.filter(pl.col("pathway") == "DC").select(
        "scenario",
        pl.lit("ever_DC").alias("measure"),
        "pathway",
        (pl.col("mean") * 1.4).clip(0, 0.97).alias("mean"),
        (pl.col("q05") * 1.3).clip(0, 0.95).alias("q05"),
        (pl.col("q95") * 1.4).clip(0, 0.995).alias("q95"),
    )
    return pl.concat([at, ever])


def _history() -> pl.DataFrame:
    ms = months(dt.date(2009, 1, 1), 202)
    w_us = [0.9 * math.sin(k / 14) - 0.004 * k for k in range(len(ms))]
    w_cn = [0.7 * math.cos(k / 19) + 0.2 * math.sin(k / 5) for k in range(len(ms))]
    intl = [-0.6 + 0.012 * k + 0.3 * math.sin(k / 9) for k in range(len(ms))]
    return pl.DataFrame(
        {
            "month": ms,
            "W_US": w_us,
            "W_CN": w_cn,
            "W_US_x_W_CN": [a * b for a, b in zip(w_us, w_cn, strict=True)],
            "INTL": intl,
        }
    )


def _driver_paths(history: pl.DataFrame) -> pl.DataFrame:
    last = history.tail(1).row(0, named=True)
    rows = []
    for scenario, tilt in TILT.items():
        for k, month in enumerate(months(dt.date(2025, 11, 1), 39)):
            for driver in DRIVERS:
                sign = 1 if driver == "INTL" else -1
                mean = last[driver] * 0.95 ** (k + 1) + sign * 0.5 * tilt * min(k / 6, 1)
                spread = 0.3 + 0.04 * k
                rows.append((scenario, month, driver, mean, mean - spread, mean + spread))
    return pl.DataFrame(
        rows, schema=["scenario", "month", "driver", "mean", "q05", "q95"], orient="row"
    )


def _attribution(horizon: pl.DataFrame) -> pl.DataFrame:
    """Each scenario's move from the baseline (from the fixture's horizon frame), split into
    made-up shares per driver; the remainder makes the parts add up to the total."""
    at = horizon.filter(pl.col("measure") == "pathway_at_horizon")
    base = at.filter(pl.col("scenario") == "baseline").select("pathway", base=pl.col("mean"))
    shares = {"W_US": 0.5, "W_CN": 0.3, "INTL": 0.1}
    rows = []
    for scenario, pathway, mean, base_mean in (
        at.join(base, on="pathway").select("scenario", "pathway", "mean", "base").rows()
    ):
        if scenario == "baseline":
            continue
        total = mean - base_mean
        parts = {**{d: s * total for d, s in shares.items()}, "interaction": 0.1 * total}
        for part, value in {**parts, "total": total}.items():
            rows.append((scenario, part, pathway, value, value - 0.02, value + 0.02))
    return pl.DataFrame(
        rows, schema=["scenario", "part", "pathway", "mean", "q05", "q95"], orient="row"
    )


def _regimes() -> pl.DataFrame:
    ms = months(dt.date(2009, 1, 1), 202)
    probs = [_softmax((3.0 * math.tanh((k - 115) / 6), -1.5, 1.0)) for k in range(len(ms))]
    return pl.DataFrame({"month": ms, **{p: [r[i] for r in probs] for i, p in enumerate("DSM")}})


def _effects() -> pl.DataFrame:
    """Shaped like ``models.effects.prior_posterior``'s beta rows (values made up)."""
    rows = []
    for driver in DRIVERS:
        prior_mean = -0.3 if driver == "INTL" else 0.3
        for dest, shift, contraction in (("SE", 0.05, 0.1), ("MC", 1.2, 0.4)):
            post = prior_mean + shift * 0.3
            dominated = contraction < 0.3 and abs(shift) < 0.5
            rows.append(
                {
                    "term": driver,
                    "dest": dest,
                    "prior": f"Normal(mu={prior_mean:g}, sigma=0.3)",
                    "prior_mean": prior_mean,
                    "prior_sd": 0.3,
                    "post_mean": post,
                    "hdi_lower": post - 0.5,
                    "hdi_upper": post + 0.5,
                    "shift": shift,
                    "contraction": contraction,
                    "overlap": 0.95 if dominated else 0.6,
                    "prior_dominated": dominated,
                }
            )
    return pl.DataFrame(rows)


def make_report_data() -> ReportData:
    monthly = _monthly()
    horizon = _horizon(monthly)
    history = _history()
    regimes = _regimes().rename({"D": "DC", "S": "SE", "M": "MC"})
    events = pl.DataFrame(
        {
            "date": [dt.date(2018, 7, 6), dt.date(2019, 12, 13), dt.date(2025, 4, 2)],
            "event": [
                "Section 301 List 1: 25% tariff on 34 bn USD of Chinese imports",
                "Phase One agreement announced",
                "Reciprocal tariffs announced; China retaliates",
            ],
            "category": ["tariffs", "agreement", "tariffs"],
            "pathway_signal": ["decoupling", "managed_competition", "decoupling"],
        }
    )
    return ReportData(
        run=RunInfo(
            run_id="20251126T0143Z-a1b2c3",
            created_at=dt.datetime(2025, 11, 26, 1, 43, tzinfo=dt.UTC),
            data_through=dt.date(2025, 10, 1),
            horizon=dt.date(2029, 1, 1),
            model_run_id="fit-7f3e9d",
            config_hash="9c1d" * 16,
            fit_mode="publication",
            healthy=True,
        ),
        headline=Headline.from_horizon(horizon, "baseline"),
        monthly=monthly,
        scenarios=pl.DataFrame(
            {
                "name": list(SCENARIOS),
                "title": [t for t, _ in SCENARIOS.values()],
                "description": [d for _, d in SCENARIOS.values()],
            }
        ),
        scenario_horizon=horizon,
        drivers_history=history,
        regimes=regimes,
        events=events,
        effects=_effects(),
        diagnostics={
            "max_rhat": 1.004,
            "min_ess_bulk": 812.4,
            "divergences": 0,
            "thresholds": {"max_rhat": 1.01, "min_ess": 400.0},
            "healthy": True,
        },
        coverage=pl.DataFrame(
            {
                "column": ["approval", "us_tariff_pct"],
                "first": [dt.date(2009, 1, 1), dt.date(2018, 1, 1)],
                "last": [dt.date(2025, 1, 1), dt.date(2025, 10, 1)],
                "months_observed": [193, 94],
            }
        ),
        freshness=pl.DataFrame(
            {
                "source": ["fred", "gpr"],
                "rows": [1204, 480],
                "last_date": [dt.date(2025, 9, 1), dt.date(2025, 10, 1)],
                "last_ingest": ["2025-11-26 01:40", "2025-11-26 01:40"],
            }
        ),
        assumptions=(
            "Monthly persistence of a pathway is about 0.9-0.98 (sticky prior).",
            "Wider win-sets push toward managed competition and selective engagement.",
        ),
        driver_notes={"W_US": "Approval, months to the election, inflation, unemployment."},
    )


def make_pathway_check(regimes: pl.DataFrame) -> PathwayCheck:
    """Made-up rules beside the fixture's regimes: the rules name a pathway in two of every
    three months (cycling DC, MC, SE), the labels in every sixth."""
    cycle = ("DC", "MC", "SE")
    probs = regimes.select("DC", "SE", "MC").to_numpy()
    model = [("DC", "SE", "MC")[i] for i in probs.argmax(axis=1)]
    n = regimes.height
    rules = [cycle[k % 3] if k % 3 else None for k in range(n)]
    months = pl.DataFrame(
        {
            "month": regimes["month"],
            "rules": rules,
            "rule": ["escalation" if r else "quiet" for r in rules],
            "evidence": [f"made-up evidence {k}" if rules[k] else "" for k in range(n)],
            "model": model,
            "label": [model[k] if k % 6 == 0 else None for k in range(n)],
            "p_mc": regimes["MC"],
        },
        schema_overrides={"rules": pl.String, "label": pl.String},
    )
    last = regimes["month"][-1]
    events = pl.DataFrame(
        {
            "date": [last.replace(day=12)],
            "event": ["Made-up truce in the last month"],
            "rules": ["MC"],
            "model": [model[-1]],
            "p_mc": [float(regimes["MC"][-1])],
            "label": ["DC"],
            "restrictions": [f"{last.replace(day=3)}: Made-up export control"],
        }
    )
    return PathwayCheck(
        months=months,
        events=events,
        rules_version=1,
        rule_agreement=0.55,
        rule_months=40,
        rule_constant=0.4,
        label_agreement=0.5,
        label_months=12,
        label_constant=0.6,
        label_modal="MC",
        min_rule_agreement=0.7,
    )


def with_optional_sections(data: ReportData) -> ReportData:
    """Every optional section filled: driver paths, the scenarios' driver attribution, a
    previous run, a sweep, a backtest."""
    previous = Previous(
        run=replace(
            data.run,
            run_id="20251027T0140Z-prev",
            created_at=dt.datetime(2025, 10, 27, 1, 40, tzinfo=dt.UTC),
            data_through=dt.date(2025, 9, 1),
        ),
        headline=Headline(
            scenario="baseline",
            pathways={
                "DC": Estimate(0.30, 0.2, 0.4),
                "SE": Estimate(0.20, 0.1, 0.3),
                "MC": Estimate(0.50, 0.4, 0.6),
            },
            ever_dc=Estimate(0.5, 0.4, 0.6),
        ),
        driver_last={"W_US": -0.5, "W_CN": 0.1, "W_US_x_W_CN": -0.05, "INTL": 1.2},
    )
    grid = [(t, c) for t in (0, 25, 50) for c in ("none", "2027")]
    sweep_rows = []
    for t, c in grid:
        dc = 0.2 + t / 150 + (0.15 if c == "2027" else 0)
        for pathway, p in (("DC", dc), ("SE", 0.1), ("MC", 0.9 - dc)):
            sweep_rows.append((t, c, pathway, p, p - 0.05, p + 0.05))
    sweep = Sweep(
        frame=pl.DataFrame(
            sweep_rows,
            schema=["tariff_points", "taiwan_crisis", "pathway", "mean", "q05", "q95"],
            orient="row",
        ),
        parameters=("tariff_points", "taiwan_crisis"),
        description="Tariff rise (points) against the start of a Taiwan crisis.",
    )
    backtest = pl.DataFrame(
        {
            "model": ["hmm", "hmm", "persistence", "persistence"],
            "horizon": [6, 12, 6, 12],
            "metric": ["RPS"] * 4,
            "score": [0.121, 0.183, 0.164, 0.242],
            "low": [0.09, 0.14, 0.12, 0.2],
            "high": [0.15, 0.22, 0.2, 0.29],
        }
    )
    verdicts = pl.DataFrame(
        {
            "metric": ["label rps", "label rps"],
            "reference": ["persistence", "no_drivers"],
            "better": [[6], []],
            "worse": [[], []],
            "unclear": [[12], [6, 12]],
        }
    )
    # prior alone: every made-up probability pulled 40% of the way toward 1/3
    prior_only = data.scenario_horizon.with_columns(
        (pl.col(c) * 0.6 + 0.4 / 3).alias(c) for c in ("mean", "q05", "q95")
    )
    flags = pl.DataFrame(
        {
            "driver": ["W_US", "W_CN", "INTL"],
            "observed": [212, 212, 204],
            "partial": [19, 10, 0],
            "carried_forward": [0, 0, 8],
            "longest_carry": [0, 0, 8],
            "before_first_observation": [0, 0, 0],
            "beyond_carry_limit": [0, 0, 0],
            "last_status": ["observed", "observed", "carried_forward"],
            "last_since": [0, 0, 8],
        }
    )
    return replace(
        data,
        driver_paths=_driver_paths(data.drivers_history),
        attribution=_attribution(data.scenario_horizon),
        previous=previous,
        sweep=sweep,
        backtest=backtest,
        backtest_verdicts=verdicts,
        prior_only=prior_only,
        driver_flags=flags,
        pathway_check=make_pathway_check(data.regimes),
        prior_spread=PriorSpread(
            sweep_id="made-up-sweep",
            horizon=data.run.horizon,
            low=0.21,
            high=0.38,
            threshold=0.10,
            prior_determined=True,
        ),
    )


@pytest.fixture
def rendering_data() -> ReportData:
    """RENDERING FIXTURE (made-up numbers, required sections only)."""
    return make_report_data()


@pytest.fixture
def full_rendering_data() -> ReportData:
    """RENDERING FIXTURE (made-up numbers, every optional section present)."""
    return with_optional_sections(make_report_data())
