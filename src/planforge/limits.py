"""Time limits on work that a workspace controls (its templates, its logo), so that a document
that cannot be made in reasonable time fails with a message instead of holding a CI job."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .errors import PlanforgeError

#: A document renders in well under a second; a template or logo that needs this long is
#: broken or hostile.
TEMPLATE_SECONDS = 30.0
PDF_SECONDS = 120.0


class TooLong(PlanforgeError):
    """Work that a workspace controls went past its time limit."""


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise TooLong in this thread if the block runs longer than ``seconds``. Only the main
    thread of a process can receive the timer's signal; elsewhere the block runs unlimited
    (planforge renders in main threads: the command's, and each build worker's)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TooLong(f"{what} took longer than {seconds:.0f} s, the most planforge allows")

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    outer = signal.setitimer(signal.ITIMER_REAL, seconds)[0]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an enclosing deadline keeps running, less the time spent here
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))
