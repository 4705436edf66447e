"""Caps on what one input file may cost, met through the ``winset`` command line.

Each case is built from the real bundle at a small size, with the cap lowered through its
environment variable, so the test is quick and the cap is what refuses the file: one error
line naming the file, the cap and its variable, exit status 2, the warehouse unchanged.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from flows.sources import fred, gdelt
from flows.sources.base import SourceError, read_csv, text
from flows.sources.limits import FileLimits, read_capped
from tests.test_ingest_flow import (
    assert_same,
    cli,
    fails_cleanly,
    ingest_file,
    one_error_line,
    rejected,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("prefect_server")
EXPCH = fred.SOURCE.dataset("EXPCH")
GDELT_EXPORT = gdelt.SOURCE.dataset("export")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> Path:
    """A warehouse holding the real FRED series, to prove a refused file changes nothing
    (each test compares it before and after, so the module shares one)."""
    db = tmp_path_factory.mktemp("caps") / "w.duckdb"
    code, _, err = cli("ingest", "--source", "fred", "--db", str(db))
    assert code == 0, err
    return db


@pytest.fixture
def expch(data_dir: Path) -> bytes:
    return (data_dir / EXPCH.bundled).read_bytes()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return monkeypatch


def repeated_row_file(folder: Path, expch: bytes, copies: int) -> Path:
    """The header and one real row repeated: every copy after the first is a duplicate key."""
    header, row = expch.splitlines()[:2]
    path = folder / "EXPCH.csv"
    path.write_bytes(header + b"\n" + (row + b"\n") * copies)
    return path


def test_a_file_over_the_size_cap_is_refused_before_reading(
    warehouse: Path, tmp_path: Path, expch: bytes, env: pytest.MonkeyPatch
) -> None:
    path = repeated_row_file(tmp_path, expch, 60_000)  # over 1 MB
    size = path.stat().st_size
    env.setenv("WINSET_MAX_FILE_MB", "0.5")
    fails_cleanly(
        warehouse,
        path,
        f"{path}: file is {size / 2**20:,.1f} MB, more than the cap of 524,288 bytes "
        "(WINSET_MAX_FILE_MB)",
    )


def test_max_mb_caps_your_files_as_well_as_downloads(
    warehouse: Path, tmp_path: Path, expch: bytes
) -> None:
    path = tmp_path / "EXPCH.csv"
    path.write_bytes(expch)
    before = snapshot(warehouse)
    code, _, err = cli(
        "ingest", "--source", "fred:EXPCH", "--file", str(path), "--max-mb", "0.001",
        "--db", str(warehouse),
    )  # fmt: skip
    assert code == 2
    assert one_error_line(err) == (
        f"error: {path}: file is {len(expch):,} bytes, more than the cap of 1,048 bytes "
        "(WINSET_MAX_FILE_MB)"
    )
    assert_same(before, snapshot(warehouse))


def test_a_bad_cap_setting_names_its_variable(warehouse: Path, env: pytest.MonkeyPatch) -> None:
    env.setenv("WINSET_MAX_REJECTS", "many")
    before = snapshot(warehouse)
    code, _, err = cli("ingest", "--source", "fred", "--db", str(warehouse))
    assert code == 2
    assert one_error_line(err) == (
        "error: WINSET_MAX_REJECTS: expected a whole number above 0, got 'many'"
    )
    assert_same(before, snapshot(warehouse))


def test_a_zip_bomb_is_refused_while_unzipping(
    warehouse: Path, tmp_path: Path, env: pytest.MonkeyPatch
) -> None:
    """4 MB of zeros zip to about 4 KB; with a 1 MB cap the zip is refused without
    unpacking more than the cap (its declared size is checked first)."""
    path = tmp_path / "20180508000000.export.CSV.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("20180508000000.export.CSV", bytes(4 * 2**20))
    assert path.stat().st_size < 10_000
    env.setenv("WINSET_MAX_UNZIPPED_MB", "1")
    fails_cleanly(
        warehouse,
        path,
        f"{path}: zip member 20180508000000.export.CSV unpacks to more than the cap of "
        "1.0 MB (WINSET_MAX_UNZIPPED_MB)",
        source="gdelt",
    )


def test_millions_of_rejects_stop_early_and_refuse_the_file(
    warehouse: Path, tmp_path: Path, expch: bytes, env: pytest.MonkeyPatch
) -> None:
    path = repeated_row_file(tmp_path, expch, 500)
    env.setenv("WINSET_MAX_REJECTS", "100")
    first = expch.splitlines()[1].decode().split(",")[0]
    fails_cleanly(
        warehouse,
        path,
        f"{path}: more than 100 rejected rows (the cap, WINSET_MAX_REJECTS): the file is "
        f"refused whole; the first, row 3 field 'observation_date': duplicate key "
        f"observation_date={first}: first seen on row 2",
    )


def test_rejects_up_to_the_cap_are_stored(
    warehouse: Path, tmp_path: Path, expch: bytes, env: pytest.MonkeyPatch
) -> None:
    path = repeated_row_file(tmp_path, expch, 101)  # 100 duplicates
    env.setenv("WINSET_MAX_REJECTS", "100")
    env.setenv("WINSET_MAX_REJECT_SHARE", "100")  # 99% of the rows: allowed here, for the cap
    code, _, err = ingest_file(warehouse, path)
    assert code == 0, err
    assert len([r for r in rejected(warehouse) if r[0] == str(path)]) == 100


def test_the_csv_reader_counts_every_kind_of_reject_against_the_cap() -> None:
    content = b"name\n" + b"a,b\n" * 5  # five rows with a stray field each
    with pytest.raises(SourceError, match=r"more than 3 rejected rows .* row 2: expected 1"):
        read_csv(content, "f.csv", {"name": text()}, max_rejects=3)
    assert read_csv(content, "f.csv", {"name": text()}, max_rejects=5).rejects.height == 5


def test_gdelt_refuses_windows_1252_bytes(
    tmp_path: Path, data_dir: Path, env: pytest.MonkeyPatch
) -> None:
    """A re-encoded export would store U+FFFD over good text; like every other source, GDELT
    refuses bytes that are not UTF-8, naming the row."""
    db = tmp_path / "w.duckdb"
    real = (data_dir / GDELT_EXPORT.bundled).read_bytes()
    path = tmp_path / "20180508000000.export.CSV"
    lines = real.split(b"\n")
    assert b"\thttp" in lines[4]
    lines[4] = lines[4].replace(b"\thttp", b"\thttp://caf\xe9.example/", 1)  # 0xE9 = é in 1252
    path.write_bytes(b"\n".join(lines))
    code, _, err = cli("ingest", "--source", "gdelt", "--db", str(db))
    assert code == 0, err
    before = snapshot(db)
    code, _, err = ingest_file(db, path, "gdelt")
    assert code == 2
    assert one_error_line(err).startswith(f"error: {path}, row 5: not UTF-8 text (byte ")
    assert_same(before, snapshot(db))


@pytest.mark.parametrize("kind", ["directory", "symlink loop", "missing"])
def test_file_that_is_not_a_file_is_named_for_what_it_is(
    warehouse: Path, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "EXPCH.csv"
    if kind == "directory":
        path.mkdir()
        expected = "is a directory, not a file"
    elif kind == "symlink loop":
        os.symlink(path, path)
        expected = "cannot read (Too many levels of symbolic links)"
    else:
        expected = "no such file"
    fails_cleanly(warehouse, path, f"{path}: {expected}")


def test_read_capped_reads_a_file_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1000)
    assert read_capped(path, 1000) == b"x" * 1000
    with pytest.raises(SourceError, match="1,000 bytes, more than the cap of 999 bytes"):
        read_capped(path, 999)
    assert FileLimits.from_env({}).max_rejects == 10_000
