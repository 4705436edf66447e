"""From :class:`ReportData` to the rows the templates print, shared by HTML and Markdown.

Why a view layer: templates should loop and format, not filter frames; and the HTML and the
Markdown summary must agree on which numbers they show (a scenario table built twice could
drift). Values stay raw here; templates format them with the filters of :mod:`reports.fmt`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from reports import fmt
from reports.content import (
    PATHWAY_NAMES,
    PATHWAYS,
    Estimate,
    Evaluation,
    PathwayCheck,
    ReportData,
    RunEntry,
    Sweep,
    driver_name,
)


@dataclass(frozen=True)
class ScenarioRow:
    name: str
    title: str
    description: str
    pathways: Mapping[str, Estimate]
    ever_dc: Estimate | None
    is_headline: bool


@dataclass(frozen=True)
class PriorComparison:
    """One quantity of one scenario from the posterior and from the prior alone."""

    label: str
    posterior: Estimate
    prior: Estimate

    @property
    def delta(self) -> float:
        return self.posterior.mean - self.prior.mean


@dataclass(frozen=True)
class PriorRow:
    title: str
    quantities: list[PriorComparison]
    is_headline: bool


@dataclass(frozen=True)
class Change:
    """One line of "what moved": a label, the previous and current value, and the change."""

    label: str
    before: float
    after: float
    kind: str  # "probability" (percent, change in pp) or "driver" (SD units)

    @property
    def delta(self) -> float:
        return self.after - self.before


def scenario_title(data: ReportData, name: str) -> str:
    """The scenario's title from ``data.scenarios``; its name when it has none."""
    hit = data.scenarios.filter(pl.col("name") == name)
    return str(hit["title"][0]) if hit.height else name


def _estimate(frame: pl.DataFrame) -> Estimate | None:
    if frame.height != 1:
        return None
    row = frame.row(0, named=True)
    return Estimate(row["mean"], row["q05"], row["q95"])


def scenario_rows(data: ReportData) -> list[ScenarioRow]:
    """One row per scenario in ``data.scenarios`` order, with its horizon probabilities."""
    rows = []
    h = data.scenario_horizon
    for name, title, description in data.scenarios.select("name", "title", "description").rows():
        own = h.filter(pl.col("scenario") == name)
        at = own.filter(pl.col("measure") == "pathway_at_horizon")
        pathways = {p: e for p in PATHWAYS if (e := _estimate(at.filter(pl.col("pathway") == p)))}
        ever = _estimate(own.filter(pl.col("measure") == "ever_DC"))
        rows.append(
            ScenarioRow(name, title, description, pathways, ever, name == data.headline.scenario)
        )
    return rows


@dataclass(frozen=True)
class AttributionRow:
    """One line of "which driver moved it": a part of a scenario's move from the baseline."""

    scenario: str  # title
    label: str  # the driver's display name, "Interaction (remainder)" or "Total move"
    changes: Mapping[str, Estimate]  # per pathway, in probability (scenario minus baseline)
    first: bool  # the scenario's first line (where its title is printed)
    is_total: bool


ATTRIBUTION_LABELS: Mapping[str, str] = {
    "interaction": "Drivers together (remainder)",
    "total": "Total move from the baseline",
}


def attribution_rows(data: ReportData) -> list[AttributionRow]:
    """Per scenario (``data.scenarios`` order) the parts of its move: drivers in stored order,
    then the interaction remainder, then the total."""
    frame = data.attribution
    if frame is None:
        return []
    rows = []
    for name in data.scenarios["name"]:
        own = frame.filter(pl.col("scenario") == name)
        parts = own["part"].unique(maintain_order=True).to_list()
        ordered = [p for p in parts if p not in ATTRIBUTION_LABELS]
        ordered += [p for p in ATTRIBUTION_LABELS if p in parts]
        for i, part in enumerate(ordered):
            hits = own.filter(pl.col("part") == part)
            changes = {
                p: e for p in PATHWAYS if (e := _estimate(hits.filter(pl.col("pathway") == p)))
            }
            label = ATTRIBUTION_LABELS.get(part) or driver_name(part)
            rows.append(
                AttributionRow(scenario_title(data, name), label, changes, i == 0, part == "total")
            )
    return rows


def prior_rows(data: ReportData) -> list[PriorRow]:
    """Per scenario (``data.scenarios`` order): each pathway at the horizon and ever-DC, from
    the posterior and from the prior alone; empty without a prior-only forecast."""
    if data.prior_only is None:
        return []
    wanted = [("pathway_at_horizon", p, PATHWAY_NAMES[p]) for p in PATHWAYS]
    wanted.append(("ever_DC", "DC", "ever decoupling"))
    rows = []
    for name, title in data.scenarios.select("name", "title").rows():
        quantities = []
        for measure, pathway, label in wanted:
            pick = (
                (pl.col("scenario") == name)
                & (pl.col("measure") == measure)
                & (pl.col("pathway") == pathway)
            )
            posterior = _estimate(data.scenario_horizon.filter(pick))
            prior = _estimate(data.prior_only.filter(pick))
            if posterior and prior:
                quantities.append(PriorComparison(label, posterior, prior))
        if quantities:
            rows.append(PriorRow(title, quantities, name == data.headline.scenario))
    return rows


def headline_prior(data: ReportData) -> dict[str, Estimate]:
    """The headline scenario's numbers from the prior alone, keyed by pathway and ``ever_DC``,
    so every headline figure is printed beside what the priors alone would say (empty without
    a prior-only forecast)."""
    if data.prior_only is None:
        return {}
    own = data.prior_only.filter(pl.col("scenario") == data.headline.scenario)
    wanted = {p: ("pathway_at_horizon", p) for p in PATHWAYS} | {"ever_DC": ("ever_DC", "DC")}
    out = {}
    for key, (measure, pathway) in wanted.items():
        estimate = _estimate(
            own.filter((pl.col("measure") == measure) & (pl.col("pathway") == pathway))
        )
        if estimate is not None:
            out[key] = estimate
    return out


def driver_last(data: ReportData) -> dict[str, float]:
    """Each driver's last observed value."""
    last = data.drivers_history.sort("month").tail(1)
    return {d: float(last[d][0]) for d in data.drivers}


def changes(data: ReportData) -> list[Change]:
    """What moved since the previous healthy run: headline probabilities, then drivers."""
    prev = data.previous
    if prev is None:
        return []
    horizon = fmt.month(data.run.horizon)
    out = [
        Change(
            f"P({PATHWAY_NAMES[p]}) in {horizon}",
            prev.headline.pathways[p].mean,
            data.headline.pathways[p].mean,
            "probability",
        )
        for p in PATHWAYS
    ]
    before, after = prev.headline.ever_dc.mean, data.headline.ever_dc.mean
    out.append(Change(f"P(ever decoupling) by {horizon}", before, after, "probability"))
    now = driver_last(data)
    for d in data.drivers:
        if d in prev.driver_last:
            out.append(
                Change(f"{driver_name(d)}, last value", prev.driver_last[d], now[d], "driver")
            )
    return out


def numbered_events(events: pl.DataFrame) -> pl.DataFrame:
    """Events in date order, numbered from 1 (the numbers the regime chart prints)."""
    return events.sort("date", "event").with_row_index("n", offset=1)


SIGNAL_PATHWAY: Mapping[str, str] = {
    "decoupling": "DC",
    "selective_engagement": "SE",
    "managed_competition": "MC",
}


@dataclass(frozen=True)
class EventAgreement:
    """Timeline events beside the model's smoothed regimes in the event's month.

    ``rows`` are the numbered events with ``model_probability`` (the smoothed probability of
    the pathway the event signals; None for shocks or months outside the fit) and
    ``model_pathway`` (the most likely pathway that month). The labels were in the likelihood,
    so this is in-sample agreement, shown so readers can see where series and timeline part.
    """

    rows: list[dict[str, Any]]
    agree: int
    signalled: int


def event_agreement(events: pl.DataFrame, regimes: pl.DataFrame) -> EventAgreement:
    month = regimes.select(
        pl.col("month").cast(pl.Date).dt.truncate("1mo").alias("_month"), *PATHWAYS
    )
    joined = numbered_events(events).with_columns(
        _month=pl.col("date").cast(pl.Date).dt.truncate("1mo")
    )
    joined = joined.join(month, on="_month", how="left").sort("n")
    rows, agree, signalled = [], 0, 0
    for row in joined.iter_rows(named=True):
        probs = {p: row.pop(p) for p in PATHWAYS}
        row.pop("_month")
        code = SIGNAL_PATHWAY.get(row["pathway_signal"] or "")
        known = probs["DC"] is not None
        row["model_pathway"] = max(PATHWAYS, key=lambda p: probs[p]) if known else None
        row["model_probability"] = probs[code] if code and known else None
        if row["model_probability"] is not None:
            signalled += 1
            agree += row["model_pathway"] == code
        rows.append(row)
    return EventAgreement(rows, agree, signalled)


def disagreements(check: PathwayCheck | None) -> list[dict[str, Any]]:
    """The classified months where the model's most likely pathway is not the rules' one,
    with the rule that fired and its evidence, so a reader can check each by hand."""
    if check is None:
        return []
    months = check.months.filter(
        pl.col("rules").is_not_null() & pl.col("model").is_not_null()
        & (pl.col("rules") != pl.col("model"))
    )  # fmt: skip
    return list(months.sort("month").iter_rows(named=True))


def classified_by_year(check: PathwayCheck | None) -> list[dict[str, Any]]:
    """Per year of the fit: months the rules classify, per pathway, and months they cannot
    judge (quiet or unclassifiable), so a reader sees where the agreement comes from."""
    if check is None:
        return []
    years = check.months.group_by(pl.col("month").dt.year().alias("year")).agg(
        pl.col("rules").is_not_null().sum().alias("classified"),
        *((pl.col("rules") == p).sum().alias(p) for p in PATHWAYS),
        (pl.col("rule") == "quiet").sum().alias("quiet"),
        (pl.col("rule") == "unclassifiable").sum().alias("unclassifiable"),
    )
    return list(years.filter(pl.col("classified") > 0).sort("year").iter_rows(named=True))


def flat_diagnostics(values: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested diagnostics as (dotted key, value) pairs, in the dict's own order."""
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out += flat_diagnostics(value, f"{name}.")
        else:
            out.append((name, value))
    return out


@dataclass(frozen=True)
class BacktestTable:
    metric: str
    horizons: list[Any]
    rows: list[tuple[str, list[tuple[float, float, float] | None]]]


def backtest_tables(backtest: pl.DataFrame) -> list[BacktestTable]:
    """One table per metric: models down, forecast horizons across."""
    tables = []
    for metric in dict.fromkeys(backtest["metric"].to_list()):
        part = backtest.filter(pl.col("metric") == metric)
        horizons = sorted(set(part["horizon"].to_list()))
        rows = []
        for model in dict.fromkeys(part["model"].to_list()):
            cells = {
                r["horizon"]: r for r in part.filter(pl.col("model") == model).iter_rows(named=True)
            }
            rows.append(
                (
                    model,
                    [
                        (cells[h]["score"], cells[h]["low"], cells[h]["high"])
                        if h in cells
                        else None
                        for h in horizons
                    ],
                )
            )
        tables.append(BacktestTable(metric, horizons, rows))
    return tables


EVALUATION_MODELS = ("hmm", "hmm_no_drivers")


def evaluation_tables(evaluation: Evaluation) -> list[BacktestTable]:
    """Two tables, leads across: the summed log score of every series against each reference
    (both regime models), and the driver model's CRPS against persistence per series; each
    cell is the mean difference ``model - reference`` and its 90% interval."""
    skill = evaluation.skill
    leads = sorted(set(skill["lead"].to_list()))

    def cells(part: pl.DataFrame) -> list[tuple[float, float, float] | None]:
        by_lead = {r["lead"]: r for r in part.iter_rows(named=True)}
        return [
            (by_lead[h]["mean_diff"], by_lead[h]["lower"], by_lead[h]["upper"])
            if h in by_lead
            else None
            for h in leads
        ]

    summed = skill.filter((pl.col("target") == "all") & (pl.col("metric") == "log_score"))
    log_rows = []
    for model in EVALUATION_MODELS:
        for ref in dict.fromkeys(summed["reference"].to_list()):
            part = summed.filter((pl.col("model") == model) & (pl.col("reference") == ref))
            if part.height and ref not in EVALUATION_MODELS[: EVALUATION_MODELS.index(model)]:
                log_rows.append((f"{model} − {ref}", cells(part)))
    crps = skill.filter(
        (pl.col("model") == "hmm")
        & (pl.col("reference") == "persistence")
        & (pl.col("metric") == "crps")
    )
    crps_rows = [
        (f"{target}: hmm − persistence", cells(crps.filter(pl.col("target") == target)))
        for target in sorted(set(crps["target"].to_list()))
    ]
    return [
        BacktestTable("Log score, all series summed (per month)", leads, log_rows),
        BacktestTable("CRPS per series (the series' units)", leads, crps_rows),
    ]


def sweep_rows(sweep: Sweep) -> list[tuple[list[Any], dict[str, Estimate]]]:
    """One row per grid point: its parameter values and each pathway's estimate."""
    points: dict[tuple, dict[str, Estimate]] = {}
    for row in sweep.frame.iter_rows(named=True):
        key = tuple(row[p] for p in sweep.parameters)
        points.setdefault(key, {})[row["pathway"]] = Estimate(row["mean"], row["q05"], row["q95"])
    return [(list(k), v) for k, v in points.items()]


def index_rows(runs: Sequence[RunEntry]) -> tuple[list[RunEntry], str | None]:
    """Runs newest first, and the run id of the current published one.

    The current run is the newest healthy publication fit: a failed or fast run is listed
    but never replaces it.
    """
    ordered = sorted(runs, key=lambda r: (r.run.created_at, r.run.run_id), reverse=True)
    current = next(
        (r.run.run_id for r in ordered if r.run.healthy and r.run.fit_mode == "publication"),
        None,
    )
    return ordered, current


@dataclass(frozen=True)
class CoverageRow:
    """A panel column's coverage, the driver it enters (if any) and how many months its last
    value lags the forecast origin (``data_through``); ``flagged`` when a driver's input lags
    by more than ``origin_lag_limit`` (the model then leaves it out of the driver at the
    origin). Other columns are not flagged: for event counts the last value is the last event,
    not the last publication."""

    column: str
    first: dt.date | None
    last: dt.date | None
    months_observed: int
    feeds: str | None
    behind: int | None  # None: never observed
    flagged: bool


def months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def coverage_rows(data: ReportData) -> list[CoverageRow]:
    """The coverage table, each column with its driver and its lag behind the forecast origin."""
    origin, limit = data.run.data_through, data.origin_lag_limit
    rows = []
    for c in data.coverage.iter_rows(named=True):
        behind = months_between(c["last"], origin) if c["last"] is not None else None
        feeds = data.driver_inputs.get(c["column"])
        rows.append(
            CoverageRow(
                c["column"], c["first"], c["last"], c["months_observed"], feeds, behind,
                feeds is not None and (behind is None or behind > limit),
            )
        )  # fmt: skip
    return rows


@dataclass(frozen=True)
class CarriedDriver:
    """A driver whose value at the forecast origin is an old one carried forward."""

    driver: str
    months: int  # since its last observation
    last_observed: dt.date
    status: str  # carried_forward, or beyond_carry_limit (then set to the training mean)


def carried_at_origin(data: ReportData) -> list[CarriedDriver]:
    """Drivers not observed for more than ``origin_lag_limit`` months at the forecast origin
    (carried forward, or past the carry limit and set to the training mean): every simulated
    path starts from that stand-in, so the report says so at the top."""
    if data.driver_flags is None:
        return []
    origin, limit = data.run.data_through, data.origin_lag_limit
    out = []
    for f in data.driver_flags.iter_rows(named=True):
        since = f["last_since"]
        if since is not None and since > limit:
            total = origin.year * 12 + origin.month - 1 - since
            last = dt.date(total // 12, total % 12 + 1, 1)
            out.append(CarriedDriver(f["driver"], since, last, f["last_status"]))
    return out
