"""CAMEO codes without their leading zeros, and the monthly event-type counts, on real rows.

Expected values come from the raw lines by plain string splitting and from the bundled CAMEO
lookup read here with the csv module, never from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.panel import BLOCKS, build_block
from flows.sources.base import describe_normalised
from flows.sources.cameo import EVENT_TYPES, LOOKUP
from flows.sources.gdelt import COLUMNS, monthly_event_types, parse_export

DATA = Path(__file__).resolve().parents[2] / "data"
FIXTURE = DATA / "jaimelavie_gdelt-analysis/DERIVED_20180508_partial.export.CSV"
AT = {name: COLUMNS.index(name) for name in COLUMNS}


@pytest.fixture(scope="module")
def lines() -> list[list[str]]:
    return [line.split("\t") for line in FIXTURE.read_text().splitlines()]


@pytest.fixture(scope="module")
def lookup() -> dict[str, str]:
    with LOOKUP.open(newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {r["CAMEOEVENTCODE"]: r["EVENTDESCRIPTION"] for r in rows}


def _export(rows: list[list[str]]) -> bytes:
    return "".join("\t".join(r) + "\n" for r in rows).encode()


def _as_dyad(rows: list[list[str]]) -> list[list[str]]:
    """Every real row as a USA–CHN event (only the two actor countries change), so the
    counts cover all the CAMEO codes the fixture holds, not just its 19 dyad rows."""
    out = []
    for cells in rows:
        cells = list(cells)
        cells[AT["Actor1CountryCode"]], cells[AT["Actor2CountryCode"]] = "USA", "CHN"
        out.append(cells)
    return out


def _strip_zeros(cells: list[str]) -> list[str]:
    """The row as an integer-typed column would write it: "042" -> "42", "04" -> "4"."""
    cells = list(cells)
    for field in ("EventCode", "EventBaseCode", "EventRootCode"):
        cells[AT[field]] = str(int(cells[AT[field]]))
    return cells


def test_event_types_name_real_cameo_codes(lookup: dict[str, str]) -> None:
    assert lookup["04"] == "CONSULT"
    assert lookup["16"] == "REDUCE RELATIONS"
    assert lookup["163"] == "Impose embargo, boycott, or sanctions"
    assert lookup["17"] == "COERCE"
    assert [lookup[r] for r in ("18", "19", "20")] == [
        "ASSAULT",
        "FIGHT",
        "USE UNCONVENTIONAL MASS VIOLENCE",
    ]
    for _, prefixes in EVENT_TYPES.values():
        assert all(p in lookup for p in prefixes)


def test_monthly_event_types_count_the_raw_codes(lines: list[list[str]]) -> None:
    rows = _as_dyad(lines)
    parsed = parse_export(_export(rows), "all-as-dyad.export.CSV")
    assert parsed.rows.height == len(rows) and parsed.rejects.height == 0
    monthly = monthly_event_types(parsed.rows)

    expected: dict[dt.date, dict[str, int]] = {}
    quad_names = {"1": "verbal_cooperation", "2": "material_cooperation"}
    quad_names |= {"3": "verbal_conflict", "4": "material_conflict"}
    for cells in rows:
        month = dt.datetime.strptime(cells[AT["SQLDATE"]][:6], "%Y%m").date()
        counts = expected.setdefault(month, dict.fromkeys(monthly.columns[1:], 0))
        counts[quad_names[cells[AT["QuadClass"]]]] += 1
        code = cells[AT["EventCode"]]
        counts["consult"] += code[:2] == "04"
        counts["reduce_relations"] += code[:2] == "16"
        counts["sanctions"] += code[:3] == "163"
        counts["coerce"] += code[:2] == "17"
        counts["force"] += code[:2] in ("18", "19", "20")
    got = {r.pop("month"): r for r in monthly.iter_rows(named=True)}
    assert got == expected
    for group in EVENT_TYPES:  # the fixture really holds every kind
        assert sum(c[group] for c in expected.values()) > 0, group


def test_codes_without_leading_zeros_are_restored_and_counted(lines: list[list[str]]) -> None:
    rows = _as_dyad(lines)
    stripped = [_strip_zeros(cells) for cells in rows]
    fields = ("EventCode", "EventBaseCode", "EventRootCode")
    changed = sum(s[AT[f]] != r[AT[f]] for s, r in zip(stripped, rows, strict=True) for f in fields)
    assert changed > 1000  # most CAMEO roots are 01-09

    original = parse_export(_export(rows), "original.export.CSV")
    restored = parse_export(_export(stripped), "stripped.export.CSV")
    assert original.codes_normalised == 0
    assert restored.codes_normalised == changed
    # the ingest summary's words for it
    assert (
        describe_normalised(restored.normalised) == f"{changed:,} CAMEO codes without leading zeros"
    )
    assert restored.rejects.height == 0
    assert restored.rows.equals(original.rows)


def test_an_ambiguous_code_follows_its_root(lines: list[list[str]]) -> None:
    """ "10" is the root *demand*; written for a row of root 01 it can only be "010"."""
    statement = next(c for c in _as_dyad(lines) if c[AT["EventCode"]] == "010")
    demand = list(statement)
    demand[AT["GLOBALEVENTID"]] = "1"
    demand[AT["EventCode"]] = demand[AT["EventBaseCode"]] = demand[AT["EventRootCode"]] = "10"
    parsed = parse_export(_export([_strip_zeros(statement), demand]), "two.export.CSV")
    assert parsed.rows["event_code"].to_list() == ["010", "10"]
    assert parsed.rows["event_root_code"].to_list() == ["01", "10"]
    assert parsed.codes_normalised == 3


def test_panel_columns_are_the_event_types(lines: list[list[str]]) -> None:
    events = parse_export(_export(_as_dyad(lines)), "all.export.CSV").rows
    block = build_block(_block("gdelt_event_types"), {"raw_gdelt_events": events}, None)
    monthly = monthly_event_types(events)
    assert block.columns == ["month", *(f"gdelt_{c}" for c in monthly.columns[1:])]
    assert block.select(pl.exclude("month")).rows() == monthly.select(pl.exclude("month")).rows()


def _block(name: str):
    return next(b for b in BLOCKS if b.name == name)
