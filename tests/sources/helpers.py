"""Shared test helpers for connectors: the real bundled file, and small edits of it."""

from __future__ import annotations

import csv
import io
import json
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


def votehub_json(csv_content: bytes) -> bytes:
    """The VoteHub API's shape for the bundled approval CSV: one JSON object per poll with the
    fields the repository's normaliser reads (``id``, ``start_date``, ``end_date``,
    ``pollster``, ``sponsors``, ``population``, ``sample_size``, ``answers``, ``partisan``,
    ``internal``, ``url``), so the live path is tested on the bundle's own polls."""
    polls = []
    for row in csv.DictReader(io.StringIO(csv_content.decode("utf-8"))):
        polls.append(
            {
                "id": row["poll_id"],
                "subject": "Donald Trump",
                "poll_type": "approval",
                "pollster": row["pollster"],
                "sponsors": row["sponsor"].split("; ") if row["sponsor"] else [],
                "start_date": row["date_start"],
                "end_date": row["date_end"],
                "population": row["population"].lower(),
                "sample_size": int(row["n"]) if row["n"] else None,
                "answers": [
                    {"choice": "Approve", "pct": float(row["approve"])},
                    {"choice": "Disapprove", "pct": float(row["disapprove"])},
                ],
                "partisan": row["partisan"] or None,
                "internal": row["internal"] == "Y",
                "url": row["source_url"],
            }
        )
    return json.dumps(polls, ensure_ascii=False).encode("utf-8")
