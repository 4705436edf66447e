"""China's GDP, PMI and CPI from Wind: GBK decoded explicitly, Wind's header checked."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import SourceError
from flows.sources.china_macro import SOURCE

GDP, PMI, CPI = (SOURCE.dataset(n) for n in ("gdp_real_yoy", "manufacturing_pmi", "cpi_yoy"))


def raw(data_dir: Path, dataset=PMI) -> bytes:
    return (data_dir / dataset.bundled).read_bytes()


def gbk_edit(data_dir: Path, old: str, new: str, dataset=PMI) -> bytes:
    text = raw(data_dir, dataset).decode("gbk")
    assert old in text
    return text.replace(old, new, 1).encode("gbk")


@pytest.mark.parametrize(
    ("dataset", "rows", "first", "last", "last_value"),
    [
        # PROVENANCE 13: GDP 1992Q1-2025Q1 (2025Q1 = 5.4), PMI 2005-01 to 2025-04 (49.0),
        # CPI 1987-01 to 2025-04.
        (GDP, 133, dt.date(1992, 3, 31), dt.date(2025, 3, 31), 5.4),
        (PMI, 244, dt.date(2005, 1, 31), dt.date(2025, 4, 30), 49.0),
        (CPI, 460, dt.date(1987, 1, 31), dt.date(2025, 4, 30), -0.1),
    ],
)
def test_bundled_files_match_provenance(
    data_dir: Path, dataset, rows: int, first: dt.date, last: dt.date, last_value: float
) -> None:
    parsed = dataset.parse(raw(data_dir, dataset), dataset.bundled)
    assert parsed.rejects.is_empty()
    assert parsed.rows.schema == pl.Schema(SOURCE.schema)
    assert parsed.rows.height == rows
    assert (parsed.rows["period_end"].min(), parsed.rows["period_end"].max()) == (first, last)
    assert parsed.rows.sort("period_end")["value"][-1] == last_value


def test_values_equal_a_plain_gbk_read(data_dir: Path) -> None:
    """Every data row below the 8 header lines, up to the blank footer row, read with csv."""
    lines = raw(data_dir, CPI).decode("gbk").splitlines()[8:]
    expected = []
    for cells in csv.reader(lines):
        if not cells[0]:
            break
        expected.append((dt.datetime.strptime(cells[0], "%Y/%m/%d").date(), float(cells[1])))
    rows = CPI.parse(raw(data_dir, CPI), "cpi.csv").rows
    assert rows.select("period_end", "value").rows() == expected


def test_utf8_file_is_refused_naming_the_encoding(data_dir: Path) -> None:
    utf8 = raw(data_dir).decode("gbk").encode("utf-8")
    with pytest.raises(SourceError, match="UTF-8 text; Wind exports are GBK"):
        PMI.parse(utf8, "pmi.csv")
    with pytest.raises(SourceError, match="byte-order mark"):
        PMI.parse(b"\xef\xbb\xbf" + utf8, "pmi.csv")


def test_bytes_that_are_not_gbk_are_refused_with_their_line(data_dir: Path) -> None:
    content = raw(data_dir)
    cut = content.index(b"2005/1/31")
    broken = content[:cut] + b"\x80" + content[cut:]
    with pytest.raises(SourceError, match="not GBK text") as caught:
        PMI.parse(broken, "pmi.csv")
    assert caught.value.row == 9


def test_a_file_under_the_wrong_name_is_refused_by_its_wind_id(data_dir: Path) -> None:
    with pytest.raises(SourceError) as caught:
        CPI.parse(raw(data_dir, PMI), "cpi.csv")
    assert caught.value.field == "指标ID" and "M0000612" in str(caught.value)
    with pytest.raises(SourceError) as caught:
        GDP.parse(gbk_edit(data_dir, "M0017126", "M0039354"), "gdp.csv")
    assert caught.value.field == "频率"  # the right id, but a monthly series


def test_a_file_without_winds_header_is_refused(data_dir: Path) -> None:
    with pytest.raises(SourceError, match="not a Wind export"):
        PMI.parse(gbk_edit(data_dir, "国家,中国", "country,China"), "pmi.csv")


def test_bad_rows_are_rejected_with_reasons(data_dir: Path) -> None:
    content = gbk_edit(data_dir, "2005/2/28,54.5", "2005/2/27,54.5")
    parsed = PMI.parse(content, "pmi.csv")
    reject = parsed.rejects.row(0, named=True)
    assert (reject["row"], reject["field"]) == (10, "date")
    assert "last day of a month" in reject["reason"]
    parsed = PMI.parse(gbk_edit(data_dir, "2005/2/28,54.5", "2005/2/28,n/a?"), "pmi.csv")
    assert parsed.rejects.select("row", "field").row(0) == (10, "value")
    assert parsed.rows.height == 243
    parsed = GDP.parse(gbk_edit(data_dir, "1992/3/31,", "1992/4/30,", GDP), "gdp.csv")
    assert "end of a quarter" in parsed.rejects.row(0, named=True)["reason"]


def test_datasets_have_no_live_path() -> None:
    assert all(d.live_path == "" for d in SOURCE.datasets)
