"""The report's track record: what winset said, what happened, and how it scored.

Content (:class:`TrackRecord`), the two calibration charts as inline SVG, and the rows the
templates print. Kept apart from ``reports.content`` because it has its own small contract:
the flows summarise the ledger (``models.track_record``) and pass frames in; nothing here
reads a warehouse. Every text a user could have written (a question's words) is escaped by
the templates or by :func:`reports.charts.svg.esc`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from reports.charts.svg import (
    GRID,
    MUTED,
    PATHWAY_STYLES,
    Linear,
    figure,
    marker,
    n,
    segment,
    text,
    x_axis,
    y_axis,
)
from reports.content import ContentError
from reports.fmt import pct

FORECASTER_NAMES = {
    "model": "winset",
    "no_drivers": "winset without drivers",
    "random_walk": "random walk",
    "climatology": "climatology",
}
METRIC_NAMES = {
    ("quantity", "crps"): "Observed series: CRPS",
    ("quantity", "log_score"): "Observed series: log score",
    ("question", "brier"): "Questions: Brier score",
    ("question", "log_score"): "Questions: log score",
}
QUESTION_COLUMNS = (
    "run_id", "origin", "question_id", "text", "target_month", "threshold", "op",
    "model", "random_walk", "climatology", "observed", "outcome",
)  # fmt: skip


@dataclass(frozen=True)
class TrackRecord:
    """The ledger as a report shows it.

    - ``scores``: kind (quantity | question), metric, forecaster, n, mean (lower is better;
      entries every forecaster scored);
    - ``reliability``: bin, mean_forecast, observed, n (winset's resolved questions);
    - ``pit_counts``: winset's resolved quantities per PIT decile;
    - ``questions``: one row per resolved question and forecast run: run_id, origin,
      question_id, text, target_month, threshold, op, model (winset's P(YES), null when it
      does not forecast the series), random_walk, climatology, observed, outcome;
    - ``recorded``: forecasts in the ledger; ``open``: entries not yet resolved;
    - ``revisions``: series, target_month, resolved_value, revised_value (outcomes revised
      after they were scored; the scores stand).
    """

    scores: pl.DataFrame
    reliability: pl.DataFrame
    pit_counts: tuple[int, ...]
    questions: pl.DataFrame
    recorded: int
    open: int
    revisions: pl.DataFrame

    def __post_init__(self) -> None:
        for name, frame, columns in (
            ("scores", self.scores, ("kind", "metric", "forecaster", "n", "mean")),
            ("reliability", self.reliability, ("mean_forecast", "observed", "n")),
            ("questions", self.questions, QUESTION_COLUMNS),
            ("revisions", self.revisions, ("series", "target_month", "revised_value")),
        ):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ContentError(f"track_record.{name}: missing columns {missing}")

    @property
    def resolved(self) -> int:
        return int(self.scores["n"].max() or 0) if self.scores.height else 0


def score_tables(record: TrackRecord) -> list[tuple[str, list[tuple[str, int, float]]]]:
    """(metric title, [(forecaster, n, mean score)]) best first, per kind and metric."""
    out = []
    for (kind, metric), title in METRIC_NAMES.items():
        part = record.scores.filter((pl.col("kind") == kind) & (pl.col("metric") == metric))
        if part.height:
            rows = [
                (FORECASTER_NAMES.get(f, f), int(k), float(m))
                for f, k, m in part.sort("mean").select("forecaster", "n", "mean").rows()
            ]
            out.append((title, rows))
    return out


def question_rows(record: TrackRecord) -> list[dict]:
    """Resolved questions, newest target first, with what each forecaster said."""
    return list(
        record.questions.sort("target_month", "question_id", descending=[True, False]).iter_rows(
            named=True
        )
    )


def reliability_chart(record: TrackRecord, chart_id: str, size: float = 300) -> str:
    """Forecast probability (x) against the share that resolved YES (y), one marker per bin
    sized by its count, with the diagonal a calibrated forecaster would sit on."""
    left, top, plot = 48.0, 28.0, size - 84
    sx, sy = Linear(0, 1, left, left + plot), Linear(0, 1, top + plot, top)
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    body = [
        y_axis(sy, ticks, left, left + plot, pct),
        x_axis(sx, [(t, pct(t)) for t in ticks], top, top + plot),
        segment(sx(0), sy(0), sx(1), sy(1), MUTED, 1.0),
    ]
    style = PATHWAY_STYLES["MC"]
    for row in record.reliability.iter_rows(named=True):
        r = 3.0 + min(row["n"], 20) * 0.4
        body.append(marker(style.marker, sx(row["mean_forecast"]), sy(row["observed"]),
                           style.color, r=r))  # fmt: skip
    body.append(text(left + plot / 2, size - 6, "winset's probability of YES", anchor="middle"))
    body.append(text(left - 40, 12, "share resolved YES", fill=MUTED))
    label = "Reliability of winset's resolved questions: forecast probability against outcome"
    return figure(chart_id, size, size, label, "".join(body))


def pit_chart(record: TrackRecord, chart_id: str, width: float = 360, height: float = 220) -> str:
    """Histogram of winset's PIT values in deciles, with the flat line of calibration."""
    left, top, plot_w, plot_h = 40.0, 12.0, width - 56, height - 52
    counts = list(record.pit_counts)
    peak = max([*counts, 1])
    sx, sy = Linear(0, 1, left, left + plot_w), Linear(0, peak, top + plot_h, top)
    body = [x_axis(sx, [(t, f"{t:g}") for t in (0, 0.5, 1)], top, top + plot_h)]
    for i, c in enumerate(counts):
        x0, x1 = sx(i / len(counts)), sx((i + 1) / len(counts))
        body.append(
            f'<rect x="{n(x0 + 1)}" y="{n(sy(c))}" width="{n(x1 - x0 - 2)}" '
            f'height="{n(sy(0) - sy(c))}" fill="{PATHWAY_STYLES["SE"].color}"/>'
        )
    flat = sum(counts) / len(counts)
    body.append(segment(sx(0), sy(flat), sx(1), sy(flat), GRID, 1.5))
    body.append(text(left + plot_w / 2, height - 6, "PIT (where the outcome fell)", "middle"))
    label = "PIT histogram of winset's resolved predictive distributions"
    return figure(chart_id, width, height, label, "".join(body))
