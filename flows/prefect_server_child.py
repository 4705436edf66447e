"""Prefect's API server (uvicorn), ending itself when the winset process that started it dies.

Run as ``python -m flows.prefect_server_child PARENT_PID UVICORN_ARGS...`` by
``flows.prefect_api``. A signal handler cannot run on ``kill -9``, so the child watches instead:
once its parent is gone (it is re-parented), it exits within half a second.
"""

from __future__ import annotations

import os
import sys
import threading
import time


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main() -> None:
    parent = int(sys.argv[1])
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    import uvicorn

    sys.argv = ["uvicorn", *sys.argv[2:]]
    uvicorn.main()


if __name__ == "__main__":
    main()
