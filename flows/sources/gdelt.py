"""GDELT 2.0 event exports (``*.export.CSV``), reduced to the USA–CHN dyad.

GDELT publishes one tab-separated file every 15 minutes, usually zipped, with no header and
the 61 codebook columns (:data:`COLUMNS`). A year of files is hundreds of millions of rows, of
which a tiny share are USA–CHN events, so the parser has to be fast on the rows it throws
away: Polars reads only the 15 columns used, as text, and all row-level checking except the
field count happens on the few dyad rows.

The raw files have quirks the parser tolerates without losing line numbers:

* an interrupted download ends in a truncated line (fewer than 61 fields);
* stray rows (garbage, a pasted header, extra tabs) turn up in mirrored copies;
* empty fields are normal (an actor without a country code, an event without geography).

A row with the wrong number of fields is rejected whatever its actors say, because its
columns may be shifted and a non-dyad row could really be a dyad row. Dyad rows are then
checked field by field (an impossible SQLDATE such as 20180231, a non-numeric Goldstein
score, ...) and for a GLOBALEVENTID already used earlier in the file.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from flows.sources import cameo
from flows.sources.base import (
    BOM,
    FLOAT_DATES,
    Dataset,
    Parsed,
    Source,
    SourceError,
    check_utf8,
    line_end_counts,
    rejects_frame,
    stable_mean,
)
from flows.sources.limits import MAX_UNZIPPED_MB, FileLimits, cap_text, too_many_rejects

# The GDELT 2.0 event codebook order (data/jaimelavie_gdelt-analysis/
# DERIVED_gdelt2_export_column_names.txt); the export has no header, so this is the header.
COLUMNS: tuple[str, ...] = (
    "GLOBALEVENTID",
    "SQLDATE",
    "MonthYear",
    "Year",
    "FractionDate",
    "Actor1Code",
    "Actor1Name",
    "Actor1CountryCode",
    "Actor1KnownGroupCode",
    "Actor1EthnicCode",
    "Actor1Religion1Code",
    "Actor1Religion2Code",
    "Actor1Type1Code",
    "Actor1Type2Code",
    "Actor1Type3Code",
    "Actor2Code",
    "Actor2Name",
    "Actor2CountryCode",
    "Actor2KnownGroupCode",
    "Actor2EthnicCode",
    "Actor2Religion1Code",
    "Actor2Religion2Code",
    "Actor2Type1Code",
    "Actor2Type2Code",
    "Actor2Type3Code",
    "IsRootEvent",
    "EventCode",
    "EventBaseCode",
    "EventRootCode",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
    "Actor1Geo_Type",
    "Actor1Geo_FullName",
    "Actor1Geo_CountryCode",
    "Actor1Geo_ADM1Code",
    "Actor1Geo_ADM2Code",
    "Actor1Geo_Lat",
    "Actor1Geo_Long",
    "Actor1Geo_FeatureID",
    "Actor2Geo_Type",
    "Actor2Geo_FullName",
    "Actor2Geo_CountryCode",
    "Actor2Geo_ADM1Code",
    "Actor2Geo_ADM2Code",
    "Actor2Geo_Lat",
    "Actor2Geo_Long",
    "Actor2Geo_FeatureID",
    "ActionGeo_Type",
    "ActionGeo_FullName",
    "ActionGeo_CountryCode",
    "ActionGeo_ADM1Code",
    "ActionGeo_ADM2Code",
    "ActionGeo_Lat",
    "ActionGeo_Long",
    "ActionGeo_FeatureID",
    "DATEADDED",
    "SOURCEURL",
)
N_FIELDS = len(COLUMNS)

# The raw columns read from each file, in file order (Polars projects by position).
_READ: tuple[str, ...] = (
    "GLOBALEVENTID",
    "SQLDATE",
    "Actor1CountryCode",
    "Actor2CountryCode",
    "EventCode",
    "EventBaseCode",
    "EventRootCode",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
    "DATEADDED",
    "SOURCEURL",
)

SCHEMA: dict[str, pl.DataType] = {
    "global_event_id": pl.Int64(),
    "event_date": pl.Date(),
    "actor1_country": pl.String(),
    "actor2_country": pl.String(),
    "event_code": pl.String(),
    "event_base_code": pl.String(),
    "event_root_code": pl.String(),
    "quad_class": pl.Int8(),
    "goldstein": pl.Float64(),
    "num_mentions": pl.Int64(),
    "num_sources": pl.Int64(),
    "num_articles": pl.Int64(),
    "avg_tone": pl.Float64(),
    "date_added": pl.Datetime("us"),
    "source_url": pl.String(),
}

DYAD = ("USA", "CHN")
ROOT_CODES: tuple[str, ...] = tuple(f"{i:02d}" for i in range(1, 21))
QUAD_CLASSES = (1, 2, 3, 4)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive

Reject = tuple[int, str | None, str, str]  # (line, field, reason, raw text), as in base
_CODE_FIELDS = {
    "EventCode": "event_code",
    "EventBaseCode": "event_base_code",
    "EventRootCode": "event_root_code",
}


CAMEO_ZEROS = "CAMEO codes without leading zeros"
_DATE_FIELDS = ("SQLDATE", "DATEADDED")  # counted when written in float notation


@dataclass(frozen=True)
class ParsedExport(Parsed):
    """A parsed export; ``normalised`` counts, among others, the CAMEO code fields of its kept
    rows given their leading zero back (see :mod:`flows.sources.cameo`)."""

    @property
    def codes_normalised(self) -> int:
        """CAMEO code fields restored, recorded per file in ``gdelt_export_files``."""
        return self.normalised.get(CAMEO_ZEROS, 0)


# --------------------------------------------------------------------------- parsing


def parse_export(content: bytes, file: str) -> ParsedExport:
    """Parse one GDELT 2.0 export (plain or zipped) into its USA–CHN events (:data:`SCHEMA`).

    Rejects carry the 1-based line number, the GDELT field name, a reason and the raw line.
    CAMEO codes written as integers ("42" for "042"), dates and timestamps written in float
    notation ("20180508.0"), a byte-order mark and CRLF line ends are normalised and counted
    in ``normalised``; ``rows_read`` is the file's non-blank lines. Whole-file
    problems (empty file, bad zip, wrong delimiter, mostly malformed rows, bytes that are not
    UTF-8, more rejects or unzipped bytes than the caps of :mod:`flows.sources.limits`) raise
    :class:`SourceError`.
    """
    limits = FileLimits.from_env()
    data = content
    if content.startswith(_ZIP_MAGIC):
        data = _unzip(content, file, limits.max_unzipped_bytes)
    if not data or data.isspace():
        raise SourceError(file, "file is empty")
    check_utf8(data, file)
    normalised = line_end_counts(data)
    if normalised[BOM]:  # inside line 1, so every line keeps its number
        data = data[3:]
    cells = _read_cells(data)
    counts = _field_counts(data, cells)
    blank = [line for line, (_, is_blank) in counts.items() if is_blank]
    malformed = {
        line: n for line, (n, is_blank) in counts.items() if n != N_FIELDS and not is_blank
    }
    _check_mostly_wellformed(data, file, malformed, cells.height - len(blank))

    rejects = _malformed_rejects(cells, malformed)
    if len(rejects) > limits.max_rejects:  # before the dyad rows add theirs
        raise too_many_rejects(file, limits.max_rejects, min(rejects)[:3])
    dyad = cells.filter(_is_dyad()).filter(~pl.col("line").is_in(list(malformed)))
    dyad, duplicates = _split_duplicates(cells, dyad, excluded=[*malformed, *blank])
    typed = dyad.with_columns(_typed()).with_columns(_first_problem().alias("problem"))
    rejects += duplicates + _value_rejects(typed.filter(pl.col("problem").is_not_null()))
    if len(rejects) > limits.max_rejects:
        raise too_many_rejects(file, limits.max_rejects, min(rejects)[:3])
    kept = typed.filter(pl.col("problem").is_null())
    restored = kept.select(
        pl.sum_horizontal(pl.col(raw) != pl.col(out) for raw, out in _CODE_FIELDS.items())
        .sum()
        .alias(CAMEO_ZEROS),
        pl.sum_horizontal(_float_notation(raw) for raw in _DATE_FIELDS).sum().alias(FLOAT_DATES),
    ).row(0, named=True)
    normalised.update({what: n for what, n in restored.items() if n})
    return ParsedExport(
        kept.select(list(SCHEMA)),
        _with_raw_text(data, rejects),
        rows_read=cells.height - len(blank),
        normalised=dict(normalised),
    )


def _unzip(content: bytes, file: str, max_bytes: int) -> bytes:
    """The single member of a zipped export; GDELT zips hold exactly one ``.CSV``.

    The member is refused if it says it unpacks to more than ``max_bytes`` and, since that
    size is written by whoever made the zip, also if streaming it passes ``max_bytes``: a
    small zip of zeros must not fill memory before anything looks at it.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = ", ".join(m.filename for m in members) or "nothing"
                raise SourceError(file, f"zip should hold one .CSV file, holds {names}")
            member = members[0]
            too_big = SourceError(
                file,
                f"zip member {member.filename} unpacks to more than "
                f"{cap_text(max_bytes, MAX_UNZIPPED_MB)}",
            )
            if member.file_size > max_bytes:
                raise too_big
            with archive.open(member) as stream:
                data = stream.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise too_big
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise SourceError(file, f"corrupt zip archive ({exc})") from None
    if not data or data.isspace():
        raise SourceError(file, f"zip member {member.filename} is empty")
    return data


def _read_cells(data: bytes) -> pl.DataFrame:
    """The columns in :data:`_READ` as text, plus ``line`` (1-based), one row per line.

    Quoting is off (GDELT never quotes; a stray quote must not swallow lines), so rows and
    lines correspond one to one, blank lines included, and ``line`` is the editor's line
    number. Missing trailing fields come back as empty strings; extra fields are ignored
    here and caught by :func:`_field_counts`.
    """
    return pl.read_csv(
        data,
        separator="\t",
        has_header=False,
        quote_char=None,
        schema=dict.fromkeys(COLUMNS, pl.String()),
        columns=[COLUMNS.index(c) for c in _READ],
        missing_columns="insert",
        extra_columns="ignore",
        empty_string_is_null=False,
        encoding="utf8-lossy",
        row_index_name="line",
        row_index_offset=1,
    ).with_columns(pl.col("line").cast(pl.Int64))


def _field_counts(data: bytes, cells: pl.DataFrame) -> dict[int, tuple[int, bool]]:
    """(number of fields, is blank) for every line that might not have exactly 61 fields.

    Counting tabs line by line in Python would cost more than the whole Polars read, so it
    is done only where needed. A line whose last field (SOURCEURL) is non-empty has at
    least 61 fields; the others (truncated, garbage, blank, or an empty URL) are counted
    exactly. If the file's total tab count then equals 60 per remaining line, none of them
    has extra fields; otherwise every line is counted (slow, but only for broken files).
    """
    suspects = set(cells.filter(pl.col("SOURCEURL") == "")["line"].to_list())
    counts = _count_lines(data, suspects)
    tabs_if_ok = (N_FIELDS - 1) * (cells.height - len(counts))
    tabs_if_ok += sum(n - 1 for n, _ in counts.values())
    if _count_tabs(data) != tabs_if_ok:
        counts = _count_lines(data, None)
    return counts


def _count_tabs(data: bytes, chunk: int = 1 << 20) -> int:
    """Tabs in ``data``; NumPy over cache-sized chunks is about five times ``bytes.count``."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    return sum(
        int(np.count_nonzero(buffer[i : i + chunk] == ord("\t")))
        for i in range(0, len(buffer), chunk)
    )


def _count_lines(data: bytes, wanted: Collection[int] | None) -> dict[int, tuple[int, bool]]:
    """(fields, blank) per wanted line; a blank line is one without tabs and only whitespace."""
    counts = {}
    for line, start, end in _spans(data, wanted):
        tabs = data.count(b"\t", start, end)
        counts[line] = (tabs + 1, tabs == 0 and (start == end or data[start:end].isspace()))
    return counts


def _spans(data: bytes, wanted: Collection[int] | None) -> Iterator[tuple[int, int, int]]:
    """(line, start, end) byte spans of the wanted 1-based lines (every line if None).

    Walks newlines from the top, stopping at the last wanted line, so the cost is paid only
    when some line has to be looked at and grows with how deep that line is.
    """
    last = max(wanted, default=0) if wanted is not None else len(data)
    start, line = 0, 1
    while start < len(data) and line <= last:
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        if wanted is None or line in wanted:
            yield line, start, end
        start, line = end + 1, line + 1


def _check_mostly_wellformed(
    data: bytes, file: str, malformed: dict[int, int], nonblank: int
) -> None:
    """Refuse a file that is not a GDELT export at all, rather than reject all its rows."""
    if 2 * len(malformed) <= nonblank:
        return
    line = min(malformed)
    _, start, end = next(_spans(data, {line}))
    other = _other_delimiter(data[start:end])
    if other is not None:
        raise SourceError(
            file, f"wrong delimiter: expected tabs, the row is split by {other!r}", row=line
        )
    found = malformed[line]
    raise SourceError(
        file,
        f"not a GDELT 2.0 export: {len(malformed)} of {nonblank} rows do not have "
        f"{N_FIELDS} tab-separated fields (this one has {found})",
        row=line,
        field=COLUMNS[found] if found < N_FIELDS else None,
    )


def _other_delimiter(raw: bytes) -> str | None:
    """The delimiter a tab-less row is split by, if some common one splits it into at least
    half of the 61 fields (a comma inside a place name does not count)."""
    if b"\t" in raw:
        return None
    counts = {d: raw.count(d.encode()) for d in (",", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] + 1 >= N_FIELDS // 2 else None


def _is_dyad() -> pl.Expr:
    a1, a2 = pl.col("Actor1CountryCode"), pl.col("Actor2CountryCode")
    usa, chn = DYAD
    return ((a1 == usa) & (a2 == chn)) | ((a1 == chn) & (a2 == usa))


def _malformed_rejects(cells: pl.DataFrame, malformed: dict[int, int]) -> list[Reject]:
    """One reject per row with the wrong number of fields; raw text is filled in later."""
    if not malformed:
        return []
    rows = cells.filter(pl.col("line").is_in(list(malformed)))
    out: list[Reject] = []
    for line, is_dyad in rows.select("line", _is_dyad().alias("dyad")).iter_rows():
        found = malformed[line]
        if found < N_FIELDS:
            field, problem = COLUMNS[found], "truncated or stray row"
        else:
            field, problem = COLUMNS[-1], "extra fields after SOURCEURL"
        actors = (
            "reads as USA–CHN"
            if is_dyad
            else "rejected although it does not read as USA–CHN: its columns cannot be trusted"
        )
        out.append(
            (line, field, f"expected {N_FIELDS} fields, found {found}: {problem}; {actors}", "")
        )
    return out


def _split_duplicates(
    cells: pl.DataFrame, dyad: pl.DataFrame, excluded: list[int]
) -> tuple[pl.DataFrame, list[Reject]]:
    """Keep the first row for each GLOBALEVENTID; a later dyad row with the same id is refused.

    The earlier row may be any well-formed row of the file, dyad or not: GDELT ids are unique,
    so a clash means one of the two rows is corrupt and the first one seen wins.
    """
    first = (
        cells.filter(
            pl.col("GLOBALEVENTID").is_in(dyad["GLOBALEVENTID"].unique().to_list())
            & ~pl.col("line").is_in(excluded)
        )
        .group_by("GLOBALEVENTID")
        .agg(pl.col("line").min().alias("first_line"))
    )
    dyad = dyad.join(first, on="GLOBALEVENTID", how="left", maintain_order="left")
    later = dyad.filter(pl.col("line") != pl.col("first_line"))
    rejects: list[Reject] = [
        (line, "GLOBALEVENTID", f"duplicate key GLOBALEVENTID={key}: first seen on row {seen}", "")
        for line, key, seen in later.select("line", "GLOBALEVENTID", "first_line").iter_rows()
    ]
    return dyad.filter(pl.col("line") == pl.col("first_line")).drop("first_line"), rejects


def _typed() -> list[pl.Expr]:
    """The output columns, converted leniently: a value that does not convert becomes null
    and is caught by :data:`_CHECKS`."""

    def integer(raw: str, dtype: type[pl.DataType] = pl.Int64) -> pl.Expr:
        return pl.col(raw).cast(dtype, strict=False)

    def real(raw: str) -> pl.Expr:
        return pl.col(raw).cast(pl.Float64, strict=False)

    root = cameo.restore_root(pl.col("EventRootCode"))

    return [
        integer("GLOBALEVENTID").alias("global_event_id"),
        _digits("SQLDATE", 8).str.to_date("%Y%m%d", strict=False).alias("event_date"),
        pl.col("Actor1CountryCode").alias("actor1_country"),
        pl.col("Actor2CountryCode").alias("actor2_country"),
        cameo.restore_code(pl.col("EventCode"), root).alias("event_code"),
        cameo.restore_code(pl.col("EventBaseCode"), root).alias("event_base_code"),
        root.alias("event_root_code"),
        integer("QuadClass", pl.Int8).alias("quad_class"),
        real("GoldsteinScale").alias("goldstein"),
        integer("NumMentions").alias("num_mentions"),
        integer("NumSources").alias("num_sources"),
        integer("NumArticles").alias("num_articles"),
        real("AvgTone").alias("avg_tone"),
        _digits("DATEADDED", 14)
        .str.to_datetime("%Y%m%d%H%M%S", time_unit="us", strict=False)
        .alias("date_added"),
        pl.when(pl.col("SOURCEURL") != "").then(pl.col("SOURCEURL")).alias("source_url"),
    ]


def _digits(raw: str, width: int) -> pl.Expr:
    """The text if it is exactly ``width`` digits, else null; Polars' date parsing alone
    would accept '2018051' as 2018-05-01. A value in float notation ('20180508.0',
    '2.0180508E7', from a tool that read the column as numbers) is first written back as
    its digits; a timestamp of 14 digits is still exact as a float."""
    text = pl.col(raw)
    whole = text.cast(pl.Float64, strict=False)
    digits = (
        pl.when(_float_notation(raw) & (whole == whole.floor()))
        .then(whole.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(text)
    )
    return pl.when(digits.str.contains(rf"^\d{{{width}}}$")).then(digits)


def _float_notation(raw: str) -> pl.Expr:
    """Whether the raw text is a number in float notation (and not plain digits)."""
    return pl.col(raw).str.contains(r"^(\d+\.0*|\d(\.\d+)?[eE]\+?\d+)$")


# (GDELT field, what a valid value is, test on the typed frame). The first failing check
# names the field in the reject. SOURCEURL may be empty; every other kept field is required.
_CHECKS: tuple[tuple[str, str, pl.Expr], ...] = (
    ("GLOBALEVENTID", "not an integer event id", pl.col("global_event_id").is_not_null()),
    ("SQLDATE", "not a real date as YYYYMMDD", pl.col("event_date").is_not_null()),
    ("EventCode", "CAMEO event code is missing", pl.col("event_code") != ""),
    ("EventBaseCode", "CAMEO base code is missing", pl.col("event_base_code") != ""),
    ("EventRootCode", "not a CAMEO root code 01–20", pl.col("event_root_code").is_in(ROOT_CODES)),
    ("QuadClass", "not a QuadClass 1–4", pl.col("quad_class").is_in(QUAD_CLASSES)),
    (
        "GoldsteinScale",
        "not a Goldstein score from -10 to +10",
        pl.col("goldstein").is_between(-10, 10),
    ),
    ("NumMentions", "not a count", pl.col("num_mentions") >= 0),
    ("NumSources", "not a count", pl.col("num_sources") >= 0),
    ("NumArticles", "not a count", pl.col("num_articles") >= 0),
    ("AvgTone", "not a finite number", pl.col("avg_tone").is_finite()),
    ("DATEADDED", "not a timestamp as YYYYMMDDHHMMSS", pl.col("date_added").is_not_null()),
)
_WHY = {field: why for field, why, _ in _CHECKS}


def _first_problem() -> pl.Expr:
    """The name of the first field failing its check, or null for a good row."""
    return pl.coalesce(
        [pl.when(~ok.fill_null(False)).then(pl.lit(field)) for field, _, ok in _CHECKS]
    )


def _value_rejects(bad: pl.DataFrame) -> list[Reject]:
    out: list[Reject] = []
    for row in bad.iter_rows(named=True):
        field = row["problem"]
        out.append((row["line"], field, f"{_WHY[field]}: {row[field]!r}", ""))
    return out


def _with_raw_text(data: bytes, rejects: list[Reject]) -> pl.DataFrame:
    """Fill in each reject's raw line, re-reading only those lines."""
    if not rejects:
        return rejects_frame([])
    raw = {
        line: data[start:end].decode("utf-8").rstrip("\r")  # checked UTF-8 by now
        for line, start, end in _spans(data, {r[0] for r in rejects})
    }
    return rejects_frame(sorted((line, f, why, raw[line]) for line, f, why, _ in rejects))


# --------------------------------------------------------------------------- monthly series


def monthly_aggregate(events: pl.DataFrame) -> pl.DataFrame:
    """Monthly USA–CHN event statistics from :func:`parse_export` rows, one row per month.

    Columns:

    * ``month`` (Date, first day of the month of ``event_date``);
    * ``events`` (number of events);
    * ``goldstein_mean`` (mean Goldstein score, −10 conflict .. +10 cooperation);
    * ``quad1`` .. ``quad4`` (events per QuadClass: verbal cooperation, material cooperation,
      verbal conflict, material conflict);
    * ``root_01`` .. ``root_20`` (events per CAMEO root code, zero when none);
    * ``num_mentions`` (total mentions, a measure of attention rather than of events);
    * ``tone_mean`` (mean AvgTone).

    Months without any event are absent rather than zero: the events cannot tell a quiet
    month from a month whose files were not loaded, so filling is left to the caller.
    """
    counts = [
        (pl.col("quad_class") == q).sum().cast(pl.Int64).alias(f"quad{q}") for q in QUAD_CLASSES
    ] + [
        (pl.col("event_root_code") == code).sum().cast(pl.Int64).alias(f"root_{code}")
        for code in ROOT_CODES
    ]
    return (
        events.group_by(pl.col("event_date").dt.truncate("1mo").alias("month"))
        .agg(
            pl.len().cast(pl.Int64).alias("events"),
            stable_mean(pl.col("goldstein")).alias("goldstein_mean"),
            *counts,
            pl.col("num_mentions").sum().cast(pl.Int64).alias("num_mentions"),
            stable_mean(pl.col("avg_tone")).alias("tone_mean"),
        )
        .sort("month")
    )


QUAD_NAMES = {
    1: "verbal_cooperation",
    2: "material_cooperation",
    3: "verbal_conflict",
    4: "material_conflict",
}


def monthly_event_types(events: pl.DataFrame) -> pl.DataFrame:
    """Monthly USA–CHN event counts by kind: what happened, not only how hostile it was.

    Columns: ``month``; one count per QuadClass (:data:`QUAD_NAMES`); one count per CAMEO
    group of :data:`flows.sources.cameo.EVENT_TYPES` (consultations, reduced relations,
    sanctions, coercion, force), matched on the normalised ``event_code``. The groups overlap
    by design (sanctions are part of reduced relations) and are zero in a month with events
    but none of that kind; months without events are absent, as in :func:`monthly_aggregate`.
    """
    quads = [
        (pl.col("quad_class") == q).sum().cast(pl.Int64).alias(name)
        for q, name in QUAD_NAMES.items()
    ]
    return (
        events.group_by(pl.col("event_date").dt.truncate("1mo").alias("month"))
        .agg(*quads, *cameo.event_type_counts(pl.col("event_code")))
        .sort("month")
    )


# --------------------------------------------------------------------------- source

SOURCE = Source(
    name="gdelt",
    description="GDELT 2.0 event exports, USA–CHN dyad events (either direction)",
    table="raw_gdelt_events",
    schema=SCHEMA,
    key=("global_event_id",),
    base_url="http://data.gdeltproject.org/gdeltv2",
    licence="GDELT Project: open data, free for any use with citation "
    "(https://www.gdeltproject.org/about.html#termsofuse); the bundled fixture is recovered "
    "from JaimeLaVie/GDELT_analysis (no licence stated), values unchanged",
    datasets=(
        Dataset(
            "export",
            "jaimelavie_gdelt-analysis/DERIVED_20180508_partial.export.CSV",
            "/20180508000000.export.CSV.zip",
            parse_export,
        ),
    ),
)
