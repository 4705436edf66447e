"""The track record: resolved ledger entries summarised for a report.

Why these three views: cumulative mean scores beside the reference forecasters say whether
winset has been better than knowing nothing new (the random walk, climatology) or than its own
fit without drivers; the calibration views say whether its probabilities mean what they say
(of the questions given 70%, about 70% should resolve YES: a reliability table) and whether
its predictive distributions are as wide as the outcomes warrant (the PIT of calibrated
forecasts is uniform: a histogram piled at the edges means too narrow, in the middle too
wide). With few resolutions all three are noisy; the counts are always shown.

Pure polars/numpy over the ``ledger_resolutions`` rows (see flows/migrations/018).
"""

from __future__ import annotations

import numpy as np
import polars as pl

METRICS = {"quantity": ("crps", "log_score"), "question": ("brier", "log_score")}
N_BINS = 10


def cumulative_scores(resolutions: pl.DataFrame) -> pl.DataFrame:
    """Per kind, metric and forecaster: resolved entries and their mean score (lower is
    better). Only entries every forecaster scored are compared, so a forecaster is never
    flattered by skipping the hard ones (the model answers questions only on its series)."""
    schema = {"kind": pl.String, "metric": pl.String, "forecaster": pl.String,
              "n": pl.UInt32, "mean": pl.Float64}  # fmt: skip
    frames = [pl.DataFrame(schema=schema)]
    key = ["run_id", "item", "horizon"]
    for kind, metrics in METRICS.items():
        part = resolutions.filter(pl.col("kind") == kind)
        for metric in metrics:
            scored = part.filter(pl.col(metric).is_not_null())
            forecasters = scored["forecaster"].n_unique()
            counts = scored.group_by(key).agg(pl.len().alias("n"))
            common = counts.filter(pl.col("n") == forecasters)
            table = (
                scored.join(common.select(key), on=key)
                .group_by("forecaster")
                .agg(pl.len().alias("n"), pl.col(metric).cast(pl.Float64).mean().alias("mean"))
                .with_columns(kind=pl.lit(kind), metric=pl.lit(metric))
            )
            frames.append(table.select(list(schema)).cast(schema))
    return pl.concat(frames).sort("kind", "metric", "mean")


def reliability(resolutions: pl.DataFrame, forecaster: str = "model") -> pl.DataFrame:
    """Resolved questions of one forecaster in ten equal bins of the forecast probability:
    the mean forecast, the share that resolved YES, and the count (empty bins left out)."""
    part = resolutions.filter(
        (pl.col("kind") == "question")
        & (pl.col("forecaster") == forecaster)
        & pl.col("forecast").is_not_null()
    )
    binned = part.with_columns(
        bin=pl.min_horizontal((pl.col("forecast") * N_BINS).floor().cast(pl.Int64), N_BINS - 1)
    )
    return (
        binned.group_by("bin")
        .agg(
            pl.col("forecast").mean().alias("mean_forecast"),
            pl.col("outcome").cast(pl.Float64).mean().alias("observed"),
            pl.len().alias("n"),
        )
        .sort("bin")
    )


def pit_histogram(resolutions: pl.DataFrame, forecaster: str = "model") -> np.ndarray:
    """Counts of one forecaster's resolved quantities' PIT values in ten equal bins."""
    pit = (
        resolutions.filter((pl.col("kind") == "quantity") & (pl.col("forecaster") == forecaster))[
            "pit"
        ]
        .drop_nulls()
        .to_numpy()
    )
    bins = np.minimum((pit * N_BINS).astype(int), N_BINS - 1)
    return np.bincount(bins, minlength=N_BINS)
