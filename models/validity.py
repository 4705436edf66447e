"""Is a fit's most likely pathway the essay's pathway? The validity gate beside sampler health.

A fit can pass every sampler check (R-hat, ESS, divergences) and still call the months by the
wrong names: its states are only labelled DC, SE and MC. Two measures say whether the names
mean what the essay means:

- agreement with the operational classification (``data/pathways.yaml``): the share of the
  months the rules classify where the model's most likely pathway is the rules' pathway; a
  fit below :data:`MIN_RULE_AGREEMENT` fails;
- agreement with the timeline's noisy labels, against the *constant classifier*: always
  answering the most common label already scores that label's share, so a path that agrees
  less often than that has learnt nothing the label counts did not already say; it fails.

A failing fit is still published (the numbers may still be useful), with the failure stated
first. Pure: frames and arrays in, a dataclass out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from models.data import STATES
from models.pathway_rules import agreement, constant_agreement

# Below this share of the classifiable months, the state names do not mean the essay's pathways.
MIN_RULE_AGREEMENT = 0.70


@dataclass(frozen=True)
class Validity:
    rules_version: int
    rule_agreement: float  # NaN when no month is classifiable
    rule_months: int
    rule_constant: float
    label_agreement: float
    label_months: int
    label_constant: float
    label_modal: str | None
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    def record(self) -> dict:
        """The ``model_runs`` columns of migration 020 (NaN stored as null)."""

        def value(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {
            "rules_version": self.rules_version,
            "rule_agreement": value(self.rule_agreement),
            "rule_months": self.rule_months,
            "rule_constant": value(self.rule_constant),
            "label_agreement": value(self.label_agreement),
            "label_months": self.label_months,
            "label_constant": value(self.label_constant),
            "label_modal": self.label_modal,
            "valid": self.valid,
            "validity_problems": "; ".join(self.problems),
        }


def most_likely_path(months: np.ndarray, smoothed: np.ndarray) -> pl.DataFrame:
    """``month``/``pathway``: the state of highest smoothed probability in each month."""
    as_dates = np.asarray(months).astype("datetime64[M]").astype("datetime64[D]").tolist()
    codes = [STATES[int(k)] for k in np.asarray(smoothed).argmax(axis=1)]
    return pl.DataFrame(
        {"month": as_dates, "pathway": codes},
        schema={
            "month": pl.Date,
            "pathway": pl.String,
        },
    )


def assess(
    path: pl.DataFrame, classification: pl.DataFrame, labels: pl.DataFrame, rules_version: int
) -> Validity:
    """Both agreements of ``path`` (the model's most likely pathway per month) and the gate.

    Only the months of ``path`` count (the fit's window), for the rules, the labels and both
    constant classifiers alike.
    """
    window = path.select("month")
    rules = classification.join(window, on="month")
    labelled = labels.join(window, on="month")
    rule_share, rule_n = agreement(path, rules)
    rule_constant, _, _ = constant_agreement(rules)
    label_share, label_n = agreement(path, labelled)
    label_constant, modal, _ = constant_agreement(labelled)
    problems = []
    if rule_n == 0:
        problems.append("no month of the fit window is classifiable by the pathway rules")
    elif rule_share < MIN_RULE_AGREEMENT:
        problems.append(
            f"the most likely path agrees with the pathway rules in {rule_share:.0%} of "
            f"{rule_n} classifiable months (below {MIN_RULE_AGREEMENT:.0%})"
        )
    if label_n and label_share < label_constant:
        problems.append(
            f"the most likely path agrees with the timeline labels in {label_share:.0%} of "
            f"{label_n} labelled months, less than always answering {modal} "
            f"({label_constant:.0%})"
        )
    return Validity(
        rules_version=rules_version,
        rule_agreement=rule_share,
        rule_months=rule_n,
        rule_constant=rule_constant,
        label_agreement=label_share,
        label_months=label_n,
        label_constant=label_constant,
        label_modal=modal,
        problems=tuple(problems),
    )
