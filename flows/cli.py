"""The ``winset`` command line: thin wrappers that run flows and print what users need.

Errors a user can cause (a bad file, a busy warehouse, an unknown source) end in one line on
stderr and exit status 2, never a traceback. Prefect's own logs are quiet unless ``--verbose``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from flows import settings

app = typer.Typer(
    help="Forecast the pathway of US-China relations from real trade and event data.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

DbOption = Annotated[
    Path | None, typer.Option("--db", help="DuckDB warehouse file (default: var/winset.duckdb).")
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")]
BaseUrlOption = Annotated[
    list[str] | None,
    typer.Option(help="SOURCE=URL, or a URL mirroring every source as URL/<source>."),
]


def _quiet_prefect(verbose: bool) -> None:
    """Prefect logs every state change; the CLI shows its own progress instead.

    The levels stay lowered for the rest of the process, so Prefect's closing messages (such
    as stopping its temporary server at exit) stay quiet too.
    """
    if verbose:
        return
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _run[T](step: str, fn: Callable[..., T], *args: Any, spinner: bool = True, **kwargs: Any) -> T:
    """Run one step with a spinner (unless it shows its own progress); turn user-caused errors
    into one line and exit 2."""
    from flows.sources.base import IngestFailed, SourceError
    from flows.warehouse import WarehouseError

    try:
        with err.status(f"{step}…") if spinner else contextlib.nullcontext():
            return fn(*args, **kwargs)
    except IngestFailed as exc:
        for line in exc.errors:
            err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
        err.print("Nothing was written; the warehouse is unchanged.")
    except KeyError as exc:  # str() of a KeyError is its repr; print the message itself
        err.print(f"[red]error:[/red] {exc.args[0]}", highlight=False, soft_wrap=True)
    except (SourceError, WarehouseError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    except OSError as exc:  # a full disk while writing a posterior or a report
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        err.print(
            f"[red]error:[/red] no space left on the device{where}; the step was abandoned "
            "(finished steps are kept): free some space and run again",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(2)


def _orchestrate(verbose: bool) -> str | None:
    """Prepare a command that runs flows; call it before anything imports Prefect.

    Starts Prefect's temporary API server once for the process (a failure is one line and
    exit 2), quiets Prefect's logs unless ``verbose``, and makes Ctrl-C and SIGTERM stop the
    command at once. Returns the temporary server's API URL (None if a server is configured).
    Commands with nothing to orchestrate never call it, so they never import Prefect.
    """
    from flows.prefect_api import PrefectUnavailable, ensure_api_server

    _stop_on_signals()
    try:
        with err.status("Starting Prefect's API server…"):
            temporary_api = ensure_api_server()
    except PrefectUnavailable as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    import prefect  # noqa: F401  (its logging set-up runs at import, before levels are lowered)

    _quiet_prefect(verbose)
    return temporary_api


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM end a flow command at once, with a message and no process left over.

    Prefect runs tasks in worker threads that a KeyboardInterrupt cannot stop, so the process
    used to finish its work (or a whole sweep) before noticing. Ending it at once is safe:
    every warehouse write is one transaction and every posterior or report is renamed into
    place when complete, so an interrupted run keeps nothing half-written, as after kill -9.
    """

    def stop(signum: int, _frame: object) -> None:
        err.print(
            f"\nInterrupted ({signal.Signals(signum).name}): stopped. Writes are "
            "all-or-nothing, so nothing half-written was kept.",
            highlight=False,
        )
        _end_child_processes()
        os._exit(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)


def _end_child_processes() -> None:
    """Our children: Prefect's temporary server and the workers of a process-pool sweep."""
    from flows.prefect_api import stop_api_server

    stop_api_server()
    for child in multiprocessing.active_children():
        child.kill()


def _parse_base_urls(values: list[str]) -> dict[str, str]:
    urls = {}
    for value in values:
        name, sep, url = value.partition("=")
        if sep and not name.startswith("http"):
            urls[name] = url
        else:
            urls["*"] = value
    return urls


@app.command()
def ingest(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Source to ingest, or SOURCE:DATASET with --file."),
    ] = None,
    live: Annotated[bool, typer.Option(help="Download from the publishers instead.")] = False,
    file: Annotated[
        list[Path] | None, typer.Option("--file", "-f", help="Ingest a file you downloaded.")
    ] = None,
    base_url: BaseUrlOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds per download attempt.")] = 30.0,
    max_mb: Annotated[
        float | None,
        typer.Option(
            help="Size cap per file, downloaded or read from disk, MB (default: "
            "WINSET_MAX_FILE_MB or 512)."
        ),
    ] = None,
    retries: Annotated[
        int, typer.Option(help="Retries for timeouts and 5xx (and GDELT md5 mismatches).")
    ] = 2,
    retry_delay: Annotated[float, typer.Option(help="Seconds between retries.")] = 5.0,
    backfill: Annotated[
        bool,
        typer.Option(help="GDELT: every 15-minute export since the last one written (or --since)."),
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="Backfill from: YYYY-MM, YYYY-MM-DD or YYYYMMDDHHMMSS.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Backfill to (included; default: now).")] = None,
    max_files: Annotated[
        int | None, typer.Option(help="Backfill at most this many files in this run.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Backfill: parallel downloads.")] = 4,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Backfill: downloaded zips (default: var/gdelt-exports).")
    ] = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going",
            help="With --live: a source that fails keeps its last good rows and is reported "
            "stale; the others are written (default: any failure writes nothing).",
        ),
    ] = False,
    db: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Ingest the bundled data (default), the live publishers' files, or your own files."""
    if keep_going and (not live or file or backfill):
        raise _usage("--keep-going applies to --live downloads only")
    from flows.sources.limits import FileLimits

    if max_mb is not None and max_mb <= 0:
        raise _usage(f"--max-mb: expected a size above 0, got {max_mb:g}")
    max_bytes = (
        int(max_mb * 1024 * 1024)
        if max_mb is not None
        else _run("Reading the file caps", lambda: FileLimits.from_env().max_file_bytes)
    )
    if backfill:
        if file or (source and source != ["gdelt"]):
            raise _usage("--backfill is for --source gdelt alone, without --file")
        _orchestrate(verbose)
        from flows.ingest import LiveOptions

        options = LiveOptions(
            base_urls=_parse_base_urls(base_url or []), timeout=timeout,
            max_bytes=max_bytes, retries=retries, retry_delay=retry_delay,
        )  # fmt: skip
        _backfill_gdelt(
            db, live=options, since=since, until=until, max_files=max_files,
            workers=workers, cache_dir=cache_dir,
        )  # fmt: skip
        return
    if since or until or max_files is not None:
        raise _usage("--since, --until and --max-files go with --backfill")
    files = []
    if file:
        if not source or len(source) != 1:
            raise _usage("--file needs exactly one --source (e.g. --source gdelt)")
        name, _, dataset = source[0].partition(":")
        files = [(name, dataset or None, path) for path in file]
    _orchestrate(verbose)
    from flows.ingest import LiveOptions
    from flows.ingest import ingest as ingest_flow

    live_options = None
    if live:
        live_options = LiveOptions(
            base_urls=_parse_base_urls(base_url or []),
            timeout=timeout,
            retries=retries,
            retry_delay=retry_delay,
            max_bytes=max_bytes,
        )
    summary = _run(
        "Ingesting",
        ingest_flow,
        db_path=db,
        sources=None if files else source,
        live=live_options,
        files=files,
        max_file_bytes=max_bytes,
        keep_going=keep_going,
    )
    from flows.ingest_summary import normalised_lines, totals_line

    out.print(f"{totals_line(summary)} (see `winset status`).", highlight=False)
    for line in normalised_lines(summary):
        out.print(line, highlight=False, soft_wrap=True)
    _print_status(db)


def _backfill_gdelt(db: Path | None, **options: Any) -> None:
    """Run the GDELT backfill with a progress bar on a terminal, one line per file otherwise
    (logs of scheduled runs), then the summary and the status table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from flows.gdelt_backfill import gdelt_backfill

    bar = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal,
    )  # fmt: skip

    class Shown:
        def planned(self, files: int, list_url: str) -> None:
            self.task = bar.add_task("GDELT files", total=files)

        def written(self, done: Any) -> None:
            bar.advance(self.task)
            if not err.is_terminal:
                out.print(done.describe(), highlight=False, soft_wrap=True)

    with bar:
        summary = _run(
            "Backfilling GDELT", gdelt_backfill, db_path=db, progress=Shown(), spinner=False,
            **options,
        )  # fmt: skip
    out.print(summary.describe(), highlight=False, soft_wrap=True)
    _print_status(db)


def _usage(message: str) -> typer.BadParameter:
    return typer.BadParameter(message)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    db: DbOption = None,
) -> None:
    """Per source table: live kind, rows, first and last date, last ingest time, rejected rows,
    and since when a source is stale."""
    _print_status(db, as_json=as_json)


def _print_status(db: Path | None, *, as_json: bool = False) -> None:
    from flows.pathway_report import fit_validity_line
    from flows.refresh import read_staleness, refresh_states
    from flows.sources import SOURCES
    from flows.status_view import stale_lines, status_json, status_table
    from flows.warehouse import connect, table_status

    def read() -> tuple[list, dict, Any, str | None]:
        with connect(Path(db or settings.warehouse_path()), read_only=True) as con:
            states = refresh_states(con)
            rows = table_status(con, list(SOURCES.values()))
            return rows, states, read_staleness(con), fit_validity_line(con)

    rows, states, staleness, fit_line = _run("Reading the warehouse", read)
    if as_json:
        out.print_json(json.dumps(status_json(rows, states)))
        return
    out.print(status_table(f"winset warehouse: {db or settings.warehouse_path()}", rows, states))
    for line in stale_lines(states, staleness):
        out.print(line, highlight=False, soft_wrap=True)
    if fit_line:
        out.print(fit_line, highlight=False, soft_wrap=True)


FastOption = Annotated[
    bool, typer.Option("--fast", help="2 chains x 500 draws (tests, sweeps) instead of 4 x 1000.")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Model config YAML (default: data/model.yaml).")
]


@app.command()
def fit(
    fast: FastOption = False,
    config: ConfigOption = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Fit the pathway model on the stored panel; every fit is recorded in `model_runs`."""
    _orchestrate(verbose)
    from flows.fit import fit_model

    record = _run(
        "Fitting the pathway model", fit_model, db_path=db, config_path=config, fast=fast,
    )  # fmt: skip
    out.print(record.describe(), highlight=False, soft_wrap=True)
    _exit_if_unhealthy(record)


def _exit_if_unhealthy(record: Any) -> None:
    """A fit that fails the gate is recorded, never used; scheduled runs see exit status 1."""
    if not record.healthy:
        err.print("The fit failed the health gate: it is recorded but will not be used.")
        raise typer.Exit(1)


@app.command()
def run(
    fast: FastOption = False,
    config: ConfigOption = None,
    live: Annotated[
        bool,
        typer.Option(
            help="Download from the publishers; a source that fails keeps its last good rows "
            "and is reported stale (a run too stale never becomes latest)."
        ),
    ] = False,
    base_url: BaseUrlOption = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
    prior_sweep: Annotated[
        bool,
        typer.Option(
            help="Before publishing a new fit, run data/sweeps/prior_determined.yaml (8 fast "
            "refits, about 4 minutes) so the headline says whether the priors set it."
        ),
    ] = True,
) -> None:
    """The main job: ingest, build the panel, fit (if needed), forecast and publish the report."""
    if base_url and not live:
        raise _usage("--base-url applies to --live downloads only")
    _orchestrate(verbose)
    from flows.ingest import LiveOptions
    from flows.pipeline import pipeline

    options = LiveOptions(base_urls=_parse_base_urls(base_url or [])) if live else None
    sweep_file = settings.data_dir() / "sweeps" / "prior_determined.yaml"
    result = _run(
        "Running the pipeline", pipeline, db_path=db, config_path=config, fast=fast,
        live=options, prior_sweep=sweep_file if prior_sweep else None,
    )  # fmt: skip
    out.print(result.describe(), highlight=False, soft_wrap=True)
    _print_status(db)
    if not result.healthy:  # recorded and reported; the job itself completed
        err.print("The fit failed the health gate: nothing was forecast or published.")
    elif result.too_stale:
        err.print(f"Too stale to publish as latest: {result.staleness.too_stale}.")


DriverPathsOption = Annotated[
    str | None,
    typer.Option(
        "--driver-paths",
        help="How future drivers are drawn: ar1 (Gaussian AR(1) innovations) or bootstrap "
        "(AR(1) with moving blocks of historical innovations, whole months jointly).",
    ),
]
BlockMonthsOption = Annotated[
    int | None,
    typer.Option(help="Bootstrap block length in months (default 6, see models/driver_paths.py)."),
]


@app.command()
def forecast(
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help="Scenario name (default: every file in data/scenarios)."),
    ] = None,
    paths: Annotated[int, typer.Option("--paths", help="Paths per posterior draw.")] = 1000,
    horizon: Annotated[str, typer.Option(help="Last forecast month, YYYY-MM.")] = "2029-01",
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default fixed; same seed, same numbers).")
    ] = None,
    model_run: Annotated[
        str | None, typer.Option(help="A model run id (default: the newest healthy fit).")
    ] = None,
    driver_paths: DriverPathsOption = None,
    block_months: BlockMonthsOption = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Simulate scenarios from a healthy fit to the horizon; results in `forecasts`."""
    _orchestrate(verbose)
    from flows.forecast import forecast as forecast_flow

    given = {"seed": seed, "driver_paths": driver_paths, "block_months": block_months}
    defaults_replaced = {k: v for k, v in given.items() if v is not None}
    record = _run(
        "Forecasting", forecast_flow, db_path=db, scenarios=scenario, n_paths=paths,
        horizon=horizon, model_run_id=model_run, **defaults_replaced,
    )  # fmt: skip
    out.print(record.describe(), highlight=False, soft_wrap=True)


@app.command()
def sweep(
    grid_file: Annotated[Path, typer.Argument(help="Grid spec YAML (see data/sweeps/).")],
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="Override a parameter: NAME=V1,V2,... ; priors.<field>=V1,V2 adds a prior axis "
            "(e.g. priors.stay_logit=3,4,5 or priors.beta.INTL.sigma=0.15,0.3,0.6), each value "
            "a fast refit of the model.",
        ),
    ] = None,
    dask_address: Annotated[
        str | None, typer.Option(help="Run the grid on an existing Dask scheduler.")
    ] = None,
    threads: Annotated[
        bool, typer.Option("--threads/--processes", help="Local thread or process pool.")
    ] = True,
    workers: Annotated[int | None, typer.Option(help="Local pool size.")] = None,
    driver_paths: DriverPathsOption = None,
    block_months: BlockMonthsOption = None,
    max_points: Annotated[
        int | None,
        typer.Option(
            help="Allow this many grid points (replaces the file's max_points; a "
            "file alone may allow at most 1,000)."
        ),
    ] = None,
    max_refits: Annotated[
        int | None,
        typer.Option(
            help="Allow this many prior refits (replaces the file's max_refits; a "
            "file alone may allow at most 25)."
        ),
    ] = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Run a grid of scenario parameters (and prior axes, refitted fast) against one fitted
    posterior (`sweep_results`)."""
    _orchestrate(verbose)
    from flows.sweep import sweep as sweep_flow

    record = _run(
        "Sweeping", sweep_flow, grid_path=grid_file, grid=grid, db_path=db,
        dask_address=dask_address, runner="threads" if threads else "processes",
        workers=workers, driver_paths=driver_paths, block_months=block_months,
        max_points=max_points, max_refits=max_refits,
    )  # fmt: skip
    out.print(record.describe(), highlight=False, soft_wrap=True)


@app.command()
def publish(
    forecast_run: Annotated[
        str | None, typer.Option(help="A forecast run id (default: the newest).")
    ] = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Render a forecast run's report into var/reports/ (latest only for healthy runs)."""
    _orchestrate(verbose)
    from flows.publish import publish as publish_flow

    record = _run("Publishing", publish_flow, db_path=db, forecast_run_id=forecast_run)
    out.print(record.describe(), highlight=False, soft_wrap=True)


@app.command()
def backtest(
    origins: Annotated[
        str | None,
        typer.Option(
            help="Origin months, comma-separated YYYY-MM "
            "(default: 2017-12,2019-12,2022-07,2024-12,2025-04)."
        ),
    ] = None,
    fast: Annotated[
        bool,
        typer.Option("--fast/--full", help="2 x 500 draws per fit (default) or 4 x 1000."),
    ] = True,
    quarterly: Annotated[
        bool, typer.Option(help="Every quarter end from the first origin to the last.")
    ] = False,
    monthly: Annotated[
        bool, typer.Option(help="Every month an origin, fast fits, scored on the observed series.")
    ] = False,
    since: Annotated[str, typer.Option(help="--monthly: the first origin, YYYY-MM.")] = "2017-09",
    until: Annotated[
        str | None, typer.Option(help="--monthly: the last origin (default: all the data allow).")
    ] = None,
    draws: Annotated[int, typer.Option(min=10, help="--monthly: posterior draws per fit.")] = 100,
    paths: Annotated[int, typer.Option(min=1, help="--monthly: regime paths per draw.")] = 20,
    nuts_check: Annotated[
        int, typer.Option(min=0, help="--monthly: also fit NUTS at this many origins and compare.")
    ] = 0,
    config: ConfigOption = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Rolling-origin backtest: refit at each origin on what was known then, score what followed."""
    _orchestrate(verbose)
    if monthly:
        from flows.evaluation import EvaluationSettings, evaluation

        record = _run(
            "Evaluating", evaluation, db_path=db, since=since, until=until, config_path=config,
            run=EvaluationSettings(draws=draws, paths=paths), nuts_check=nuts_check,
        )  # fmt: skip
        out.print(record.describe(), highlight=False, soft_wrap=True)
        return
    from flows.backtest import backtest as backtest_flow

    # ",,," is an empty list, which the flow refuses, not "the defaults"
    months = None if origins is None else [m.strip() for m in origins.split(",") if m.strip()]
    record = _run(
        "Backtesting", backtest_flow, db_path=db, origins=months, fast=fast, config_path=config,
        quarterly=quarterly,
    )  # fmt: skip
    out.print(record.describe(), highlight=False, soft_wrap=True)


ProjectFileOption = Annotated[
    Path | None,
    typer.Option("--file", help="The deployments to serve (default: the project's prefect.yaml)."),
]


@app.command()
def serve(
    file: ProjectFileOption = None,
    config: ConfigOption = None,
    base_url: BaseUrlOption = None,
    db: DbOption = None,
) -> None:
    """Serve prefect.yaml's deployments (monthly pipeline, weekly ingest, daily GDELT
    backfill) until Ctrl-C.

    Prefect's logs are always shown: they are the record of a long-running scheduler.
    """
    temporary_api = _orchestrate(verbose=True)
    from flows.serve import PROJECT_FILE, prepare, serve_forever

    project_file = file or PROJECT_FILE
    served = _run(
        f"Reading {project_file}", prepare, project_file, db_path=db, config_path=config,
        base_urls=_parse_base_urls(base_url or []) or None,
    )  # fmt: skip
    out.print(_serve_banner(project_file, served, temporary_api), highlight=False, soft_wrap=True)
    # From here Prefect's runner stops gracefully itself (pausing the schedules) on Ctrl-C,
    # as a KeyboardInterrupt, and on SIGTERM, with its own handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    serve_forever(served)
    out.print("Stopped serving; the schedules are paused until the next `winset serve`.")


def _serve_banner(project_file: Path, served: list, temporary_api: str | None) -> str:
    from prefect.settings import get_current_settings

    where = (
        f"on the Prefect server {get_current_settings().api.url}"
        if not temporary_api
        else "on a temporary Prefect server that stops with this process (set "
        "PREFECT_API_URL to a `prefect server start` to keep runs and see them in the UI)"
    )
    lines = [f"Serving {len(served)} deployments from {project_file} {where}:"]
    lines += [f"  {s.describe()}" for s in served]
    lines.append("Start a run now with `prefect deployment run FLOW/DEPLOYMENT`; Ctrl-C stops.")
    return "\n".join(lines)


if __name__ == "__main__":
    app()
