"""CAMEO event codes: the GDELT lookup table, leading zeros restored, and the event types.

CAMEO codes are text with meaningful leading zeros ("042" make a visit, "0211" appeal for
economic cooperation). Files that passed through a spreadsheet or an integer column lose them:
"42", "211", root "4". Read as written, such rows would fail the root-code check or, worse,
land in the wrong group ("10" is the root *demand*, while "010" is a public statement). The
row's root code settles it: a code is given back one zero only when the padded code is a real
CAMEO code and starts with the row's root, so an ambiguous code is never guessed.

:data:`EVENT_TYPES` are the groups the monthly panel counts, named by CAMEO code prefixes;
the test suite checks each prefix's description in the bundled lookup
(``data/gdelt_cameo_lookups/CAMEO.eventcodes.txt``, see ``data/PROVENANCE.md``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

LOOKUP = Path(__file__).resolve().parents[2] / "data/gdelt_cameo_lookups/CAMEO.eventcodes.txt"

# name -> (what it counts, CAMEO code prefixes of the normalised EventCode)
EVENT_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "consult": ("consultations (CAMEO root 04)", ("04",)),
    "reduce_relations": ("reduce relations, incl. sanctions (root 16)", ("16",)),
    "sanctions": ("impose embargo, boycott or sanctions (163)", ("163",)),
    "coerce": ("coercion (root 17)", ("17",)),
    "force": ("assault, fight, mass violence (roots 18-20)", ("18", "19", "20")),
}


@cache
def event_codes(path: Path = LOOKUP) -> dict[str, str]:
    """CAMEO code -> description, codes kept as text ("010", not 10)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != ["CAMEOEVENTCODE", "EVENTDESCRIPTION"]:
        raise ValueError(f"{path}: not the GDELT CAMEO event code lookup")
    return {code: text.strip() for code, text in (line.split("\t", 1) for line in lines[1:])}


def restore_root(root: pl.Expr) -> pl.Expr:
    """A root code written as one digit ("4") becomes "04"; roots are 01 to 20."""
    return pl.when(root.str.contains(r"^[1-9]$")).then(pl.lit("0") + root).otherwise(root)


def restore_code(code: pl.Expr, root: pl.Expr) -> pl.Expr:
    """``code`` with its leading zero back when it lost one (``root`` already restored)."""
    padded = pl.lit("0") + code
    lost_zero = (
        ~code.str.starts_with(root)
        & padded.str.starts_with(root)
        & padded.is_in(list(event_codes()))
    )
    return pl.when(lost_zero).then(padded).otherwise(code)


def event_type_counts(code: pl.Expr) -> list[pl.Expr]:
    """One count per :data:`EVENT_TYPES` entry over the rows of a group, zero when none."""
    return [
        pl.any_horizontal([code.str.starts_with(p) for p in prefixes])
        .sum()
        .cast(pl.Int64)
        .alias(name)
        for name, (_, prefixes) in EVENT_TYPES.items()
    ]
