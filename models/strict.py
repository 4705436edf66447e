"""The base class of every schema a user writes in YAML (model config, scenarios, sweep grids,
deployments).

Why one base: unknown keys are errors (a misspelt ``drviers:`` must fail loudly, naming the
key, instead of being silently ignored) and validated values are frozen, so a config that
was hashed cannot change afterwards.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
