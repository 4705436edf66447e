"""Systematic rejects refuse a file; unambiguous spellings are normalised and counted.

Every case is a real bundled file with one known corruption applied (a shifted column, float
notation, CRLF and a byte-order mark, one stray row), parsed by its real connector and
checked by :func:`flows.sources.limits.check_rejects`, the rule every ingest path applies.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.sources import approval, fred, gdelt
from flows.sources.base import (
    BOM,
    CRLF,
    FLOAT_DATES,
    SourceError,
    float_notation_whole,
)
from flows.sources.limits import FileLimits, check_rejects, reject_cause

EXPCH = fred.SOURCE.dataset("EXPCH")
DEXCHUS = fred.SOURCE.dataset("DEXCHUS")
GDELT_EXPORT = gdelt.SOURCE.dataset("export")
LIMITS = FileLimits()  # the defaults: 2% and more than 4 rejects alike


def bundled_lines(data_dir: Path, dataset) -> list[bytes]:
    return (data_dir / dataset.bundled).read_bytes().splitlines()


def shift_one_column(line: bytes) -> bytes:
    """An extra tab inside Actor1Name: every field after it moves one column right."""
    cells = line.split(b"\t")
    return b"\t".join([*cells[:6], b"", *cells[6:]])


def test_gdelt_export_with_a_column_shifted_in_30_percent_of_rows_is_refused(
    data_dir: Path,
) -> None:
    lines = bundled_lines(data_dir, GDELT_EXPORT)
    shifted = {i for i in range(len(lines)) if i % 10 < 3}  # 30% of rows, spread through
    content = b"\n".join(shift_one_column(x) if i in shifted else x for i, x in enumerate(lines))
    parsed = GDELT_EXPORT.parse(content, "shifted.export.CSV")
    assert parsed.rejects.height == len(shifted)  # the parser alone would keep the other 70%
    with pytest.raises(SourceError) as caught:
        check_rejects(parsed, "shifted.export.CSV", LIMITS)
    message = str(caught.value)
    assert message.startswith("shifted.export.CSV: systematic rejects, the file is refused whole")
    assert f"{len(shifted):,} of {len(lines):,} rows rejected (30.0%)" in message
    assert (
        f"{len(shifted):,} alike on field 'SOURCEURL' (more than 4, WINSET_MAX_SAME_CAUSE)"
        in message
    )
    first = min(shifted) + 1  # 1-based line of the first shifted row
    assert f"e.g. row {first} field 'SOURCEURL': expected 61 fields, found 62" in message
    assert "\n" not in message


def test_fred_dates_in_float_notation_are_normalised_and_counted(data_dir: Path) -> None:
    original = (data_dir / EXPCH.bundled).read_bytes()
    header, *body = original.splitlines()
    floaty = [
        b"%s.0,%s" % (day.replace(b"-", b""), value)
        if i % 2
        else b"%.7E,%s" % (int(day.replace(b"-", b"")), value)
        for i, (day, value) in enumerate(line.split(b",") for line in body)
    ]
    assert floaty[0].startswith(b"2.0160101E+07,") and floaty[1].startswith(b"20160201.0,")
    parsed = check_rejects(EXPCH.parse(b"\n".join([header, *floaty]), "EXPCH.csv"), "EXPCH.csv")
    assert parsed.rejects.is_empty()
    assert parsed.rows.equals(EXPCH.parse(original, EXPCH.bundled).rows)
    assert parsed.normalised == {FLOAT_DATES: len(body)}


def test_a_float_that_is_not_a_whole_date_is_still_rejected(data_dir: Path) -> None:
    original = (data_dir / EXPCH.bundled).read_bytes()
    content = original.replace(b"2016-03-01,", b"20160301.5,").replace(
        b"2016-04-01,", b"20160431.0,"
    )
    parsed = EXPCH.parse(content, "EXPCH.csv")
    assert parsed.rejects["row"].to_list() == [4, 5]
    assert parsed.normalised == {}
    assert float_notation_whole("1985.0") == 1985 and float_notation_whole("1985.5") is None


def test_crlf_and_byte_order_mark_are_accepted_and_counted(data_dir: Path) -> None:
    original = (data_dir / EXPCH.bundled).read_bytes()
    lines = original.splitlines()
    content = b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n"
    parsed = check_rejects(EXPCH.parse(content, "EXPCH.csv"), "EXPCH.csv")
    assert parsed.rows.equals(EXPCH.parse(original, EXPCH.bundled).rows)
    assert parsed.normalised == {BOM: 1, CRLF: len(lines)}


def test_gdelt_float_timestamps_bom_and_crlf_are_normalised(data_dir: Path) -> None:
    lines = bundled_lines(data_dir, GDELT_EXPORT)

    def floaty(line: bytes) -> bytes:
        cells = line.split(b"\t")
        cells[1] += b".0"  # SQLDATE
        cells[59] = b"%.13E" % int(cells[59])  # DATEADDED, 14 digits
        return b"\t".join(cells)

    content = b"\xef\xbb\xbf" + b"\r\n".join(floaty(x) for x in lines) + b"\r\n"
    parsed = check_rejects(GDELT_EXPORT.parse(content, "f.export.CSV"), "f.export.CSV")
    original = GDELT_EXPORT.parse(b"\n".join(lines), "o.export.CSV")
    assert parsed.rows.equals(original.rows) and parsed.rejects.is_empty()
    kept = original.rows.height
    assert parsed.normalised == {BOM: 1, CRLF: len(lines), FLOAT_DATES: 2 * kept}


def test_one_stray_row_is_kept_as_a_reject_and_the_file_accepted(data_dir: Path) -> None:
    lines = bundled_lines(data_dir, GDELT_EXPORT)
    content = b"\n".join([*lines[:100], b"<html>stray</html>", *lines[100:]])
    parsed = check_rejects(GDELT_EXPORT.parse(content, "s.export.CSV"), "s.export.CSV", LIMITS)
    assert parsed.rejects["row"].to_list() == [101]
    assert parsed.rows.height == GDELT_EXPORT.parse(b"\n".join(lines), "o").rows.height


def _dexchus_with_bad_values(data_dir: Path, count: int) -> bytes:
    """The real DEXCHUS file (2,610 rows) with ``count`` rates written as 'n.a.'."""
    header, *body = bundled_lines(data_dir, DEXCHUS)
    step = len(body) // (count + 1)
    for i in range(1, count + 1):
        day, _ = body[i * step].split(b",")
        body[i * step] = day + b",n.a."
    return b"\n".join([header, *body])


def test_a_handful_of_rejects_with_one_cause_refuse_a_file_below_the_share(
    data_dir: Path,
) -> None:
    parsed = DEXCHUS.parse(_dexchus_with_bad_values(data_dir, 5), "DEXCHUS.csv")
    assert parsed.rejects.height / parsed.data_rows < LIMITS.max_reject_share
    with pytest.raises(SourceError) as caught:
        check_rejects(parsed, "DEXCHUS.csv", LIMITS)
    message = str(caught.value)
    assert "5 of 2,610 rows rejected (0.2%)" in message
    assert "5 alike on field 'DEXCHUS' (more than 4, WINSET_MAX_SAME_CAUSE)" in message
    row = parsed.rejects["row"][0]
    assert f"e.g. row {row} field 'DEXCHUS': not a number: 'n.a.'" in message
    four = DEXCHUS.parse(_dexchus_with_bad_values(data_dir, 4), "DEXCHUS.csv")
    assert check_rejects(four, "DEXCHUS.csv", LIMITS).rejects.height == 4


def test_more_than_the_share_of_mixed_rejects_refuses_a_file(data_dir: Path) -> None:
    original = (data_dir / EXPCH.bundled).read_bytes()  # 121 rows: 3 rejects are 2.5%
    content = (
        original.replace(b"2016-02-01,", b"2016-02-30,")
        .replace(b"2016-03-01,8925.561211", b"2016-03-01,n/a?")
        .replace(b"2016-05-01,", b"2016-01-01,")
    )
    parsed = EXPCH.parse(content, "EXPCH.csv")
    assert (
        len(set(parsed.rejects["field"] + parsed.rejects["reason"].map_elements(reject_cause))) == 3
    )
    with pytest.raises(SourceError, match=re.escape("3 of 121 rows rejected (2.5%), more than 2%")):
        check_rejects(parsed, "EXPCH.csv", LIMITS)
    loose = FileLimits(max_reject_share=0.03)
    assert check_rejects(parsed, "EXPCH.csv", loose).rejects.height == 3


def test_repeated_keys_of_a_real_compilation_are_not_a_pattern(data_dir: Path) -> None:
    """The bundled approval polls repeat some keys (53 of 66 rejects, 0.5% of the rows): the
    file is accepted, as it always was, with its rejects kept."""
    dataset = approval.SOURCE.datasets[0]
    parsed = dataset.parse((data_dir / dataset.bundled).read_bytes(), dataset.bundled)
    duplicates = parsed.rejects.filter(parsed.rejects["reason"].str.starts_with("duplicate key"))
    assert (
        duplicates.height > LIMITS.max_same_cause and 2 * duplicates.height > parsed.rejects.height
    )
    assert check_rejects(parsed, dataset.bundled, LIMITS) is parsed


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("WINSET_MAX_REJECT_SHARE", "5", {"max_reject_share": 0.05}),
        ("WINSET_MAX_REJECT_SHARE", "0.5", {"max_reject_share": 0.005}),
        ("WINSET_MAX_SAME_CAUSE", "20", {"max_same_cause": 20}),
    ],
)
def test_the_thresholds_are_set_by_environment(
    variable: str, value: str, expected: dict[str, float]
) -> None:
    limits = FileLimits.from_env({variable: value})
    assert {k: getattr(limits, k) for k in expected} == pytest.approx(expected)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "WINSET_MAX_REJECT_SHARE",
            "two",
            "WINSET_MAX_REJECT_SHARE: expected a percentage above 0",
        ),
        (
            "WINSET_MAX_REJECT_SHARE",
            "150",
            "WINSET_MAX_REJECT_SHARE: expected a percentage up to 100",
        ),
        ("WINSET_MAX_SAME_CAUSE", "2.5", "WINSET_MAX_SAME_CAUSE: expected a whole number above 0"),
    ],
)
def test_a_bad_threshold_names_its_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FileLimits.from_env({variable: value})
