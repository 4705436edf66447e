"""The operational pathway rules (data/pathways.yaml) on the real bundled panel.

The months checked are found from the timeline's own event rows (by their text), so the test
says "the month of the Geneva joint statement is managed competition", not "2025-05 is MC":
if the data moved the event, the test would follow it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from flows.panel import build_panel
from models.pathway_rules import (
    DEFAULT_RULES_PATH,
    QUIET,
    RULE_PATHWAY,
    UNCLASSIFIABLE,
    PathwayRulesError,
    agreement,
    classify,
    constant_agreement,
    counts_by_year,
    labels_frame,
    load_rules,
)

# The essay the project follows sits beside the repository (DESIGN.md: essay/).
ESSAY_DIR = Path(__file__).resolve().parents[3] / "shared" / "essay"


@pytest.fixture(scope="module")
def panel(bundled_tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return build_panel(bundled_tables).frame


@pytest.fixture(scope="module")
def classified(panel: pl.DataFrame) -> pl.DataFrame:
    return classify(panel, load_rules())


def event_month(tables: dict[str, pl.DataFrame], text: str) -> dt.date:
    """The month of the one timeline event whose description contains ``text``."""
    rows = tables["raw_timeline"].filter(pl.col("event").str.contains(text, literal=True))
    assert rows.height == 1, f"{text!r} names {rows.height} timeline events"
    return rows["date"].item().replace(day=1)


def pathway_in(classified: pl.DataFrame, month: dt.date) -> dict:
    return classified.filter(pl.col("month") == month).row(0, named=True)


def test_the_bundled_rules_validate() -> None:
    rules = load_rules()
    assert rules.version == 1 and set(rules.pathways) == {"DC", "SE", "MC"}
    assert all(spec.rules and spec.essay for spec in rules.pathways.values())


def test_the_quotes_are_the_essays_words() -> None:
    essay = next(iter(sorted(ESSAY_DIR.glob("*.txt"))), None) if ESSAY_DIR.is_dir() else None
    if essay is None:
        pytest.skip(f"the essay is not at {ESSAY_DIR}")
    words = " ".join(essay.read_text(encoding="utf-8").split())
    for state, spec in load_rules().pathways.items():
        assert " ".join(spec.essay.split()).strip('"') in words, state


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("Section 301 List 1: 25% tariff on 34 bn USD", "DC"),  # timeline row 2018-07-06
        ("US reciprocal tariff on China reaches 125%", "DC"),  # row 2025-04-09
        ("G20 Buenos Aires: Trump and Xi agree a 90-day truce", "MC"),  # row 2018-12-01
        ("Phase One agreement signed", "MC"),  # row 2020-01-15
        ("Geneva joint statement", "MC"),  # row 2025-05-12
        ("London talks agree a framework", "MC"),  # row 2025-06-10
        ("Joint Glasgow Declaration", "SE"),  # row 2021-11-10
    ],
)
def test_event_months_classify_as_the_essay_reads_them(
    bundled_tables: dict[str, pl.DataFrame], classified: pl.DataFrame, event: str, expected: str
) -> None:
    month = event_month(bundled_tables, event)
    row = pathway_in(classified, month)
    assert row["pathway"] == expected, row
    assert row["decided_by"] == month  # the month's own evidence decided, not an earlier one
    assert row["evidence"].startswith(f"{month:%Y-%m}: ")


def test_escalation_outranks_earlier_dialogue_in_the_window(
    bundled_tables: dict[str, pl.DataFrame], classified: pl.DataFrame, panel: pl.DataFrame
) -> None:
    # 2018-07: a secretary's visit in the window (2018-06) does not offset List 1.
    month = event_month(bundled_tables, "Section 301 List 1")
    earlier = panel.filter(
        (pl.col("month") < month) & (pl.col("month") >= month - dt.timedelta(days=62))
    )
    assert earlier["us_china_meetings"].sum() >= 1  # the data has the visit
    row = pathway_in(classified, month)
    assert row["rule"] == "escalation"
    assert "events_tariffs=1" in row["evidence"]


def test_months_before_the_timeline_are_unclassifiable(
    bundled_tables: dict[str, pl.DataFrame], classified: pl.DataFrame
) -> None:
    first_event = bundled_tables["raw_timeline"]["date"].min().replace(day=1)
    before = classified.filter(pl.col("month") < first_event)
    assert before.height > 0
    assert before["pathway"].null_count() == before.height
    assert set(before["rule"]) == {UNCLASSIFIABLE}
    assert before["evidence"].str.contains("missing").all()
    # the window reaches back: the first event month itself lacks the two months before it
    assert pathway_in(classified, first_event)["rule"] == UNCLASSIFIABLE


def test_a_quiet_window_names_no_pathway(classified: pl.DataFrame) -> None:
    quiet = classified.filter(pl.col("rule") == QUIET)
    assert quiet.height > 0 and quiet["pathway"].null_count() == quiet.height


def test_synthetic_month_with_a_missing_optional_input_still_classifies() -> None:
    """Synthetic panel (the point is the missing-value rule): a meeting count that is null
    counts as no meeting and is named missing; a null timeline count makes it unclassifiable."""
    months = [dt.date(2030, m, 1) for m in range(1, 5)]
    zeros = [0, 0, 0, 0]
    frame = pl.DataFrame(
        {
            "month": months,
            "events_tariffs": [0, 0, 1, None],
            "events_export_controls": zeros,
            "events_security": zeros,
            "events_summit": zeros,
            "events_agreement": zeros,
            "events_climate_health": zeros,
            "us_china_meetings": [None, None, None, None],
            "us_tariff_change_observed_pts": [None, None, None, None],
            "pla_aircraft_per_day": [None, None, None, None],
        },
        schema_overrides={"us_china_meetings": pl.Int64},
    )
    out = classify(frame, load_rules())
    assert out["rule"].to_list() == [UNCLASSIFIABLE, UNCLASSIFIABLE, "escalation", UNCLASSIFIABLE]
    assert "leader_meetings=missing" in out["evidence"][2]
    assert out["evidence"][3] == "restrictive_events missing (2030-04)"


def test_agreement_counts_only_months_both_name() -> None:
    months = [dt.date(2020, m, 1) for m in range(1, 6)]
    model = pl.DataFrame({"month": months, "pathway": ["DC", "DC", "MC", "SE", None]})
    rules = pl.DataFrame({"month": months, "pathway": ["DC", "MC", "MC", None, "DC"]})
    share, n = agreement(model, rules)
    assert (share, n) == (pytest.approx(2 / 3), 3)
    assert agreement(model, rules.with_columns(pl.lit(None, pl.String).alias("pathway")))[1] == 0


def test_constant_classifier_answers_the_modal_pathway(classified: pl.DataFrame) -> None:
    share, modal, n = constant_agreement(classified)
    named = classified.drop_nulls("pathway")
    assert n == named.height
    assert share == pytest.approx((named["pathway"] == modal).mean())
    assert share == max((named["pathway"] == s).mean() for s in ("DC", "SE", "MC"))


def test_labels_frame_and_counts_by_year(classified: pl.DataFrame) -> None:
    labels = labels_frame(
        np.array(["2020-01", "2020-02"], dtype="datetime64[M]"), np.array([2, -1])
    )
    assert labels.to_dicts() == [
        {"month": dt.date(2020, 1, 1), "pathway": "MC"},
        {"month": dt.date(2020, 2, 1), "pathway": None},
    ]
    years = counts_by_year(classified)
    assert years["classified"].sum() == classified["pathway"].is_not_null().sum()
    assert (years["DC"] + years["SE"] + years["MC"] == years["classified"]).all()


def _write(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "pathways.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.pop("version"), "version: Field required"),
        (lambda r: r.update(window_months=0), "window_months:"),
        (lambda r: r["thresholds"].update(pla_surge_ratio=0.5), "thresholds.pla_surge_ratio:"),
        (lambda r: r["inputs"].pop("leader_meetings"), "inputs: leader_meetings is missing"),
        (lambda r: r["inputs"]["tariff_change"].update(colums=["x"]), "inputs.tariff_change."),
        (lambda r: r.update(precedence=["escalation"]), "precedence:"),
        (
            lambda r: r["pathways"]["MC"]["rules"].update(escalation="x"),
            "pathways.MC.rules.escalation: the rule belongs to DC",
        ),
        (lambda r: r["pathways"].pop("SE"), "pathways: SE is missing"),
    ],
)
def test_a_bad_rules_file_is_one_line_naming_file_and_field(
    tmp_path: Path, change, field: str
) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(PathwayRulesError) as err:
        load_rules(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and field in message


def test_a_panel_without_a_rule_column_is_named() -> None:
    with pytest.raises(PathwayRulesError, match="events_tariffs"):
        classify(pl.DataFrame({"month": [dt.date(2020, 1, 1)]}), load_rules())


def test_every_rule_belongs_to_a_pathway() -> None:
    assert set(RULE_PATHWAY.values()) == {"DC", "SE", "MC"}
