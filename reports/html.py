"""Render a run's report as ONE self-contained HTML file, and the index of runs.

Why self-contained: analysts open the report offline, mail it, print it; so CSS is inline,
charts are inline SVG, and nothing is fetched (no fonts, scripts, images or stylesheets by
URL). Jinja's autoescape is on for every template here, so any text that came from a file a
user wrote (scenario titles, event descriptions) renders as text, never as markup; the SVG
charts escape their own text and are the only values marked safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from reports import charts, fmt, track_record, view
from reports.content import PATHWAY_NAMES, PATHWAYS, ReportData, RunEntry, driver_name

FILTERS = {
    "pct": fmt.pct,
    "interval": fmt.interval,
    "pp": fmt.pp,
    "pp_interval": fmt.pp_interval,
    "signed": fmt.signed,
    "number": fmt.number,
    "month": fmt.month,
    "month_long": fmt.month_long,
    "timestamp": fmt.timestamp,
    "driver_name": driver_name,
    "pathway_name": PATHWAY_NAMES.__getitem__,
    "horizons": fmt.horizons,
}
DRIVER_WINDOW_YEARS = 3  # history shown before the scenario continuations

_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(FILTERS)


def _charts(data: ReportData) -> dict[str, Markup | list[tuple[str, Markup]] | None]:
    """Every chart of the report, keyed by section; optional ones only when data exist."""
    head = data.headline.scenario
    title = view.scenario_title(data, head)
    monthly = data.monthly
    out: dict[str, Markup | list[tuple[str, Markup]] | None] = {
        "fan": Markup(
            charts.fan_chart(
                monthly.filter(monthly["scenario"] == head),
                "fan-headline",
                f"{title}: probability of each pathway per month with 90% intervals",
            )
        ),
        "history": Markup(
            charts.driver_chart(
                data.drivers_history,
                data.drivers,
                "drivers-history",
                "Driver histories (standardised composites)",
            )
        ),
        "scenarios": Markup(charts.scenario_chart(data.scenario_horizon, data.scenarios, "scen")),
        "regimes": Markup(
            charts.regime_chart(
                data.regimes,
                view.numbered_events(data.events),
                "regimes",
                "Smoothed historical pathway probabilities with the timeline's events",
            )
        ),
        "effects": Markup(charts.effects_chart(data.effects, "effects", data.effect_interval)),
    }
    names = data.scenarios["name"].to_list()
    out["scenario_fans"] = [
        (
            view.scenario_title(data, name),
            Markup(
                charts.fan_chart(
                    monthly.filter(monthly["scenario"] == name),
                    f"fan-{i}",
                    f"{view.scenario_title(data, name)}: pathway probabilities per month",
                    width=480,
                    height=220,
                )
            ),
        )
        for i, name in enumerate(names)
        if name != head and name in set(monthly["scenario"].to_list())
    ]
    if data.driver_paths is not None:
        present = set(data.driver_paths["scenario"].to_list())
        ordered = [head, *(n for n in names if n != head)]
        end = data.run.data_through
        out["paths"] = Markup(
            charts.driver_chart(
                data.drivers_history,
                data.drivers,
                "drivers-paths",
                "Recent driver history and simulated scenario paths",
                paths=data.driver_paths,
                scenarios=[(n, view.scenario_title(data, n)) for n in ordered if n in present],
                since=dt.date(end.year - DRIVER_WINDOW_YEARS, end.month, 1),
            )
        )
    if data.sweep is not None:
        out["sweep"] = Markup(charts.sweep_chart(data.sweep, "sweep"))
    if data.evaluation is not None and data.evaluation.pit.height:
        out["pit"] = Markup(charts.pit_chart(data.evaluation.pit, "evaluation-pit"))
    record = data.track_record
    if record is not None:
        reliable = record.reliability.height > 0
        out["track_reliability"] = (
            Markup(track_record.reliability_chart(record, "reliability")) if reliable else None
        )
        pits = sum(record.pit_counts) > 0
        out["track_pit"] = Markup(track_record.pit_chart(record, "pit")) if pits else None
    if data.pathway_check is not None:
        out["pathway_strip"] = Markup(
            charts.pathway_strip(
                data.pathway_check.months,
                "pathway-strip",
                "Each month by the essay's rules and the model's most likely pathway",
            )
        )
    return out


def render_html(data: ReportData) -> str:
    """The full report for one run (deterministic: same data, same bytes)."""
    return _ENV.get_template("report.html.j2").render(
        d=data,
        pathways=PATHWAYS,
        title=view.scenario_title(data, data.headline.scenario),
        charts=_charts(data),
        scenario_rows=view.scenario_rows(data),
        attribution_rows=view.attribution_rows(data),
        prior_rows=view.prior_rows(data),
        headline_prior=view.headline_prior(data),
        coverage_rows=view.coverage_rows(data),
        carried=view.carried_at_origin(data),
        changes=view.changes(data),
        events=view.event_agreement(data.events, data.regimes),
        diagnostics=view.flat_diagnostics(data.diagnostics),
        backtest=view.backtest_tables(data.backtest) if data.backtest is not None else [],
        verdicts=(
            list(data.backtest_verdicts.iter_rows(named=True))
            if data.backtest_verdicts is not None
            else []
        ),
        sweep_rows=view.sweep_rows(data.sweep) if data.sweep is not None else [],
        evaluation=(view.evaluation_tables(data.evaluation) if data.evaluation is not None else []),
        track_scores=track_record.score_tables(data.track_record) if data.track_record else [],
        track_questions=(
            track_record.question_rows(data.track_record) if data.track_record else []
        ),
        disagreements=view.disagreements(data.pathway_check),
        classified_years=view.classified_by_year(data.pathway_check),
        window_years=DRIVER_WINDOW_YEARS,
    )


def render_index(runs: Sequence[RunEntry], latest: str | None = None) -> str:
    """The list of runs, newest first, marking the current published run: ``latest`` when
    the caller knows it (a run published again becomes current although it is older),
    otherwise the newest healthy publication run."""
    ordered, newest = view.index_rows(runs)
    current = latest or newest
    return _ENV.get_template("index.html.j2").render(
        runs=ordered, current=current, pathways=PATHWAYS
    )
