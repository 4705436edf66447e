"""The staleness rule and the live kinds ``winset status`` shows, on the real source registry."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.refresh import KEY_SOURCES, live_kind, live_sources, too_stale_reason
from flows.sources import SOURCES
from reports import StaleSource

WHEN = dt.datetime(2026, 7, 10, 6, tzinfo=dt.UTC)


def stale(*names: str) -> list[StaleSource]:
    return [StaleSource(n, live_kind(SOURCES[n]), None, WHEN, "HTTP 503", n in KEY_SOURCES)
            for n in names]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("fred", "publisher"),
        ("approval_votehub", "publisher"),
        ("pla_activity", "mirror"),  # a repository's HEAD: it follows its maintainer
        ("gdelt", "fixed file"),  # one dated export, the same bytes forever
        ("gdelt_graph", "bundled only"),  # pinned to a commit and no live path
        ("epu", "bundled only"),
        ("timeline", "bundled only"),
    ],
)
def test_live_kinds_say_what_a_live_run_can_bring(source: str, kind: str) -> None:
    assert live_kind(SOURCES[source]) == kind


def test_only_sources_that_can_bring_new_data_are_counted() -> None:
    counted = live_sources()
    assert set(KEY_SOURCES) <= set(counted)
    assert not {"gdelt", "gdelt_graph", "epu", "china_macro", "timeline"} & set(counted)


def test_a_third_of_the_live_sources_is_tolerated_more_is_not() -> None:
    counted = live_sources()
    others = [n for n in counted if n not in KEY_SOURCES]
    tolerated = len(counted) // 3
    assert too_stale_reason(stale(*others[:tolerated]), counted) is None
    reason = too_stale_reason(stale(*others[: tolerated + 1]), counted)
    assert reason == f"{tolerated + 1} of {len(counted)} live sources stale (more than 1 in 3)"


def test_any_stale_key_source_is_too_stale() -> None:
    counted = live_sources()
    assert too_stale_reason(stale("ai_gpr"), counted) == "key source ai_gpr stale"
    assert too_stale_reason(stale("gdelt", "epu"), counted) is None  # frozen: nothing to lose
