"""Scenario files: the shipped ones load and say what they assume; bad files fail naming the
file and the field; shocks have the documented shape in time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.scenarios import (
    CALENDAR_FILE,
    ScenarioError,
    Shock,
    load_calendar,
    load_scenario,
    load_scenarios,
    shock_matrix,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "data" / "scenarios"
SHIPPED = {
    "baseline",
    "tariff_escalation",
    "taiwan_strait_crisis",
    "grand_bargain",
    "selective_engagement_climate_health",
    "russia_ukraine_escalation",
    "private_channel_diplomacy",
}
BASE = ("W_US", "W_CN", "INTL")
GOOD = """\
name: {name}
title: A test scenario
description: A scenario written for the tests, long enough to say what it represents.
shocks:
  - driver: {driver}
    size: 1.0
    start: 2026-03
    duration_months: {duration}
    decay: 0.5
    why: an assumption stated in words
"""


def write(tmp_path: Path, text: str, name: str = "custom") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def months(first: str, n: int) -> np.ndarray:
    return np.datetime64(first, "M") + np.arange(n)


def test_every_shipped_scenario_loads_and_explains_itself() -> None:
    scenarios = {s.name: s for s in load_scenarios(SCENARIOS)}
    assert set(scenarios) == SHIPPED
    assert scenarios["baseline"].shocks == ()
    for name in SHIPPED - {"baseline"}:
        assert scenarios[name].shocks, name
        assert all(shock.why for shock in scenarios[name].shocks)


def test_calendar_has_the_known_dated_events() -> None:
    calendar = load_calendar(SCENARIOS / CALENDAR_FILE)
    when = {event.name: event.month for event in calendar.events}
    assert when == {"truce_expiry": "2026-11", "ccp_21st_party_congress": "2027-10"}
    drivers = {e.name: {s.driver for s in e.shocks} for e in calendar.events}
    # the US elections are W_US's projected countdown, never a second (calendar) shock
    assert all(d == {"W_CN"} for d in drivers.values())
    # the Party Congress narrows China's win-set in the months before it
    congress = next(e for e in calendar.events if e.name == "ccp_21st_party_congress")
    profile = congress.shocks[0].profile(months("2027-01", 12))
    assert np.all(profile[6:10] < 0) and not profile[:6].any()


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (GOOD.format(name="custom", driver="W_EU", duration=3), "shocks.0.driver", "W_EU"),
        (
            GOOD.format(name="custom", driver="W_US_x_W_CN", duration=3),
            "shocks.0.driver",
            "interaction",
        ),
        (GOOD.format(name="custom", driver="W_US", duration=-2), "shocks.0.duration_months", "0"),
        (GOOD.format(name="custom", driver="W_US", duration=0), "shocks.0.duration_months", "0"),
        (
            "\n".join(
                line
                for line in GOOD.format(name="custom", driver="W_US", duration=3).splitlines()
                if not line.startswith("description")
            ),
            "description",
            "required",
        ),
        (
            GOOD.format(name="custom", driver="W_US", duration=3).replace("2026-03", "2026-13"),
            "shocks.0.start",
            "YYYY-MM",
        ),
        (GOOD.format(name="other", driver="W_US", duration=3), "name", "file name"),
    ],
)
def test_invalid_scenario_names_file_and_field(
    tmp_path: Path, text: str, field: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message and f"{field}:" in message and words in message


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: broken\ntitle: [unclosed\ndescription: x\n")
    with pytest.raises(ScenarioError, match=rf"{path}: line \d+ not valid YAML"):
        load_scenario(path)


def test_folder_loading_fails_on_one_bad_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD.format(name="fine", driver="W_US", duration=3), name="fine")
    write(tmp_path, GOOD.format(name="bad", driver="W_EU", duration=3), name="bad")
    with pytest.raises(ScenarioError, match=r"bad\.yaml"):
        load_scenarios(tmp_path)
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios(tmp_path / "empty")


def test_shock_holds_then_decays_geometrically() -> None:
    shock = Shock(
        driver="W_US",
        size=-2.0,
        start="2026-03",
        duration_months=3,
        decay=0.5,
        why="stated for the test",
    )
    profile = shock.profile(months("2026-01", 8))
    assert np.allclose(profile, [0, 0, -2, -2, -2, -1, -0.5, -0.25])
    ends = Shock(
        driver="W_US",
        size=1.0,
        start="2026-03",
        duration_months=1,
        decay=0.0,
        why="stated for the test",
    )
    assert np.allclose(ends.profile(months("2026-02", 4)), [0, 1, 0, 0])


def test_shock_matrix_adds_calendar_and_scenario_by_driver(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD.format(name="custom", driver="W_CN", duration=2)))
    calendar = load_calendar(SCENARIOS / CALENDAR_FILE)
    horizon = months("2026-01", 37)
    both = shock_matrix(scenario, calendar, horizon, BASE)
    alone = shock_matrix(load_scenario(SCENARIOS / "baseline.yaml"), calendar, horizon, BASE)
    assert both.shape == (37, 3)
    added = both - alone
    assert np.allclose(added[:, [0, 2]], 0)
    assert np.allclose(added[:6, 1], [0, 0, 1, 1, 0.5, 0.25])
    with pytest.raises(ScenarioError, match="does not simulate"):
        shock_matrix(scenario, calendar, horizon, ("W_US", "INTL"))
