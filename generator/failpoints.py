"""Crash or be interrupted on purpose at a named point, so tests can prove what happens there.

Set `STAR_VM_CATALOG_CRASH_AT=<point>` (points: `reading`, `hashing`, `rendering`, `publishing`) and the
process kills itself with SIGKILL when it gets there: no cleanup, no flush, as a real crash.
Set `STAR_VM_CATALOG_INTERRUPT_AT=<point>` (points: `forked`, in the parent right after a worker
is forked) and it sends itself SIGINT there, as a Ctrl-C landing at that very moment would.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "STAR_VM_CATALOG_CRASH_AT"
POINTS = ("reading", "hashing", "rendering", "publishing")
INTERRUPT_VARIABLE = "STAR_VM_CATALOG_INTERRUPT_AT"
INTERRUPT_POINTS = ("forked",)


def reach(point: str) -> None:
    """SIGKILL this process if the environment asks for a crash at `point`."""
    if os.environ.get(VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def interrupt(point: str) -> None:
    """SIGINT this process (a Ctrl-C) if the environment asks for one at `point`."""
    if os.environ.get(INTERRUPT_VARIABLE) == point:
        signal.raise_signal(signal.SIGINT)
