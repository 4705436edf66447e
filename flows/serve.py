"""``winset serve``: the deployments of ``prefect.yaml``, served from one long-running process.

Why ``prefect.yaml`` is read rather than restated here: it is the file Prefect's own tooling
(``prefect deploy``) reads, so its names, descriptions, cron schedules, time zones and entry
points stay the single source of truth. Why ``serve`` and not a work pool: one machine runs
winset, and a served process needs no worker or pool to set up; it registers the deployments,
lets the server create their scheduled runs, and starts each run in a subprocess.

Served runs share the process's environment (``WINSET_DB``, ``WINSET_VAR_DIR``, ...), and
``--db`` / ``--config`` become the deployments' default parameters. The runner executes one
run at a time: the warehouse has a single writer, so a run that comes due while another is
busy waits for it instead of failing on the lock.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows import settings
from models.strict import StrictModel, field_errors, read_yaml

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

PROJECT_FILE = settings.PROJECT_ROOT / "prefect.yaml"
_ENTRYPOINT = r"^[A-Za-z_][\w/]*\.py:[A-Za-z_]\w*$"


class ServeError(ValueError):
    """A ``prefect.yaml`` that cannot be served; one line naming the file and field."""


class CronEntry(StrictModel):
    """One schedule: a cron line in a time zone (IANA name)."""

    cron: str
    timezone: str = "UTC"
    active: bool = True

    @model_validator(mode="after")
    def _valid_for_prefect(self) -> CronEntry:
        from prefect.client.schemas.schedules import CronSchedule

        try:  # Prefect's own validation, so a schedule the server would refuse fails here
            CronSchedule(cron=self.cron, timezone=self.timezone)
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return self


class _WorkPool(StrictModel):
    name: None = Field(None, description="served deployments use no work pool")


class DeploymentSpec(StrictModel):
    """A deployment as ``prefect.yaml`` declares it (the keys winset serves, nothing else)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    entrypoint: str = Field(pattern=_ENTRYPOINT, description="path/to/file.py:flow_function")
    schedules: tuple[CronEntry, ...] = ()
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()
    work_pool: _WorkPool | None = None

    @property
    def module(self) -> str:
        """``flows/pipeline.py:pipeline`` -> ``flows.pipeline`` (imported, not run as a script)."""
        path = self.entrypoint.partition(":")[0]
        return path.removesuffix(".py").replace("/", ".")

    @property
    def function(self) -> str:
        return self.entrypoint.partition(":")[2]


class _ProjectFile(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)  # build/push/pull are Prefect's

    deployments: tuple[DeploymentSpec, ...] = Field(min_length=1)


def read_project(path: Path = PROJECT_FILE) -> list[DeploymentSpec]:
    """The deployments declared in ``path``, validated; errors name the file and the field."""
    raw = read_yaml(path, ServeError)
    if not isinstance(raw, dict):
        raise ServeError(f"{path}: expected a mapping with a deployments list, got {raw!r:.40}")
    try:
        project = _ProjectFile.model_validate(raw)
    except ValidationError as exc:
        raise ServeError(f"{path}: {field_errors(exc)[0]}") from None
    names = [d.name for d in project.deployments]
    if len(set(names)) != len(names):
        raise ServeError(f"{path}: deployments: names must be unique, got {names}")
    return list(project.deployments)


def load_flow(spec: DeploymentSpec) -> Flow:
    """The flow object behind an entry point, imported as a module of the project."""
    from prefect import Flow

    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        raise ServeError(f"deployment {spec.name}: entrypoint {spec.entrypoint}: {exc}") from None
    flow = getattr(module, spec.function, None)
    if not isinstance(flow, Flow):
        raise ServeError(
            f"deployment {spec.name}: entrypoint {spec.entrypoint}: "
            f"{spec.function!r} is not a Prefect flow in {spec.module}"
        )
    return flow


def default_parameters(
    spec: DeploymentSpec,
    flow: Flow,
    overrides: Mapping[str, object],
    base_urls: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The YAML's parameters plus the overrides the flow accepts (``db_path`` on every flow,
    ``config_path`` on the pipeline only); ``None`` overrides are left to the flow's default.
    ``base_urls`` go into the ``live`` options of deployments that download (a mirror)."""
    accepted = inspect.signature(flow.fn).parameters
    unknown = sorted(set(spec.parameters) - set(accepted))
    if unknown:
        raise ServeError(f"deployment {spec.name}: parameters: {flow.name} has no {unknown[0]!r}")
    chosen = {k: str(v) for k, v in overrides.items() if v is not None and k in accepted}
    parameters = {**spec.parameters, **chosen}
    if base_urls and isinstance(parameters.get("live"), dict):
        parameters["live"] = {**parameters["live"], "base_urls": dict(base_urls)}
    return parameters


def runner_deployment(
    spec: DeploymentSpec,
    parameters: Mapping[str, object],
    base_urls: Mapping[str, str] | None = None,
) -> RunnerDeployment:
    """``flow.to_deployment`` with everything the YAML declares.

    Prefect records the entry point relative to the working directory, where each run's
    subprocess imports it again: the caller must be in the project folder.
    """
    from prefect.schedules import Cron

    flow = load_flow(spec)
    deployment = flow.to_deployment(
        name=spec.name,
        description=spec.description or None,
        schedules=[Cron(s.cron, timezone=s.timezone, active=s.active) for s in spec.schedules],
        parameters=default_parameters(spec, flow, parameters, base_urls),
        tags=list(spec.tags) or None,
    )
    if deployment.entrypoint != spec.entrypoint:
        raise ServeError(
            f"deployment {spec.name}: entrypoint {spec.entrypoint} resolves to "
            f"{deployment.entrypoint}; serve from the folder of prefect.yaml"
        )
    return deployment


@dataclass(frozen=True)
class Served:
    """What one ``winset serve`` process serves, for the lines it prints."""

    flow: str
    deployment: RunnerDeployment
    spec: DeploymentSpec

    def describe(self) -> str:
        when = "; ".join(
            f"cron {s.cron!r} ({s.timezone}){'' if s.active else ', paused'}"
            for s in self.spec.schedules
        )
        params = ", ".join(f"{k}={v}" for k, v in self.deployment.parameters.items())
        return (
            f"{self.flow}/{self.spec.name}: {when or 'no schedule, runs on demand'}; "
            f"{self.spec.entrypoint}; parameters: {params or 'flow defaults'}"
        )


def prepare(
    project_file: Path = PROJECT_FILE,
    *,
    db_path: Path | None = None,
    config_path: Path | None = None,
    base_urls: Mapping[str, str] | None = None,
) -> list[Served]:
    """Build every deployment of ``project_file``, changing into its folder for good.

    The working directory is changed (not restored) because Prefect starts each run in a
    subprocess of this process, which imports the entry point relative to it.
    """
    specs = read_project(project_file)  # first: a link loop is an error line, not a crash
    project_file = project_file.resolve()
    overrides = {
        "db_path": db_path.resolve() if db_path else None,
        "config_path": config_path.resolve() if config_path else None,
    }
    os.chdir(project_file.parent)
    served = []
    for spec in specs:
        deployment = runner_deployment(spec, overrides, base_urls)
        served.append(Served(deployment.flow_name, deployment, spec))
    return served


def serve_forever(served: list[Served]) -> None:
    """Register the deployments and poll for their runs until SIGINT or SIGTERM.

    On shutdown Prefect pauses the schedules, so no runs pile up while nothing serves them.
    """
    from prefect import serve

    serve(*(s.deployment for s in served), limit=1, print_starting_message=False)
