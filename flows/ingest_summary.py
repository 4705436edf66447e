"""An ingest run in words: what the CLI prints, the flow logs and the Prefect UI shows.

Why one module: whoever reads a scheduled run sees the Prefect artifact, whoever runs
``winset ingest`` sees the terminal, and both must say the same thing, including what the
parsers normalised in each file ("normalised: 312 CAMEO codes without leading zeros"), so an
analyst comparing a file with the warehouse knows which cells were rewritten and why they
differ from the bytes on disk.
"""

from __future__ import annotations

from collections import defaultdict

from flows.sources.base import describe_normalised
from flows.warehouse import IngestSummary
from reports.markdown import md_escape

INGEST_KEY = "winset-ingest"  # the newest ingest's summary, one version per run


def totals_line(summary: IngestSummary) -> str:
    """One line of counts for the whole run."""
    return (
        f"Ingested {summary.files} files: {summary.inserted} rows new, {summary.updated} "
        f"changed, {summary.unchanged} unchanged, {summary.rejected} rejected"
    )


def normalised_by_file(summary: IngestSummary) -> dict[str, str]:
    """file -> 'normalised: 312 CAMEO codes without leading zeros, ...', files in run order."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for file, what, n in summary.normalised:
        counts[file][what] = counts[file].get(what, 0) + n
    return {file: f"normalised: {describe_normalised(c)}" for file, c in counts.items()}


def normalised_lines(summary: IngestSummary) -> list[str]:
    """One line per file whose parser normalised something, e.g.
    ``gpr_export.csv: normalised: 1 UTF-8 byte-order mark, 1,512 lines ending in CRLF``."""
    return [f"{file}: {what}" for file, what in normalised_by_file(summary).items()]


def ingest_markdown(summary: IngestSummary) -> str:
    """The run's counts and each file's normalisations, as the Prefect UI shows them."""
    lines = [f"# Ingest {md_escape(summary.run_id)}", "", totals_line(summary) + ".", ""]
    normalised = normalised_by_file(summary)
    if normalised:
        lines += ["| file | normalised |", "| --- | --- |"]
        lines += [
            f"| {md_escape(file)} | {md_escape(what.removeprefix('normalised: '))} |"
            for file, what in normalised.items()
        ]
    else:
        lines.append("No value needed normalising.")
    return "\n".join(lines) + "\n"


def record_ingest_artifact(summary: IngestSummary) -> None:
    """The summary as a keyed markdown artifact on the current flow run."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        markdown=ingest_markdown(summary),
        key=INGEST_KEY,
        description=f"Ingest {summary.run_id}: rows written and values normalised per file.",
    )
