"""The fork server a build's worker processes start from.

Workers start from a fork server rather than by forking the build's process, so that they never
inherit its threads or locks. The server imports the modules the workers run once, before it
starts any worker, and each worker starts with them imported.
"""

from __future__ import annotations

import multiprocessing
from contextlib import suppress
from multiprocessing.context import BaseContext

from .environ import variable_set

#: planforge's modules a worker runs, and the libraries they import on first use (imported by
#: ``preload``). Not the PDF stack: the workers of a PDF build import it themselves, so that a
#: machine without its system libraries fails the PDFs alone.
WORKER_MODULES = ("planforge.build", "planforge.documents", "planforge.calendars",
                  "planforge.timeline", "planforge.history", "planforge.i18n", "babel.dates",
                  "babel.numbers", "fastjsonschema", "_strptime")


def context() -> BaseContext:
    """The multiprocessing context of the workers, its fork server running (started now if it
    is not: once per process)."""
    from multiprocessing import forkserver

    server = multiprocessing.get_context("forkserver")
    server.set_forkserver_preload(["__main__", "planforge.preload"])
    # The fork server and the resource tracker run as "python -c", which puts the current
    # folder, the workspace, first on the module path: a pull request's multiprocessing/ or
    # _strptime.py at the workspace's root ran as planforge in them, with the CI job's secrets.
    with variable_set("PYTHONSAFEPATH", "1"):
        forkserver.ensure_running()  # and multiprocessing's resource tracker
    return server


def start() -> None:
    """Start the fork server now, without waiting for it: it imports the workers' modules while
    the build's process imports its own and reads the workspace, which held back the first
    tasks of a --jobs 2 build by a tenth of its time when done in turn. Only a head start: where
    it cannot start, the build's pool says why."""
    with suppress(Exception):  # the pool starts it again, and reports what fails
        context()
