"""China's domestic conditions from NBS via Wind: real GDP growth (quarterly), the official
manufacturing PMI and CPI inflation (monthly), to April 2025.

The width of Beijing's win-set: slow growth, a contracting factory sector or deflation narrow
what its leaders can concede. The figures are the National Bureau of Statistics'; the files are
Wind terminal exports kept in the repository ``SI-RUI-ZHANG/CarbonTrading``
(``01_Data_Raw/02_Macroeconomic_Indicators/``), renamed. The series are a frozen export, not
a feed (Wind is a licensed terminal; NBS publishes no machine-readable file), so the datasets
have no live path: ``winset ingest --live`` reads the bundled files, and refreshing means
exporting new files from Wind with ``--file``.

Format, kept as Wind writes it: GBK-encoded (not UTF-8), an 8-line Chinese header (country,
indicator name, frequency, unit, Wind id, period, source, update date), ``YYYY/M/D,value`` rows
dated on the period's last day, then a blank ``,`` row and ``数据来源：Wind,``. The header's Wind
id (``指标ID``) and frequency (``频率``) are checked, so a file saved under the wrong name is
refused. A file in another encoding is refused with that reason rather than decoded by guess: a
UTF-8 re-save (as the bundle's ``DERIVED_*.utf8.csv`` in the shared collection) would otherwise
decode as GBK into wrong characters without an error.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
from dataclasses import dataclass

import polars as pl

from flows.sources.base import Dataset, Parsed, Source, SourceError, number, rejects_frame

HEADER_LINES = 8
WIND_ENCODING = "gbk"
GBK_DECODED = "file decoded from GBK"  # counted: what the ingest summary says was normalised
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class WindSeries:
    name: str  # the series name in the raw table
    wind_id: str  # 指标ID
    frequency: str  # 频率: 月 (monthly) or 季 (quarterly)


GDP = WindSeries("gdp_real_yoy", "M0039354", "季")
PMI = WindSeries("manufacturing_pmi", "M0017126", "月")
CPI = WindSeries("cpi_yoy", "M0000612", "月")


def decode_gbk(content: bytes, file: str) -> str:
    """Wind's GBK text; UTF-8 (with non-ASCII text) and undecodable bytes are refused."""
    if not content.strip():
        raise SourceError(file, "file is empty")
    if content.startswith(UTF8_BOM):
        raise SourceError(file, "UTF-8 text (byte-order mark); Wind exports are GBK", row=1)
    try:
        content.decode("utf-8")
        utf8 = any(b > 0x7F for b in content)
    except UnicodeDecodeError:
        utf8 = False
    if utf8:
        raise SourceError(file, "UTF-8 text; Wind exports are GBK-encoded (re-export from Wind)")
    try:
        return content.decode(WIND_ENCODING)
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise SourceError(file, f"not GBK text (byte {exc.start})", row=line) from None


def parse_wind(series: WindSeries):
    """A parser for one Wind export: (series, period_end, value) rows."""

    def parse(content: bytes, file: str) -> Parsed:
        lines = decode_gbk(content, file).splitlines()
        header = _header(lines, file)
        for label, expected in (("指标ID", series.wind_id), ("频率", series.frequency)):
            if header.get(label) != expected:
                found = header.get(label, "nothing")
                line = list(header).index(label) + 1 if label in header else None
                raise SourceError(
                    file, f"expected {expected!r}, found {found!r}", row=line, field=label
                )
        kept: list[tuple[dt.date, float | None]] = []
        rejects: list[tuple[int, str | None, str, str]] = []
        seen: dict[dt.date, int] = {}
        for line, raw in enumerate(lines[HEADER_LINES:], start=HEADER_LINES + 1):
            cells = next(csv.reader([raw]), [])
            if not cells or not cells[0].strip():
                break  # the footer: a blank row, then the source note
            if len(cells) != 2:
                rejects.append((line, None, f"expected 2 fields, found {len(cells)}", raw))
                continue
            try:
                day = _period_end(cells[0], series.frequency)
            except ValueError as exc:
                rejects.append((line, "date", str(exc), raw))
                continue
            try:
                value = number()(cells[1])
            except ValueError as exc:
                rejects.append((line, "value", str(exc), raw))
                continue
            if day in seen:
                reason = f"duplicate key period_end={day}: first seen on row {seen[day]}"
                rejects.append((line, "date", reason, raw))
                continue
            seen[day] = line
            kept.append((day, value))
        rows = pl.DataFrame(
            {
                "series": [series.name] * len(kept),
                "period_end": [d for d, _ in kept],
                "value": [v for _, v in kept],
            },
            schema=SCHEMA,
        )
        return Parsed(rows, rejects_frame(rejects), normalised={GBK_DECODED: 1})

    return parse


def _header(lines: list[str], file: str) -> dict[str, str]:
    """The 8 label,value lines above the data; the first must be Wind's 国家 (country)."""
    if len(lines) < HEADER_LINES or not lines[0].startswith("国家,"):
        raise SourceError(file, "not a Wind export: expected the 国家 header line", row=1)
    header = {}
    for line in lines[:HEADER_LINES]:
        label, _, value = line.partition(",")
        header[label.strip()] = value.strip()
    return header


def _period_end(text: str, frequency: str) -> dt.date:
    """A ``YYYY/M/D`` date that must be the last day of a month (of a quarter, if quarterly)."""
    try:
        day = dt.datetime.strptime(text.strip(), "%Y/%m/%d").date()
    except ValueError:
        raise ValueError(f"not a date in format YYYY/M/D: {text!r}") from None
    if day.day != calendar.monthrange(day.year, day.month)[1]:
        raise ValueError(f"not the last day of a month: {text!r}")
    if frequency == "季" and day.month % 3:
        raise ValueError(f"not the end of a quarter: {text!r}")
    return day


SCHEMA: dict[str, pl.DataType] = {
    "series": pl.String(),
    "period_end": pl.Date(),
    "value": pl.Float64(),
}

SOURCE = Source(
    name="china_macro",
    description="China (NBS via Wind): real GDP growth quarterly, manufacturing PMI and CPI "
    "monthly, to 2025-04",
    table="raw_china_macro",
    schema=SCHEMA,
    key=("series", "period_end"),
    base_url="",
    licence="None stated (NBS figures exported from Wind; Wind's terms apply)",
    datasets=tuple(
        Dataset(s.name, f"wind_china-macro/{file}", "", parse_wind(s))
        for s, file in (
            (GDP, "china_gdp_real_yoy_quarterly.gbk.csv"),
            (PMI, "china_manufacturing_pmi_monthly.gbk.csv"),
            (CPI, "china_cpi_yoy_monthly.gbk.csv"),
        )
    ),
)
