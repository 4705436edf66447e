"""Source connectors, one module per publisher; ``SOURCES`` is the registry the flows use."""

from __future__ import annotations

from flows.sources import (
    ai_gpr,
    approval,
    approval_votehub,
    census_trade,
    china_macro,
    cpi,
    epu,
    fred,
    gdelt,
    gdelt_graph,
    gpr,
    imf_fx,
    pla_activity,
    state_visits,
    tariffs,
    timeline,
    unga,
)
from flows.sources.base import Source

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        fred.SOURCE,
        census_trade.SOURCE,
        imf_fx.SOURCE,
        tariffs.SOURCE,
        gdelt.SOURCE,
        gdelt_graph.SOURCE,
        ai_gpr.SOURCE,
        gpr.SOURCE,
        epu.SOURCE,
        cpi.SOURCE,
        approval.SOURCE,
        approval_votehub.SOURCE,
        pla_activity.SOURCE,
        china_macro.SOURCE,
        unga.SOURCE,
        state_visits.TRAVELS,
        state_visits.VISITS,
        timeline.SOURCE,
        timeline.TARIFF_ACTIONS,
    )
}


def get_source(name: str) -> Source:
    """The source called ``name``, or a one-line error listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r} (known: {', '.join(SOURCES)})") from None
