"""The contract every source connector follows, and the strict CSV reader most of them use.

A connector turns the bytes of one published file into a typed Polars frame plus the rows it
refused, each with a reason. Problems with a whole file (empty, wrong delimiter, a missing
column, a corrupt archive) raise :class:`SourceError`, whose message is one line naming the
file, the row and the field, so the CLI can print it instead of a traceback. Problems with a
single row never abort the file: the row goes to ``rejects`` with its raw text, unless the
rejects are systematic (:func:`flows.sources.limits.refuse_skewed`, applied to every file
whatever its connector): then the kept rows would be a biased subset, and the file is
refused whole.

Representations that real tools produce and that mean one thing only (a byte-order mark, CRLF
line ends, a date or a whole number written in float notation such as ``20240115.0``) are
normalised rather than rejected, and counted per file in :attr:`Parsed.normalised` so the
ingest summary can say what was changed.

Row numbers are 1-based line numbers in the file as published (the header is line 1), so a
user can open the file in an editor and find the row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "field": pl.String(),
    "reason": pl.String(),
    "raw": pl.String(),
}

MISSING_TOKENS = frozenset({"", ".", "NA", "N/A", "NaN", "nan"})


class SourceError(Exception):
    """A whole file cannot be used. ``str()`` is a single line a user can act on."""

    def __init__(
        self, file: str, message: str, *, row: int | None = None, field: str | None = None
    ) -> None:
        self.file, self.message, self.row, self.field = file, message, row, field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}"


class IngestFailed(Exception):
    """One or more sources could not be read; nothing was written."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


# What :attr:`Parsed.normalised` counts, worded to follow a number ("312 CAMEO codes ...").
BOM = "UTF-8 byte-order mark"
CRLF = "lines ending in CRLF"
FLOAT_DATES = "dates written in float notation"
FLOAT_WHOLE_NUMBERS = "whole numbers written in float notation"


@dataclass(frozen=True)
class Parsed:
    """What a connector returns for one file: the rows it kept and the rows it refused.

    ``rows_read`` is how many data rows the file had (kept, rejected or skipped): the
    denominator of the reject share in :func:`~flows.sources.limits.refuse_skewed`, since
    ``rows`` may be in long form (one row per series). ``None`` means one row of ``rows`` per
    data row. ``normalised`` counts the cells (or lines, or files) given their unambiguous
    form, by what was done.
    """

    rows: pl.DataFrame
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))
    rows_read: int | None = None
    normalised: Mapping[str, int] = field(default_factory=dict)

    def with_rows(self, rows: pl.DataFrame) -> Parsed:
        """The same file's outcome with its kept rows reshaped (e.g. to long form)."""
        return replace(self, rows=rows)

    @property
    def data_rows(self) -> int:
        """Data rows read from the file: kept plus rejected when the parser did not say."""
        if self.rows_read is not None:
            return self.rows_read
        return self.rows.height + self.rejects.height


def describe_normalised(normalised: Mapping[str, int]) -> str:
    """'312 CAMEO codes without leading zeros, 1 UTF-8 byte-order mark' ('' when none)."""
    return ", ".join(f"{n:,} {what}" for what, n in normalised.items() if n)


ParseFn = Callable[[bytes, str], Parsed]


@dataclass(frozen=True)
class Dataset:
    """One published file of a source: where the bundle keeps it and where it lives online.

    ``live_path`` is joined to the source's (configurable) base URL, so tests can point a
    connector at a local server without touching the code. An empty ``live_path`` marks a
    curated file with no publisher copy: live ingestion reads the bundled file instead.
    """

    name: str
    bundled: str  # path relative to the project's data/ folder
    live_path: str  # appended to the source's base URL; "" = curated, no live copy
    parse: ParseFn


@dataclass(frozen=True)
class Source:
    """A publisher's series as the warehouse sees it: one raw table, one natural key."""

    name: str
    description: str
    table: str
    schema: Mapping[str, pl.DataType]
    key: tuple[str, ...]
    base_url: str
    datasets: tuple[Dataset, ...]
    licence: str = ""

    def dataset(self, name: str) -> Dataset:
        for d in self.datasets:
            if d.name == name:
                return d
        known = ", ".join(d.name for d in self.datasets)
        raise KeyError(f"source {self.name!r} has no dataset {name!r} (known: {known})")


# --------------------------------------------------------------------------- converters
# A converter turns one cell's text into a value or raises ValueError with a short reason.

Converter = Callable[[str], Any]


@dataclass(frozen=True)
class Normalising:
    """A converter with a fallback for one unambiguous other spelling of its values.

    Called directly it is as strict as ``strict``; the CSV reader, when ``strict`` refuses a
    cell, tries ``repair`` (which returns the canonical text, or None when the cell is not
    that spelling) and counts the cell under ``what``. The repair is tried only after the
    strict form failed, so a value that already means something is never reinterpreted.
    """

    strict: Converter
    repair: Callable[[str], str | None]
    what: str

    def __call__(self, text: str) -> Any:
        return self.strict(text)


_FLOAT_NOTATION = re.compile(r"^\s*(\d+\.0*|\d(\.\d+)?[eE]\+?\d+)\s*$")


def float_notation_whole(text: str) -> int | None:
    """The whole number a spreadsheet or a float column wrote as ``1985.0`` or ``2.0240115E7``;
    None for any other text (including ``1985.5``, which is not a whole number)."""
    if not _FLOAT_NOTATION.match(text):
        return None
    value = float(text)
    if not value.is_integer() or value > 2**53:  # beyond 2**53 a float is not exact
        return None
    return int(value)


def _repair_float_date(fmt: str) -> Callable[[str], str | None]:
    """A date written as the float of its YYYYMMDD digits, back in ``fmt``."""

    def repair(text: str) -> str | None:
        whole = float_notation_whole(text)
        if whole is None or not 10_000_000 <= whole <= 99_991_231:
            return None
        try:
            return dt.datetime.strptime(str(whole), "%Y%m%d").strftime(fmt)
        except ValueError:
            return None

    return repair


def _repair_float_whole(text: str) -> str | None:
    whole = float_notation_whole(text)
    return None if whole is None else str(whole)


def number(*, missing: Iterable[str] = MISSING_TOKENS, thousands: str | None = None) -> Converter:
    """A float; the tokens in ``missing`` become null (FRED writes '.' for no release)."""
    missing = frozenset(missing)

    def convert(text: str) -> float | None:
        t = text.strip()
        if t in missing:
            return None
        if thousands:
            t = t.replace(thousands, "")
        try:
            return float(t)
        except ValueError:
            raise ValueError(f"not a number: {text!r}") from None

    return convert


def required_number(**kw: Any) -> Converter:
    """A float that must be present."""
    inner = number(**kw)

    def convert(text: str) -> float:
        value = inner(text)
        if value is None:
            raise ValueError("value is missing")
        return value

    return convert


def date(fmt: str = "%Y-%m-%d", *, required: bool = True) -> Converter:
    """A calendar date in ``fmt``; impossible dates (2019-02-30) are rejected.

    With ``required=False`` an empty cell is null (an undated row in a curated table). A date
    written as the float of its digits (``20240115.0``, ``2.0240115E7``: a spreadsheet's
    number column) is read as YYYYMMDD and counted, since eight digits have one reading.
    """

    def convert(text: str) -> dt.date | None:
        if not required and not text.strip():
            return None
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            raise ValueError(f"not a date in format {fmt}: {text!r}") from None

    return Normalising(convert, _repair_float_date(fmt), FLOAT_DATES)


def month(fmt: str = "%Y-%m-%d") -> Converter:
    """The first day of a month, written in ``fmt``.

    Monthly publishers date each month by its first day (or by a format with no day, such as
    "January 2001"); any other day means the row is not what the file claims, so it is refused
    rather than silently moved to the month's start.
    """
    parse = date(fmt)

    def convert(text: str) -> dt.date:
        day = parse(text)
        if day.day != 1:
            raise ValueError(f"not the first day of a month: {text!r}")
        return day

    return Normalising(convert, _repair_float_date(fmt), FLOAT_DATES)


def integer(
    *,
    missing: Iterable[str] = MISSING_TOKENS,
    minimum: int | None = None,
    maximum: int | None = None,
) -> Converter:
    """A whole number in [minimum, maximum]; the tokens in ``missing`` become null.

    ``1985.0`` (a spreadsheet's number cell) is read as 1985 and counted."""
    missing = frozenset(missing)

    def convert(text: str) -> int | None:
        t = text.strip()
        if t in missing:
            return None
        try:
            value = int(t)
        except ValueError:
            raise ValueError(f"not a whole number: {text!r}") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"below the minimum {minimum}: {text!r}")
        if maximum is not None and value > maximum:
            raise ValueError(f"above the maximum {maximum}: {text!r}")
        return value

    return Normalising(convert, _repair_float_whole, FLOAT_WHOLE_NUMBERS)


def one_of(allowed: Iterable[str]) -> Converter:
    """A code from a closed list; an unknown code is refused with the list it should be in."""
    allowed = frozenset(allowed)

    def convert(text: str) -> str:
        value = text.strip()
        if value not in allowed:
            raise ValueError(
                f"unknown value {text!r} (expected one of {', '.join(sorted(allowed))})"
            )
        return value

    return convert


def text(*, required: bool = True) -> Converter:
    def convert(value: str) -> str | None:
        value = value.strip()
        if not value:
            if required:
                raise ValueError("value is missing")
            return None
        return value

    return convert


# --------------------------------------------------------------------------- strict CSV


def decode(content: bytes, file: str) -> str:
    """UTF-8 text without a byte-order mark; refuses empty and binary files."""
    if not content.strip():
        raise SourceError(file, "file is empty")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(content, exc.start, file) from None


def check_utf8(data: bytes, file: str, chunk: int = 1 << 20) -> None:
    """Refuse bytes that are not UTF-8, decoding chunk by chunk and keeping nothing.

    For parsers that read bytes directly (GDELT): a lossy read would store U+FFFD in place of
    a Windows-1252 character, overwriting a good row, where every other source refuses.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        try:
            decoder.decode(view[start : start + chunk], final=start + chunk >= len(data))
        except UnicodeDecodeError as exc:
            raise _not_utf8(data, start + exc.start, file) from None


def _not_utf8(data: bytes, position: int, file: str) -> SourceError:
    # A character split across chunks is reported where it starts, which may be before
    # ``position``; the row is what a reader needs.
    row = data.count(b"\n", 0, position) + 1
    return SourceError(file, f"not UTF-8 text (byte {position})", row=row)


def read_csv(
    content: bytes,
    file: str,
    columns: Mapping[str, Converter],
    *,
    key: Sequence[str] = (),
    delimiter: str = ",",
    header_line: int = 1,
    stop: Callable[[list[str]], bool] | None = None,
    max_rejects: int | None = None,
) -> Parsed:
    """Read a delimited file strictly into a frame with one column per entry of ``columns``.

    Extra columns in the file are ignored; a missing one is fatal. A row with the wrong
    number of fields, a cell its converter refuses, or a repeated ``key`` is rejected with
    its line number, field and raw text. ``header_line`` skips title lines some publishers
    put above the header; ``stop`` ends the table at a footer row.

    More than ``max_rejects`` rejected rows (default: ``WINSET_MAX_REJECTS``) refuse the file
    whole as soon as they are seen: a file that is mostly wrong is the wrong file, and keeping
    millions of rejects cost gigabytes. Lines are read lazily for the same reason.

    A byte-order mark, CRLF line ends and cells a :class:`Normalising` converter repairs are
    counted in the result's ``normalised``; ``rows_read`` counts the data rows read.
    """
    from flows.sources.limits import FileLimits, too_many_rejects  # limits imports this module

    limit = FileLimits.from_env().max_rejects if max_rejects is None else max_rejects
    normalised = line_end_counts(content)
    lines = _lines(decode(content, file))
    head = [line for _, line in zip(range(header_line), lines, strict=False)]
    if len(head) < header_line:
        raise SourceError(file, f"expected a header on line {header_line}", row=header_line)
    header = next(csv.reader([head[-1]], delimiter=delimiter))
    header = [h.strip() for h in header]
    _check_header(header, columns, file, delimiter, header_line)
    index = {name: header.index(name) for name in columns}

    values: dict[str, list[Any]] = {name: [] for name in columns}
    rows: list[int] = []
    rejects: list[tuple[int, str | None, str, str]] = []
    seen: dict[tuple[Any, ...], int] = {}
    read = 0
    body = _Tee(lines)
    for cells in csv.reader(body, delimiter=delimiter):
        raw, line = body.last, header_line + body.count
        if len(rejects) > limit:
            raise too_many_rejects(file, limit, rejects[0][:3])
        if not raw.strip():
            continue
        if stop is not None and stop(cells):
            break
        read += 1
        if len(cells) != len(header):
            reason = f"expected {len(header)} fields, found {len(cells)} (truncated or stray row)"
            rejects.append((line, None, reason, raw))
            continue
        repaired: list[str] = []
        converted, problem = _convert_row(cells, columns, index, repaired)
        if problem is not None:
            rejects.append((line, problem[0], problem[1], raw))
            continue
        if key:
            k = tuple(converted[c] for c in key)
            if k in seen:
                reason = f"duplicate key {_fmt_key(key, k)}: first seen on row {seen[k]}"
                rejects.append((line, key[0], reason, raw))
                continue
            seen[k] = line
        normalised.update(repaired)  # counted for the rows that are kept
        for name, value in converted.items():
            values[name].append(value)
        rows.append(line)

    if len(rejects) > limit:
        raise too_many_rejects(file, limit, rejects[0][:3])
    frame = pl.DataFrame(values, strict=False)
    return Parsed(frame, rejects_frame(rejects), rows_read=read, normalised=dict(normalised))


def line_end_counts(content: bytes) -> Counter[str]:
    """A leading UTF-8 byte-order mark and CRLF line ends, counted: both are harmless once
    decoded, but an analyst comparing a file with the warehouse should know they were there."""
    counts: Counter[str] = Counter()
    if content.startswith(codecs.BOM_UTF8):
        counts[BOM] = 1
    # ``in`` is a memchr scan; counting a two-byte pattern costs 15 times more (0.12 s of CPU
    # on a 118 MB export), so it is paid only by files that hold a carriage return at all.
    if b"\r" in content and (crlf := content.count(b"\r\n")):
        counts[CRLF] = crlf
    return counts


def _lines(text: str, chunk: int = 1 << 20) -> Iterator[str]:
    """``text.splitlines()`` one line at a time, without a list of every line at once.

    Each chunk is split with ``splitlines`` itself (so line breaks mean exactly what they
    meant before); the last piece of a chunk may be cut, so it is carried into the next.
    """
    carry = ""
    for start in range(0, len(text), chunk):
        pieces = (carry + text[start : start + chunk]).splitlines(keepends=True)
        carry = pieces.pop() if pieces else ""
        for piece in pieces:
            yield piece.splitlines()[0]
    if carry:
        yield carry.splitlines()[0]


class _Tee:
    """Lines for ``csv.reader`` that remember the last one handed out (a reject's raw text)
    and how many were handed out, so a record's line number stays the editor's even if a
    quoted field spans lines."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines, self.last, self.count = lines, "", 0

    def __iter__(self) -> _Tee:
        return self

    def __next__(self) -> str:
        self.last = next(self._lines)
        self.count += 1
        return self.last


def _check_header(
    header: list[str], columns: Mapping[str, Converter], file: str, delimiter: str, line: int
) -> None:
    missing = [c for c in columns if c not in header]
    if not missing:
        return
    if len(header) == 1:
        other = next((d for d in (",", ";", "\t", "|") if d != delimiter and d in header[0]), None)
        if other is not None:
            raise SourceError(
                file,
                f"wrong delimiter: expected {delimiter!r}, the header is split by {other!r}",
                row=line,
            )
    raise SourceError(
        file, f"missing column (header has: {', '.join(header)})", row=line, field=missing[0]
    )


def _convert_row(
    cells: list[str],
    columns: Mapping[str, Converter],
    index: Mapping[str, int],
    repaired: list[str],
) -> tuple[dict[str, Any], tuple[str, str] | None]:
    out: dict[str, Any] = {}
    for name, convert in columns.items():
        try:
            out[name] = convert_cell(convert, cells[index[name]], repaired)
        except ValueError as exc:
            return out, (name, str(exc))
    return out, None


def convert_cell(convert: Converter, text: str, repaired: list[str]) -> Any:
    """``convert(text)``; if it refuses and ``convert`` is :class:`Normalising`, the repaired
    text instead, noting what was repaired in ``repaired``. The strict error stands otherwise."""
    try:
        return convert(text)
    except ValueError:
        fixed = convert.repair(text) if isinstance(convert, Normalising) else None
        if fixed is None:
            raise
        value = convert.strict(fixed)
        repaired.append(convert.what)
        return value


def _fmt_key(names: Sequence[str], values: Sequence[Any]) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def rejects_frame(rejects: Sequence[tuple[int, str | None, str, str]]) -> pl.DataFrame:
    """Rows refused by a parser, as (line, field, reason, raw text)."""
    return pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def long_form(frame: pl.DataFrame, index: str, series: Sequence[str]) -> pl.DataFrame:
    """Wide series columns as (series, ``index``, value) rows, values as Float64.

    Wide publisher files (one column per country or index) become one long raw table, so a
    new column the publisher adds is a new ``series`` value, not a schema migration. Blank
    cells stay as null values: the table mirrors the file's grid.
    """
    return (
        frame.select(index, *(pl.col(s).cast(pl.Float64) for s in series))
        .unpivot(on=list(series), index=index, variable_name="series", value_name="value")
        .select("series", index, "value")
    )


def stable_mean(expr: pl.Expr) -> pl.Expr:
    """A group mean that gives the same bits on every run.

    Polars' parallel group-by may sum a group in a different order from run to run, and the
    warehouse may return rows in any order; either changes the last bit of a float mean and so
    the panel's data hash (and every refit decision that depends on it). Sorting each group's
    values first fixes the order of the sum whatever order the rows arrived in.
    """
    return expr.sort().implode().list.mean()
