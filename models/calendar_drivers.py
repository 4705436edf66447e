"""Driver components whose future is known exactly: the US election countdown.

Why a module of its own: the monthly panel (``flows/panel.py``) fills ``months_to_us_election``
for the history, and the forecast must project the same countdown into the future months. A
countdown is a sawtooth fixed by the calendar; simulating it as persistent AR(1) noise would
blur a known path into uncertainty and let it revert to a mean it never has. So both the panel
and the forecast call the one function here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def months_to_us_election(months: np.ndarray) -> np.ndarray:
    """Months until the next federal election (November of every even year; 0 in that month).

    ``months`` are datetime64[M] (or anything NumPy converts to them); returns int64.
    """
    months = np.asarray(months).astype("datetime64[M]")
    index = months.astype(np.int64)  # months since 1970-01
    year = 1970 + index // 12
    month = index % 12 + 1  # 1..12
    even = year % 2 == 0
    next_year = np.where(even & (month <= 11), year, np.where(even, year + 2, year + 1))
    return ((next_year - year) * 12 + 11 - month).astype(np.int64)


# Panel column -> its value in any month, for components whose future is known.
KNOWN_COLUMNS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "months_to_us_election": months_to_us_election,
}
