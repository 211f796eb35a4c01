"""The process's environment, set for a while."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The environment is the whole process's: one block sets it at a time, whatever its thread.
_LOCK = threading.RLock()


@contextmanager
def variable_set(name: str, value: str) -> Iterator[None]:
    """``name`` set to ``value`` within the block, and as it was after: for what reads the
    variable when it starts (fontconfig loading a configuration, a Python process)."""
    with _LOCK:
        before = os.environ.get(name)
        os.environ[name] = value
        try:
            yield
        finally:
            if before is None:
                del os.environ[name]
            else:
                os.environ[name] = before
