"""Source connectors, one module per publisher; ``SOURCES`` is the registry the flows use."""

from __future__ import annotations

from flows.sources import fred
from flows.sources.base import Source

SOURCES: dict[str, Source] = {s.name: s for s in (fred.SOURCE,)}


def get_source(name: str) -> Source:
    """The source called ``name``, or a one-line error listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r} (known: {', '.join(SOURCES)})") from None
