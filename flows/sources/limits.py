"""Caps on what one input file may cost: its size, what it unzips to, and its rejected rows.

Why: a parser's memory grows with its input, and an input can be far larger than it looks. A
200 MB CSV of one repeated row took 10.6 GB and stored 9.1 million rejects; a 1 MB zip of
zeros unpacked to 1 GB (6.5 GB of memory) before anything looked at it. Each cap is
checked before the expensive step (the size before reading, the unzipped size while streaming,
the reject count while parsing), so a refused file costs little, and the message names the cap
and the environment variable that moves it. Downloads have the same size cap (``--max-mb``).

Two more settings decide when a file's rejects are systematic and the file is refused whole
(:func:`refuse_skewed`): the share of its rows that may be rejected, and
how many rejects may share one cause on one field.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.sources.base import Parsed, SourceError

MAX_FILE_MB = "WINSET_MAX_FILE_MB"
MAX_UNZIPPED_MB = "WINSET_MAX_UNZIPPED_MB"
MAX_REJECTS = "WINSET_MAX_REJECTS"
MAX_REJECT_SHARE = "WINSET_MAX_REJECT_SHARE"
MAX_SAME_CAUSE = "WINSET_MAX_SAME_CAUSE"

DEFAULT_FILE_MB = 512.0  # a month of GDELT exports zipped is far below this
DEFAULT_UNZIPPED_MB = 256.0  # one GDELT 2.0 export unzips to tens of MB
DEFAULT_REJECTS = 10_000  # the bundle's files reject at most a handful of rows each
# The bundle's worst file (the approval compilation) rejects 0.5% of its rows, 56 of its 66
# rejects repeated keys; 2% leaves room for that and refuses a column gone bad in 1 row of 50.
DEFAULT_REJECT_SHARE_PCT = 2.0
DEFAULT_SAME_CAUSE = 4  # five rejects alike (and most of the file's) are a pattern

_MB = 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    """The caps in force; :meth:`from_env` reads them from the environment."""

    max_file_bytes: int = int(DEFAULT_FILE_MB * _MB)
    max_unzipped_bytes: int = int(DEFAULT_UNZIPPED_MB * _MB)
    max_rejects: int = DEFAULT_REJECTS
    max_reject_share: float = DEFAULT_REJECT_SHARE_PCT / 100
    max_same_cause: int = DEFAULT_SAME_CAUSE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FileLimits:
        """The caps set by ``WINSET_MAX_FILE_MB``, ``WINSET_MAX_UNZIPPED_MB``,
        ``WINSET_MAX_REJECTS``, ``WINSET_MAX_REJECT_SHARE`` (percent) and
        ``WINSET_MAX_SAME_CAUSE`` (defaults 512, 256, 10,000, 2 and 4); a bad value names its
        variable."""
        env = os.environ if environ is None else environ
        share = _positive(env, MAX_REJECT_SHARE, DEFAULT_REJECT_SHARE_PCT, unit="a percentage")
        if share > 100:
            raise ValueError(f"{MAX_REJECT_SHARE}: expected a percentage up to 100, got {share:g}")
        return cls(
            max_file_bytes=int(_positive(env, MAX_FILE_MB, DEFAULT_FILE_MB) * _MB),
            max_unzipped_bytes=int(_positive(env, MAX_UNZIPPED_MB, DEFAULT_UNZIPPED_MB) * _MB),
            max_rejects=int(_positive(env, MAX_REJECTS, DEFAULT_REJECTS, whole=True)),
            max_reject_share=share / 100,
            max_same_cause=int(_positive(env, MAX_SAME_CAUSE, DEFAULT_SAME_CAUSE, whole=True)),
        )


def check_rejects(parsed: Parsed, file: str, limits: FileLimits | None = None) -> Parsed:
    """``parsed`` if its rejects are within the limits, else the one-line refusal: more rejects
    than the cap, or rejects that are systematic (:func:`refuse_skewed`).

    Every path into the warehouse (bundled, live, a user's file, the GDELT backfill) passes
    here, so the rule holds for every connector, including those that collect rejects
    themselves."""
    limits = limits or FileLimits.from_env()
    if parsed.rejects.height > limits.max_rejects:
        raise too_many_rejects(file, limits.max_rejects, parsed.rejects.row(0)[:3])
    refuse_skewed(
        parsed, file, max_share=limits.max_reject_share, max_same_cause=limits.max_same_cause
    )
    return parsed


def _positive(
    env: Mapping[str, str],
    name: str,
    default: float,
    whole: bool = False,
    unit: str = "a number of MB",
) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = -1
    if not value > 0:
        kind = "a whole number" if whole else unit
        raise ValueError(f"{name}: expected {kind} above 0, got {text!r}")
    return value


def size_text(n_bytes: int) -> str:
    """Bytes as a reader compares them: '3,412 bytes' below a MB, '200.0 MB' above."""
    return f"{n_bytes:,} bytes" if n_bytes < _MB else f"{n_bytes / _MB:,.1f} MB"


def cap_text(n_bytes: int, variable: str) -> str:
    """The cap and the variable that sets it, for the end of an error line."""
    return f"the cap of {size_text(n_bytes)} ({variable})"


def read_capped(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, refused before reading if it is larger than ``max_bytes``.

    A directory, a symbolic-link loop or a device is named as such rather than "no such
    file". At most ``max_bytes + 1`` bytes are read, so a file growing while it is read is
    still caught.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceError(str(path), "no such file") from None
    except OSError as exc:
        raise SourceError(str(path), f"cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError(str(path), "is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(str(path), "not a regular file")
    too_big = SourceError(
        str(path),
        f"file is {size_text(info.st_size)}, more than {cap_text(max_bytes, MAX_FILE_MB)}",
    )
    if info.st_size > max_bytes:
        raise too_big
    try:
        with path.open("rb") as stream:
            content = stream.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(str(path), f"cannot read ({exc.strerror})") from None
    if len(content) > max_bytes:
        raise too_big
    return content


def too_many_rejects(file: str, limit: int, first: tuple[int, str | None, str]) -> SourceError:
    """The error for a file whose rejected rows pass ``limit``: refused whole, with the first
    reject as a sample of what is wrong."""
    line, field, reason = first
    return SourceError(
        file,
        f"more than {limit:,} rejected rows (the cap, {MAX_REJECTS}): the file is refused "
        f"whole; the first, row {line}{f' field {field!r}' if field else ''}: {reason}",
    )


_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|\S+=\S+|\d+")
_DUPLICATE = "duplicate key"


def reject_cause(reason: str) -> str:
    """A reject's reason without the values in it ("not a number: …"), so rows refused for
    the same cause group together whatever their cells held."""
    return _VALUES.sub("…", reason)


def refuse_skewed(parsed: Parsed, file: str, *, max_share: float, max_same_cause: int) -> None:
    """Refuse a file whose rejects are systematic rather than stray, naming the pattern.

    Why: the kept rows of such a file are not a sample of it. A column that shifted in 30% of
    a GDELT export, or a date format a tool changed halfway down a series, drops rows that
    are alike, and a month aggregated from the rest looks complete but is biased. So the file
    is refused whole (nothing of it is written) when, with more than one rejected row,

    * more than ``max_share`` of its data rows were rejected, or
    * more than ``max_same_cause`` rejects share one cause on one field and are most of its
      rejects. Repeated keys do not count as a pattern here (a compilation that lists the
      same poll twice is not a format problem), though they count toward the share.

    One stray row never refuses a file: it is kept in ``rejects`` with its reason, as before.
    """
    rejects = parsed.rejects
    n = rejects.height
    if n <= 1:
        return
    rows = max(parsed.data_rows, n)
    causes = Counter(
        (field, reject_cause(reason))
        for field, reason in rejects.select("field", "reason").iter_rows()
        if not reason.startswith(_DUPLICATE)
    )
    (field, cause), same = causes.most_common(1)[0] if causes else ((None, ""), 0)
    share = f"{n:,} of {rows:,} rows rejected ({n / rows:.1%})"
    if same > max_same_cause and 2 * same > n:
        where = f"field {field!r}" if field else "the row's field count"
        why = f"{same:,} alike on {where} (more than {max_same_cause:,}, {MAX_SAME_CAUSE})"
        example = rejects.filter(pl.col("reason").map_elements(reject_cause, pl.String) == cause)
        if field is not None:
            example = example.filter(pl.col("field") == field)
    elif n / rows > max_share:
        why = f"more than {max_share * 100:g}% ({MAX_REJECT_SHARE})"
        example = rejects
    else:
        return
    row, ex_field, reason, _ = example.row(0)
    at = f"row {row}" + (f" field {ex_field!r}" if ex_field else "")
    raise SourceError(
        file, f"systematic rejects, the file is refused whole: {share}, {why}, e.g. {at}: {reason}"
    )
