"""Imported by the workers' fork server before it starts them: each of the workers' modules
(``forkserver.WORKER_MODULES``) where it can be. The server's own import of a list stops at
the first error that is not an ImportError, and the server dies with it, failing every task of
the build; a module that fails here is imported again by the worker that needs it, which
reports the error on that task alone."""

from __future__ import annotations

import importlib
from contextlib import suppress

from .forkserver import WORKER_MODULES

for _name in WORKER_MODULES:
    with suppress(Exception):  # imported again by the worker that needs it, which reports it
        importlib.import_module(_name)
