"""What every schema a user writes in YAML shares (model config, scenarios, sweep grids,
deployments): the strict base class, the YAML reader and the error lines.

Why one place: unknown keys are errors (a misspelt ``drviers:`` must fail loudly, naming the
key, instead of being silently ignored), validated values are frozen (a hashed config cannot
change afterwards), and every file error reads the same way, ``file: field: problem``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MAX_YAML_BYTES = 1024 * 1024  # the largest bundled YAML is a few KB; a user's is typed by hand


def read_yaml(path: Path, error: type[ValueError]) -> Any:
    """``safe_load`` a user's file; an unreadable, empty, oversized or malformed file raises
    ``error`` naming the file (and the line, when the parser knows it).

    Why a size cap: these files are written by hand, and the YAML parser holds a whole
    document's nodes in memory, so a file of hundreds of MB is a mistake to refuse early."""
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise error(f"{path}: larger than {MAX_YAML_BYTES:,} bytes, too large for a YAML file")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}:{where} not valid YAML ({problem})") from None
    if loaded is None:
        raise error(f"{path}: the file is empty")
    return loaded


def field_errors(exc: ValidationError) -> list[str]:
    """One ``field.path: problem`` line per validation error."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{field}: {message}" if field else message)
    return lines
