"""Run the real ``publish`` flow and SIGKILL this process the moment a named step returns.

Usage: ``python -m tests.publish_killed_after MODULE.FUNCTION[:CALL] DB RUN_ID REPORTS_DIR``,
e.g. ``flows.report_folder.write_index`` or ``flows.report_folder.link_run:2`` (the second
call). The step itself runs unchanged; wrapping it only adds the kill afterwards, so the kill
lands at an exact point of the protocol instead of after a guessed delay.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from pathlib import Path


def kill_after(step: str) -> None:
    target, _, nth = step.partition(":")
    module_name, _, function = target.rpartition(".")
    module = importlib.import_module(module_name)
    original = getattr(module, function)
    calls = {"n": 0}

    def then_die(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(module, function, then_die)


def main() -> None:
    step, db, run_id, reports = sys.argv[1:]
    kill_after(step)
    from flows.publish import publish

    publish(db_path=Path(db), forecast_run_id=run_id, reports_dir=Path(reports))
    sys.exit("publish finished: the step was never reached")


if __name__ == "__main__":
    main()
