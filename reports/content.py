"""The input contract of the reports: everything a report shows, as frozen values.

Why a contract of plain values and polars frames: ``reports`` is pure rendering. The flows
gather numbers from the warehouse, the posterior and the simulation; the renderers only turn
them into HTML and Markdown, so they can be tested with small hand-made frames and never
touch disk, network, Prefect or DuckDB. Each frame's required columns are checked here, so a
flow that passes a wrong frame fails with the frame and the missing columns named, not with a
``ColumnNotFoundError`` deep inside a template.

Conventions:

- pathways are ``DC`` (decoupling), ``SE`` (selective engagement), ``MC`` (managed
  competition); probabilities are in [0, 1];
- ``q05`` / ``q95`` bound the 90% posterior (epistemic) interval, as in
  :class:`models.simulation_result.SimulationResult`;
- months are ``datetime.date`` values on the first of the month.

Optional fields (``None`` or empty) make their report section disappear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import polars as pl

if TYPE_CHECKING:
    from reports.track_record import TrackRecord

PATHWAYS: tuple[str, ...] = ("DC", "SE", "MC")
PATHWAY_NAMES: Mapping[str, str] = {
    "DC": "Decoupling",
    "SE": "Selective engagement",
    "MC": "Managed competition",
}
DRIVER_NAMES: Mapping[str, str] = {
    "W_US": "US win-set (W_US)",
    "W_CN": "China win-set (W_CN)",
    "W_US_x_W_CN": "Win-set overlap (W_US_x_W_CN)",
    "INTL": "International tension (INTL)",
}
_SUMMARY = ("mean", "q05", "q95")


def driver_name(driver: str) -> str:
    """Display name of a driver; unknown drivers keep their column name."""
    return DRIVER_NAMES.get(driver, driver)


class ContentError(ValueError):
    """Report content that breaks the contract; the message names the field and columns."""


def _require(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ContentError(f"{name}: missing columns {missing} (has {frame.columns})")
    for column in ("month", "date"):
        if column in columns and frame.schema[column] != pl.Date:
            raise ContentError(f"{name}.{column}: expected dates, got {frame.schema[column]}")


@dataclass(frozen=True)
class Estimate:
    """A probability with its 90% posterior interval (``q05`` <= ``mean`` <= ``q95`` roughly)."""

    mean: float
    q05: float
    q95: float


@dataclass(frozen=True)
class RunInfo:
    """Identity and health of one forecast run.

    ``created_at`` is timezone-aware (it prints as UTC and orders the runs index);
    ``data_through`` is the last observed month; ``horizon`` the month the headline describes
    (January 2029). ``fit_mode`` is ``"fast"`` for short test/sweep fits, which reports label
    as not for publication. ``problems`` are the health gate's reasons when ``healthy`` is
    false (see :meth:`models.diagnostics.Diagnostics.problems`).
    """

    run_id: str
    created_at: dt.datetime
    data_through: dt.date
    horizon: dt.date
    model_run_id: str
    config_hash: str
    fit_mode: Literal["publication", "fast"]
    healthy: bool
    problems: tuple[str, ...] = ()
    # The validity gate (models/validity.py): None when the fit was never measured; a run that
    # fails it is still published, with ``validity_problems`` stated first.
    valid: bool | None = None
    validity_problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.fit_mode not in ("publication", "fast"):
            raise ContentError(f"run.fit_mode: expected publication or fast, got {self.fit_mode}")


@dataclass(frozen=True)
class Headline:
    """One scenario's pathway probabilities at the horizon and P(ever decoupling)."""

    scenario: str
    pathways: Mapping[str, Estimate]  # keys exactly PATHWAYS
    ever_dc: Estimate  # P(in DC in at least one month up to the horizon)

    def __post_init__(self) -> None:
        if tuple(sorted(self.pathways)) != tuple(sorted(PATHWAYS)):
            raise ContentError(f"headline.pathways: need {PATHWAYS}, got {list(self.pathways)}")

    @classmethod
    def from_horizon(cls, horizon: pl.DataFrame, scenario: str) -> Headline:
        """Build from a ``scenario_horizon`` frame (``SimulationResult`` horizon + scenario)."""
        _require(horizon, "scenario_horizon", ("scenario", "measure", "pathway", *_SUMMARY))
        rows = horizon.filter(pl.col("scenario") == scenario)

        def pick(measure: str, pathway: str) -> Estimate:
            hit = rows.filter((pl.col("measure") == measure) & (pl.col("pathway") == pathway))
            if hit.height != 1:
                raise ContentError(f"scenario_horizon: no single {measure}/{pathway} row")
            return Estimate(*(float(hit[c][0]) for c in _SUMMARY))

        return cls(
            scenario=scenario,
            pathways={p: pick("pathway_at_horizon", p) for p in PATHWAYS},
            ever_dc=pick("ever_DC", "DC"),
        )


@dataclass(frozen=True)
class Previous:
    """The last healthy run before this one, for "what moved".

    ``driver_last`` holds each driver block's last value in that run's history (the same
    standardised units as ``ReportData.drivers_history``), keyed by driver name.
    """

    run: RunInfo
    headline: Headline
    driver_last: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StaleSource:
    """A source whose last live refresh failed: its last good rows are what the run used.

    ``since`` is its last successful refresh (None: never refreshed from its publisher, so
    the data are the bundle's); ``failed_at`` the latest failed attempt and ``error`` why.
    ``key`` marks a source the headline leans on (see ``flows.refresh``).
    """

    source: str
    kind: str
    since: dt.datetime | None
    failed_at: dt.datetime
    error: str
    key: bool = False


@dataclass(frozen=True)
class Staleness:
    """Which sources a run's data are stale for, and whether that stops it becoming latest.

    ``too_stale`` is the reason in words when too many live sources, or a key source, are
    stale (the run is published but never replaces ``latest``); None otherwise.
    """

    sources: tuple[StaleSource, ...] = ()
    too_stale: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """The newest many-origin evaluation on observables (``winset backtest --monthly``).

    ``headline`` is :func:`models.evaluation.headline`'s sentence; ``skill``: model,
    reference, target, lead, metric, origins, mean_diff, lower, upper, skill (differences
    ``model - reference``, below 0 favours the model; 90% Diebold–Mariano intervals);
    ``coverage``: model, lead, n, cover50, cover90; ``pit``: model, lead, bin, share.
    """

    headline: str
    origins: int
    first_origin: dt.date
    last_origin: dt.date
    skill: pl.DataFrame
    coverage: pl.DataFrame
    pit: pl.DataFrame

    def __post_init__(self) -> None:
        _require(
            self.skill,
            "evaluation skill",
            ("model", "reference", "target", "lead", "metric", "mean_diff", "lower", "upper"),
        )
        _require(self.coverage, "evaluation coverage", ("model", "lead", "n", "cover50", "cover90"))
        _require(self.pit, "evaluation pit", ("model", "lead", "bin", "share"))


@dataclass(frozen=True)
class Sweep:
    """A parameter sweep run against one fitted posterior.

    ``frame`` has one row per grid point and pathway: the ``parameters`` columns (the grid
    point, in display order), then ``pathway``, ``mean``, ``q05``, ``q95`` (the pathway's
    probability at the horizon). ``pathway`` picks the one the chart shows; ``description``
    says in words what was swept. ``refits`` counts the fast refits behind prior-axis points
    (0: every point shares the report's posterior), ``unhealthy_refits`` those that failed
    the health gate.
    """

    frame: pl.DataFrame
    parameters: tuple[str, ...]
    description: str = ""
    pathway: str = "DC"
    refits: int = 0
    unhealthy_refits: int = 0

    def __post_init__(self) -> None:
        if not self.parameters:
            raise ContentError("sweep.parameters: name at least one grid parameter")
        _require(self.frame, "sweep.frame", (*self.parameters, "pathway", *_SUMMARY))
        if self.pathway not in PATHWAYS:
            raise ContentError(f"sweep.pathway: expected one of {PATHWAYS}, got {self.pathway}")


@dataclass(frozen=True)
class PathwayCheck:
    """The historical months by the essay's rules (``data/pathways.yaml``) beside the fit.

    ``months``: month, rules (the rules' pathway or null), rule (the rule that fired,
    ``quiet`` or ``unclassifiable``), evidence, model (the fit's most likely pathway), label
    (the timeline's label or null), p_mc (smoothed P(MC)); one row per month of the fit.
    ``events``: date, event, rules, model, p_mc, label, restrictions: the timeline's summits
    and agreements of the second term, with the rules' pathway, the model, the timeline's label
    and the new restrictions of the same month (null when none), which explain a summit month
    that does not read as managed competition.
    Shares are None when no month could be compared.
    """

    months: pl.DataFrame
    events: pl.DataFrame
    rules_version: int
    rule_agreement: float | None
    rule_months: int
    rule_constant: float | None
    label_agreement: float | None
    label_months: int
    label_constant: float | None
    label_modal: str | None
    min_rule_agreement: float

    def __post_init__(self) -> None:
        _require(
            self.months,
            "pathway_check.months",
            ("month", "rules", "rule", "evidence", "model", "label", "p_mc"),
        )
        _require(
            self.events,
            "pathway_check.events",
            ("date", "event", "rules", "model", "p_mc", "label", "restrictions"),
        )


@dataclass(frozen=True)
class PriorSpread:
    """How far P(DC at the horizon) moves across a prior sweep of the report's fit.

    ``prior_determined`` when the range is wider than ``threshold`` (probability units): the
    headline then says the priors, not the data, set it.
    """

    sweep_id: str
    horizon: dt.date
    low: float
    high: float
    threshold: float
    prior_determined: bool
    refits: int = 0  # the refits behind the range
    invalid_refits: int = 0  # of them, those whose states are not the essay's pathways
    valid_low: float | None = None  # the range over the healthy refits that are also valid
    valid_high: float | None = None


@dataclass(frozen=True)
class ReportData:
    """Everything one run's report shows. Frames and their columns:

    - ``monthly``: scenario, month, pathway, mean, q05, q50, q95 (fan charts; per month of the
      forecast, ``SimulationResult.to_frames()["monthly"]`` plus a scenario column);
    - ``scenarios``: name, title, description (from ``data/scenarios/*.yaml``, in display
      order);
    - ``scenario_horizon``: scenario, measure, pathway, mean, q05, q95 (the ``horizon``
      frame plus a scenario column); the reports use the measures ``pathway_at_horizon`` and
      ``ever_DC`` and ignore others such as ``share_of_months``;
    - ``drivers_history``: month plus one column per driver (standardised composites:
      ``W_US``, ``W_CN``, ``W_US_x_W_CN``, ``INTL``);
    - ``regimes``: month, DC, SE, MC (smoothed historical state probabilities);
    - ``events``: date, event, category, pathway_signal (the curated timeline);
    - ``effects``: one row per driver effect, the columns of
      ``models.effects.prior_posterior`` (its ``parameter == "beta"`` rows): term (the
      driver), dest (SE or MC), prior (text, e.g. ``Normal(mu=0.3, sigma=0.3)``),
      prior_mean, prior_sd, post_mean, hdi_lower, hdi_upper (``effect_interval`` mass),
      shift (posterior minus prior mean, in prior SDs), contraction (1 - posterior/prior
      variance), overlap (of the two densities, 0..1), prior_dominated (bool);
    - ``coverage``: column, first, last, months_observed (the monthly panel);
    - ``driver_flags`` (optional): driver, observed, partial, carried_forward, longest_carry,
      before_first_observation, beyond_carry_limit, last_status, last_since (how each
      driver's months were filled, ``models.drivers.flag_summary``);
    - ``prior_only`` (optional): scenario, measure, pathway, mean, q05, q95 (the same
      simulation as ``scenario_horizon`` with the transition parameters drawn from their
      priors; same measures);
    - ``freshness``: source, rows, last_date, last_ingest (the warehouse status);
    - ``driver_paths`` (optional): scenario, month, driver, mean, q05, q95 (simulated drivers);
    - ``attribution`` (optional): scenario, part, pathway, mean, q05, q95: each scenario's
      change from the baseline in P(pathway at the horizon), split into one part per driver
      (``W_US``, ...), the ``interaction`` remainder and the ``total`` (as
      :meth:`models.attribution.Attribution.to_frame`, plus a scenario column);
    - ``backtest`` (optional): model, horizon (months ahead), metric, score, low, high;
    - ``backtest_verdicts`` (optional): metric, reference (``persistence`` or
      ``no_drivers``), better, worse, unclear (lists of horizons: the driver model against the
      reference, from ``models.backtest.skill_verdicts``);
    - ``evaluation`` (optional): the newest many-origin evaluation on observables.

    Plain values: ``diagnostics`` is ``Diagnostics.as_dict()`` (nested dicts are flattened
    for display); ``assumptions`` are sentences stating what the model assumes;
    ``driver_notes`` say in words what each driver measures; ``staleness`` lists the sources
    whose last live refresh failed (a notice at the top); ``driver_inputs`` maps each panel
    column that enters a driver to that driver; ``origin_lag_limit`` is how many months a
    driver may be carried, or a driver's input lag, at the forecast origin before the report
    flags it (the model carries a component that long: ``models.drivers.CARRY_MONTHS``).
    """

    run: RunInfo
    headline: Headline
    monthly: pl.DataFrame
    scenarios: pl.DataFrame
    scenario_horizon: pl.DataFrame
    drivers_history: pl.DataFrame
    regimes: pl.DataFrame
    events: pl.DataFrame
    effects: pl.DataFrame
    diagnostics: Mapping[str, object]
    coverage: pl.DataFrame
    freshness: pl.DataFrame
    assumptions: tuple[str, ...]
    driver_notes: Mapping[str, str] = field(default_factory=dict)
    driver_flags: pl.DataFrame | None = None
    prior_only: pl.DataFrame | None = None
    driver_paths: pl.DataFrame | None = None
    attribution: pl.DataFrame | None = None
    previous: Previous | None = None
    sweep: Sweep | None = None
    pathway_check: PathwayCheck | None = None
    prior_spread: PriorSpread | None = None
    backtest: pl.DataFrame | None = None
    backtest_verdicts: pl.DataFrame | None = None
    evaluation: Evaluation | None = None
    track_record: TrackRecord | None = None  # the resolution ledger (reports.track_record)
    effect_interval: float = 0.94
    staleness: Staleness = field(default_factory=Staleness)
    driver_inputs: Mapping[str, str] = field(default_factory=dict)
    origin_lag_limit: int = 3

    def __post_init__(self) -> None:
        checks: dict[str, tuple[pl.DataFrame | None, tuple[str, ...]]] = {
            "monthly": (self.monthly, ("scenario", "month", "pathway", *_SUMMARY, "q50")),
            "scenarios": (self.scenarios, ("name", "title", "description")),
            "scenario_horizon": (
                self.scenario_horizon,
                ("scenario", "measure", "pathway", *_SUMMARY),
            ),
            "drivers_history": (self.drivers_history, ("month",)),
            "regimes": (self.regimes, ("month", *PATHWAYS)),
            "events": (self.events, ("date", "event", "category", "pathway_signal")),
            "effects": (self.effects, EFFECT_COLUMNS),
            "coverage": (self.coverage, ("column", "first", "last", "months_observed")),
            "driver_flags": (self.driver_flags, FLAG_SUMMARY_COLUMNS),
            "prior_only": (self.prior_only, ("scenario", "measure", "pathway", *_SUMMARY)),
            "freshness": (self.freshness, ("source", "rows", "last_date", "last_ingest")),
            "driver_paths": (self.driver_paths, ("scenario", "month", "driver", *_SUMMARY)),
            "attribution": (self.attribution, ("scenario", "part", "pathway", *_SUMMARY)),
            "backtest": (self.backtest, ("model", "horizon", "metric", "score", "low", "high")),
            "backtest_verdicts": (
                self.backtest_verdicts,
                ("metric", "reference", "better", "worse", "unclear"),
            ),
        }
        for name, (frame, columns) in checks.items():
            if frame is not None:
                _require(frame, name, columns)
        if self.headline.scenario not in self.monthly["scenario"].to_list():
            raise ContentError(f"monthly: no rows for headline scenario {self.headline.scenario}")
        if not 0 < self.effect_interval < 1:
            raise ContentError(f"effect_interval: expected (0, 1), got {self.effect_interval}")

    @property
    def drivers(self) -> tuple[str, ...]:
        """Driver names in ``drivers_history`` column order."""
        return tuple(c for c in self.drivers_history.columns if c != "month")


FLAG_SUMMARY_COLUMNS: tuple[str, ...] = (
    "driver",
    "observed",
    "partial",
    "carried_forward",
    "longest_carry",
    "before_first_observation",
    "beyond_carry_limit",
    "last_status",
    "last_since",
)
EFFECT_COLUMNS: tuple[str, ...] = (
    "term",
    "dest",
    "prior",
    "prior_mean",
    "prior_sd",
    "post_mean",
    "hdi_lower",
    "hdi_upper",
    "shift",
    "contraction",
    "overlap",
    "prior_dominated",
)


@dataclass(frozen=True)
class RunEntry:
    """One row of the runs index: a run, the relative link to its report, its headline."""

    run: RunInfo
    href: str
    headline: Headline | None = None

    def __post_init__(self) -> None:
        # The index must stay offline: a link is a relative path, never a URL with a scheme.
        parts = urlsplit(self.href)
        if parts.scheme or parts.netloc or not self.href:
            raise ContentError(f"index href must be a relative path, got {self.href!r}")
