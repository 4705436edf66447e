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


def read_yaml(path: Path, error: type[ValueError]) -> Any:
    """``safe_load`` a user's file; unreadable or malformed YAML raises ``error`` naming the
    file (and the line, when the parser knows it)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}:{where} not valid YAML ({problem})") from None


def field_errors(exc: ValidationError) -> list[str]:
    """One ``field.path: problem`` line per validation error."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{field}: {message}" if field else message)
    return lines
