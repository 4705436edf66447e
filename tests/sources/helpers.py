"""Shared test helpers for connectors: the real bundled file, and small edits of it."""

from __future__ import annotations

from pathlib import Path

from flows.sources.base import Dataset, Parsed


def parse_bundled(dataset: Dataset, data_dir: Path) -> Parsed:
    """The dataset's real bundled file, parsed."""
    return dataset.parse((data_dir / dataset.bundled).read_bytes(), dataset.bundled)


def edited_excerpt(
    dataset: Dataset, data_dir: Path, tmp_path: Path, rows: int, old: str, new: str
) -> bytes:
    """The header and first ``rows`` rows of the bundled file (line endings kept), with the
    first ``old`` replaced by ``new``: a real-format file with one known defect."""
    lines = (data_dir / dataset.bundled).read_bytes().decode().splitlines(keepends=True)
    text = "".join(lines[: rows + 1])
    assert old in text
    path = tmp_path / "excerpt.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return path.read_bytes()
