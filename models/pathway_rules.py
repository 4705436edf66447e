"""The essay's three pathways as operational rules over the monthly panel, independent of the HMM.

Why: the model's states are named DC, SE and MC, but a name is not a meaning. The rules in
``data/pathways.yaml`` say, beside the essay's own words, which observable months count as
decoupling, selective engagement or managed competition, so a reader can check any month by
hand and the fitted model can be judged by how often its most likely pathway agrees.

What the YAML decides and what the code decides: the YAML holds the window, the thresholds,
the panel columns behind each input, which inputs are required, the precedence of the rules
and the prose. The code holds the four conditions themselves (:data:`RULE_PATHWAY`), so a
rule's pathway cannot be changed by a typo; the YAML must declare each rule under the pathway
the code gives it, and validation says so when it does not.

Pure: Polars frames in, a Polars frame out; no Prefect, no DuckDB.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, ValidationError, model_validator

from models.data import STATES
from models.strict import StrictModel, field_errors, read_yaml

DEFAULT_RULES_PATH = Path(__file__).resolve().parent.parent / "data" / "pathways.yaml"

# Each rule's pathway, fixed in code (see the module docstring).
RULE_PATHWAY: dict[str, str] = {
    "restriction_with_engagement": "SE",
    "escalation": "DC",
    "dialogue": "MC",
    "issue_cooperation": "SE",
}
# The inputs the conditions read; the YAML maps each to panel columns.
INPUT_NAMES = (
    "restrictive_events",
    "dialogue_events",
    "cooperation_events",
    "leader_meetings",
    "tariff_change",
    "pla_aircraft",
)
UNCLASSIFIABLE = "unclassifiable"
QUIET = "quiet"
PLA_BASE_MONTHS = 3  # a surge is measured against the mean of this many months before


class PathwayRulesError(ValueError):
    """A pathway-rules file that cannot be used; the message names the file and the field."""


class InputSpec(StrictModel):
    columns: tuple[str, ...] = Field(min_length=1)
    required: bool
    why: str = Field(min_length=1)


class Thresholds(StrictModel):
    tariff_rise_pts: float = Field(gt=0)
    pla_surge_ratio: float = Field(gt=1)
    pla_surge_min_per_day: float = Field(ge=0)


class PathwaySpec(StrictModel):
    name: str = Field(min_length=1)
    essay: str = Field(min_length=1)
    rules: dict[str, str] = Field(min_length=1)


class PathwayRules(StrictModel):
    """A validated ``data/pathways.yaml``."""

    version: int = Field(ge=1)
    window_months: int = Field(ge=1, le=12)
    thresholds: Thresholds
    inputs: dict[str, InputSpec]
    precedence: tuple[str, ...]
    pathways: dict[Literal["DC", "SE", "MC"], PathwaySpec]

    @model_validator(mode="after")
    def _consistent(self) -> PathwayRules:
        missing = [n for n in INPUT_NAMES if n not in self.inputs]
        if missing:
            raise ValueError(f"inputs: {missing[0]} is missing (need {', '.join(INPUT_NAMES)})")
        extra = [n for n in self.inputs if n not in INPUT_NAMES]
        if extra:
            raise ValueError(f"inputs.{extra[0]}: unknown input (have {', '.join(INPUT_NAMES)})")
        if sorted(self.precedence) != sorted(RULE_PATHWAY):
            raise ValueError(f"precedence: must list each rule once: {', '.join(RULE_PATHWAY)}")
        absent = [s for s in STATES if s not in self.pathways]
        if absent:
            raise ValueError(f"pathways: {absent[0]} is missing")
        declared: dict[str, str] = {}
        for state, spec in self.pathways.items():
            for rule in spec.rules:
                if RULE_PATHWAY.get(rule) != state:
                    where = RULE_PATHWAY.get(rule, "no pathway (unknown rule)")
                    raise ValueError(f"pathways.{state}.rules.{rule}: the rule belongs to {where}")
                declared[rule] = state
        undeclared = [r for r in RULE_PATHWAY if r not in declared]
        if undeclared:
            rule = undeclared[0]
            raise ValueError(f"pathways.{RULE_PATHWAY[rule]}.rules: {rule} is not described")
        return self

    def columns(self) -> tuple[str, ...]:
        """Every panel column the rules read."""
        return tuple(c for spec in self.inputs.values() for c in spec.columns)


def load_rules(path: Path = DEFAULT_RULES_PATH) -> PathwayRules:
    """Read and validate a rules file; any problem is one line naming the file and field."""
    raw = read_yaml(path, PathwayRulesError)
    try:
        return PathwayRules.model_validate(raw)
    except ValidationError as exc:
        raise PathwayRulesError(f"{path}: {field_errors(exc)[0]}") from None


# ------------------------------------------------------------------ classification


def _input_values(panel: pl.DataFrame, rules: PathwayRules) -> dict[str, np.ndarray]:
    """Each input per month: the sum of its columns, NaN when any of them is null."""
    missing = [c for c in rules.columns() if c not in panel.columns]
    if missing:
        raise PathwayRulesError(f"pathway rules: the panel has no column {missing[0]!r}")
    values = {}
    for name, spec in rules.inputs.items():
        summed = panel.select(
            pl.sum_horizontal(pl.col(c).cast(pl.Float64) for c in spec.columns).alias("v"),
            pl.any_horizontal(pl.col(c).is_null() for c in spec.columns).alias("gap"),
        )
        values[name] = np.where(summed["gap"].to_numpy(), np.nan, summed["v"].to_numpy())
    return values


def _pla_surge(aircraft: np.ndarray, rules: PathwayRules) -> np.ndarray:
    """1.0 where the month is a surge, 0.0 where it is not, NaN where it cannot be judged."""
    base = np.full(aircraft.shape, np.nan)
    for t in range(PLA_BASE_MONTHS, aircraft.size):
        base[t] = aircraft[t - PLA_BASE_MONTHS : t].mean()  # NaN if any month is missing
    limit = rules.thresholds
    surge = (aircraft >= limit.pla_surge_ratio * base) & (aircraft >= limit.pla_surge_min_per_day)
    return np.where(np.isfinite(aircraft) & np.isfinite(base), surge.astype(float), np.nan)


def _month_rules(v: dict[str, np.ndarray], surge: np.ndarray, rules: PathwayRules) -> dict:
    """Per month, whether each rule's condition holds (missing optional inputs count as no)."""
    rise = np.nan_to_num(v["tariff_change"], nan=-np.inf) >= rules.thresholds.tariff_rise_pts
    restrictive = (np.nan_to_num(v["restrictive_events"]) > 0) | rise | (surge == 1.0)
    outcome = np.nan_to_num(v["dialogue_events"]) > 0
    cooperation = np.nan_to_num(v["cooperation_events"]) > 0
    meeting = np.nan_to_num(v["leader_meetings"]) > 0
    return {
        "restriction_with_engagement": restrictive & (outcome | cooperation),
        "escalation": restrictive,
        "dialogue": outcome | meeting,
        "issue_cooperation": cooperation,
    }


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "missing"
    return f"{value:+.1f}" if value != round(value) else f"{int(value)}"


def _evidence(
    t: int,
    months: list[dt.date],
    panel: pl.DataFrame,
    v: dict[str, np.ndarray],
    surge: np.ndarray,
    rules: PathwayRules,
) -> str:
    """The deciding month's inputs, as a reader checks them: ``2018-07: restrictive_events=1
    (events_tariffs=1); tariff_change=+4.5 (rise >= 3); ...``."""
    parts = []
    for name in INPUT_NAMES:
        value = v[name][t]
        text = f"{name}={_fmt(value)}"
        columns = rules.inputs[name].columns
        if len(columns) > 1 and np.isfinite(value) and value > 0:
            row = panel.row(t, named=True)
            text += " (" + ", ".join(f"{c}={row[c]}" for c in columns if row[c]) + ")"
        if name == "tariff_change" and value >= rules.thresholds.tariff_rise_pts:
            text += f" (rise >= {rules.thresholds.tariff_rise_pts:g})"
        if name == "pla_aircraft" and np.isfinite(value):
            text = f"pla_aircraft={value:.1f}/day" + (
                " (surge)" if surge[t] == 1.0 else " (no surge)" if surge[t] == 0.0 else ""
            )
        parts.append(text)
    return f"{months[t]:%Y-%m}: " + "; ".join(parts)


def classify(panel: pl.DataFrame, rules: PathwayRules) -> pl.DataFrame:
    """Every month of ``panel``: ``pathway`` (DC/SE/MC, null when unclassifiable or quiet),
    ``rule`` (the rule that fired, ``unclassifiable`` or ``quiet``), ``decided_by`` (the month
    of the window whose evidence decided) and ``evidence`` (that month's inputs and values, or
    the missing required input)."""
    ordered = panel.sort("month")
    months = ordered["month"].to_list()
    v = _input_values(ordered, rules)
    surge = _pla_surge(v["pla_aircraft"], rules)
    holds = _month_rules(v, surge, rules)
    required = [n for n, spec in rules.inputs.items() if spec.required]
    rows = []
    for t, month in enumerate(months):
        window = range(t, t - rules.window_months, -1)
        gap = next(
            ((n, s) for s in window for n in required if s < 0 or not np.isfinite(v[n][s])),
            None,
        )
        if gap is not None:
            name, s = gap
            when = f"{months[s]:%Y-%m}" if s >= 0 else "before the panel"
            rows.append((month, None, UNCLASSIFIABLE, None, f"{name} missing ({when})"))
            continue
        fired = next(
            ((s, rule) for s in window for rule in rules.precedence if holds[rule][s]), None
        )
        if fired is None:
            rows.append((month, None, QUIET, None, "no evidence in the window"))
            continue
        s, rule = fired
        rows.append(
            (
                month,
                RULE_PATHWAY[rule],
                rule,
                months[s],
                _evidence(s, months, ordered, v, surge, rules),
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "month": pl.Date,
            "pathway": pl.String,
            "rule": pl.String,
            "decided_by": pl.Date,
            "evidence": pl.String,
        },
        orient="row",
    )


# ------------------------------------------------------------------ agreement


def agreement(path_states: pl.DataFrame, classification: pl.DataFrame) -> tuple[float, int]:
    """Share of months where both name a pathway and the names agree, and how many such months.

    ``path_states`` has ``month`` and ``pathway`` (the model's most likely pathway, as a
    state code); ``classification`` is :func:`classify`'s output or any frame with ``month``
    and ``pathway`` (timeline labels). The share is NaN when no month is classifiable.
    """
    both = path_states.select("month", pl.col("pathway").alias("model")).join(
        classification.select("month", pl.col("pathway").alias("rule")), on="month"
    )
    both = both.drop_nulls(["model", "rule"])
    n = both.height
    share = float((both["model"] == both["rule"]).mean()) if n else float("nan")
    return share, n


def constant_agreement(reference: pl.DataFrame) -> tuple[float, str | None, int]:
    """What always answering the reference's most common pathway would score: (share, that
    pathway, months). The bar a model's path must clear before its agreement means anything;
    ties between pathways go to the first in state order, so the result is deterministic."""
    named = reference.drop_nulls("pathway")["pathway"]
    if named.is_empty():
        return float("nan"), None, 0
    counts = {s: int((named == s).sum()) for s in STATES}
    modal = max(STATES, key=lambda s: counts[s])
    return counts[modal] / named.len(), modal, named.len()


def labels_frame(months: np.ndarray, labels: np.ndarray) -> pl.DataFrame:
    """The timeline's month labels (state indices, -1 = none) as ``month``/``pathway``."""
    codes = [STATES[int(k)] if k >= 0 else None for k in labels]
    as_dates = np.asarray(months).astype("datetime64[M]").astype("datetime64[D]").tolist()
    return pl.DataFrame(
        {"month": as_dates, "pathway": codes},
        schema={
            "month": pl.Date,
            "pathway": pl.String,
        },
    )


def counts_by_year(classification: pl.DataFrame) -> pl.DataFrame:
    """Per year: months with a pathway (classifiable), quiet, unclassifiable, and per pathway."""
    return (
        classification.group_by(pl.col("month").dt.year().alias("year"))
        .agg(
            pl.col("pathway").is_not_null().sum().alias("classified"),
            (pl.col("rule") == QUIET).sum().alias("quiet"),
            (pl.col("rule") == UNCLASSIFIABLE).sum().alias(UNCLASSIFIABLE),
            *((pl.col("pathway") == s).sum().alias(s) for s in STATES),
        )
        .sort("year")
    )
