"""How numbers and dates read in every report (HTML, Markdown, chart labels).

Why one module: the headline in the HTML, the Markdown summary and the index must print the
same probability the same way, and tests assert these exact strings.

- probabilities are whole percentages: ``0.423`` -> ``42%``; a value that rounds to 0 or
  100 but is not exactly 0 or 1 reads ``<1%`` or ``>99%`` (never a false certainty);
- a 90% interval is ``31–55%`` (en dash, one percent sign), or ``69% to >99%`` when an end
  reads ``<1`` or ``>99`` (a dash next to ``>`` would read as an arrow);
- changes of probabilities are signed percentage points with one decimal: ``+3.2 pp``,
  ``−1.0 pp`` (a true minus sign, U+2212);
- other signed numbers (driver changes) have two decimals: ``+0.25``, ``−0.10``;
- diagnostics: floats of 100 or more without decimals (``812``), smaller ones with three
  (``1.004``), anything else as ``str`` gives it;
- months are ``2029-01`` in tables and ``January 2029`` in prose.
"""

from __future__ import annotations

import datetime as dt
import math

MINUS = "\u2212"


def _percent_number(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    text = f"{x * 100:.0f}"
    if text == "0" and x > 0:
        return "<1"
    if text == "100" and x < 1:
        return ">99"
    return text.replace("-", MINUS)


def pct(x: float) -> str:
    """A probability as a whole percentage: ``42%``, ``<1%``, ``>99%``."""
    number = _percent_number(x)
    return number if number == "n/a" else f"{number}%"


def interval(low: float, high: float) -> str:
    """A 90% interval of probabilities: ``31–55%``, or ``69% to >99%`` at the extremes."""
    lo, hi = _percent_number(low), _percent_number(high)
    if any(end[0] in "<>" for end in (lo, hi)):
        return f"{pct(low)} to {pct(high)}"
    return f"{lo}–{pct(high)}"


def signed(x: float, digits: int = 2) -> str:
    """A signed number with a true minus sign: ``+0.25``, ``−0.10``."""
    if math.isnan(x):
        return "n/a"
    text = f"{abs(x):.{digits}f}"
    if float(text) == 0:
        return f"±{text}"
    return f"+{text}" if x > 0 else f"{MINUS}{text}"


def pp(delta: float) -> str:
    """A change of probability in percentage points: ``+3.2 pp``."""
    return f"{signed(delta * 100, 1)} pp"


def pp_interval(low: float, high: float) -> str:
    """A 90% interval of probability changes in percentage points: ``−3.1 to +0.4 pp``."""
    return f"{signed(low * 100, 1)} to {signed(high * 100, 1)} pp"


def number(x: object, digits: int = 3) -> str:
    """A diagnostic value: ``812``, ``1.004``; integers, flags and text as they are."""
    if isinstance(x, float) and math.isfinite(x):
        return f"{x:.0f}" if abs(x) >= 100 else f"{x:.{digits}f}"
    return str(x)


def month(d: dt.date) -> str:
    """``2029-01``."""
    return f"{d.year:04d}-{d.month:02d}"


def month_long(d: dt.date) -> str:
    """``January 2029`` (English month names, independent of the machine's locale)."""
    return f"{_MONTHS[d.month - 1]} {d.year}"


def timestamp(t: dt.datetime) -> str:
    """``2025-11-26 01:43 UTC`` for aware times, ``2025-11-26 01:43`` for naive ones."""
    if t.tzinfo is not None:
        return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return t.strftime("%Y-%m-%d %H:%M")


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def horizons(months: list[int]) -> str:
    """Forecast horizons in words: ``1, 6 months``, ``12 months``, or ``none``."""
    return f"{', '.join(str(m) for m in months)} months" if months else "none"
