"""The fork server a build's worker processes start from.

Workers start from a fork server rather than by forking the build's process, so that they never
inherit its threads or locks. The server imports the modules the workers run once, before it
starts any worker, and each worker starts with them imported.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

#: planforge's modules a worker runs, and the libraries they import on first use. Not the PDF
#: stack: a fork server that failed to load it (its system libraries missing) would fail every
#: task, where a worker that fails to load it reports it on the PDFs alone.
WORKER_MODULES = ("planforge.build", "planforge.documents", "planforge.calendars",
                  "planforge.timeline", "planforge.history", "planforge.i18n", "babel.dates",
                  "babel.numbers", "fastjsonschema", "_strptime")


def context() -> BaseContext:
    """The multiprocessing context of the workers, its fork server set to import their modules
    (which takes effect when the server starts: once per process)."""
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["__main__", *WORKER_MODULES])
    return forkserver


def start() -> None:
    """Start the fork server now, without waiting for it: it imports the workers' modules while
    the build's process imports its own and reads the workspace, which held back the first
    tasks of a --jobs 2 build by a tenth of its time when done in turn."""
    from multiprocessing import forkserver

    context()
    forkserver.ensure_running()
