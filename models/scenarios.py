"""Scenario files: named, explained shocks to the base drivers, plus a shared event calendar.

A scenario is a YAML file in ``data/scenarios/`` saying in words what future it represents and
shifting base drivers (``W_US``, ``W_CN``, ``INTL``) by stated amounts. Why shocks are
additive offsets in SD units (``size``) and not target levels: drivers are z-scores, so one SD
is comparable across drivers and with the fitted effects; an offset keeps each path's own
stochastic variation (a level would erase it), and the offset is exactly how far the scenario
moves a driver from where it would otherwise be. A shock holds its size for
``duration_months`` from ``start`` (YYYY-MM), then decays geometrically: ``size * decay**m``
in the ``m``-th month after (``decay`` 0 ends it at once, 1 makes it permanent).

Interactions (``W_US_x_W_CN``) cannot be shocked: they are recomputed from their parts.

``calendar.yaml`` holds dated events applied in every scenario (elections, the Party Congress,
the truce expiry), each with its own shocks. Every size in these files is an assumption stated
in words (``why``), not an estimate.

Errors a user can cause (malformed YAML, unknown driver, bad duration, missing description)
raise :class:`ScenarioError` with the file and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from models.driver_paths import interaction_parts
from models.drivers import DEFAULT_COMPOSITES
from models.strict import StrictModel, field_errors, read_yaml

KNOWN_DRIVERS: tuple[str, ...] = tuple(c.name for c in DEFAULT_COMPOSITES)
CALENDAR_FILE = "calendar.yaml"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ScenarioError(ValueError):
    """A scenario or calendar file a user wrote wrongly; the message names file and field."""


class Shock(StrictModel):
    driver: str
    size: float = Field(allow_inf_nan=False, description="offset in driver SD units")
    start: str = Field(description="first month, YYYY-MM")
    duration_months: int = Field(gt=0)
    decay: float = Field(0.0, ge=0, le=1, description="per-month factor after the duration")
    why: str = Field(min_length=10, description="the assumption behind sign and size")

    @field_validator("start", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        if isinstance(value, dt.date):
            value = value.strftime("%Y-%m")
        if not isinstance(value, str) or not _MONTH.match(value):
            raise ValueError(f"expected a month as YYYY-MM, got {value!r}")
        return value

    @field_validator("driver")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("drivers", KNOWN_DRIVERS)
        if interaction_parts(value):
            raise ValueError(f"{value!r} is an interaction, recomputed from its parts: shock those")
        if value not in known:
            raise ValueError(f"unknown driver {value!r}; known base drivers: {', '.join(known)}")
        return value

    def profile(self, months: np.ndarray) -> np.ndarray:
        """(H,) the shock's offset in each of ``months`` (datetime64[M])."""
        since = (months - np.datetime64(self.start, "M")).astype(int)
        after = since - self.duration_months + 1  # 1 in the first month after the duration
        held = (since >= 0) & (after <= 0)
        decayed = np.where(after > 0, float(self.decay) ** np.maximum(after, 0), 0.0)
        return self.size * np.where(held, 1.0, decayed)


class Scenario(StrictModel):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=3)
    description: str = Field(min_length=40, description="what future this represents, in words")
    shocks: tuple[Shock, ...] = ()


class CalendarEvent(StrictModel):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    month: str = Field(pattern=_MONTH.pattern, description="when it happens, YYYY-MM")
    description: str = Field(min_length=20)
    shocks: tuple[Shock, ...] = Field(min_length=1)


class Calendar(StrictModel):
    description: str = Field(min_length=20)
    events: tuple[CalendarEvent, ...]


def load_validated[M: BaseModel](model: type[M], path: Path, drivers: tuple[str, ...]) -> M:
    raw = read_yaml(path, ScenarioError)
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        return model.model_validate(raw, context={"drivers": drivers})
    except ValidationError as exc:
        lines = field_errors(exc)
        message = f"{path}: invalid {model.__name__.lower()}\n  " + "\n  ".join(lines)
        raise ScenarioError(message) from None


def load_scenario(path: str | Path, drivers: tuple[str, ...] = KNOWN_DRIVERS) -> Scenario:
    """One scenario file; its ``name`` must be the file's stem (one name, one file)."""
    path = Path(path)
    scenario = load_validated(Scenario, path, drivers)
    if scenario.name != path.stem:
        raise ScenarioError(f"{path}: name: {scenario.name!r} must match the file name")
    return scenario


def load_calendar(path: str | Path, drivers: tuple[str, ...] = KNOWN_DRIVERS) -> Calendar:
    return load_validated(Calendar, Path(path), drivers)


def load_scenarios(folder: str | Path, drivers: tuple[str, ...] = KNOWN_DRIVERS) -> list[Scenario]:
    """Every ``*.yaml`` scenario in ``folder`` except the calendar, sorted by name."""
    folder = Path(folder)
    paths = sorted(p for p in folder.glob("*.yaml") if p.name != CALENDAR_FILE)
    if not paths:
        raise ScenarioError(f"{folder}: no scenario files (*.yaml)")
    return [load_scenario(p, drivers) for p in paths]


def shock_matrix(
    scenario: Scenario,
    calendar: Calendar,
    months: np.ndarray,
    base_driver_names: tuple[str, ...],
) -> np.ndarray:
    """(H, K_base) summed offsets of the calendar's and the scenario's shocks per month.

    ``months`` are the forecast months (datetime64[M]); columns follow ``base_driver_names``.
    A shock on a driver the simulation does not have is an error, not silently dropped.
    """
    months = np.asarray(months).astype("datetime64[M]")
    out = np.zeros((months.shape[0], len(base_driver_names)))
    sources = [(f"calendar event {e.name!r}", e.shocks) for e in calendar.events]
    sources.append((f"scenario {scenario.name!r}", scenario.shocks))
    for source, shocks in sources:
        for shock in shocks:
            if shock.driver not in base_driver_names:
                raise ScenarioError(
                    f"{source}: shocks {shock.driver!r}, which the model does not simulate "
                    f"(base drivers: {list(base_driver_names)})"
                )
            out[:, base_driver_names.index(shock.driver)] += shock.profile(months)
    return out
