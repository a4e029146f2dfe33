"""Crash or be interrupted on purpose at a named point, so tests can prove what happens there.

Set `STAR_VM_CATALOG_CRASH_AT=<point>` (points: `reading`, `hashing`, `rendering`, `publishing`) and the
process kills itself with SIGKILL when it gets there: no cleanup, no flush, as a real crash.
Set `STAR_VM_CATALOG_FAIL_AT=<point>` (the same points, and `reporting`: once the run is done, as
its problems are reported) and an exception nobody expects is raised there, as a bug would.
Set `STAR_VM_CATALOG_INTERRUPT_AT=<point>` (points: `forked`, in the parent right after a worker
is forked) and it sends itself SIGINT there, as a Ctrl-C landing at that very moment would.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "STAR_VM_CATALOG_CRASH_AT"
POINTS = ("reading", "hashing", "rendering", "publishing")
FAIL_POINTS = (*POINTS, "reporting")
FAIL_VARIABLE = "STAR_VM_CATALOG_FAIL_AT"
INTERRUPT_VARIABLE = "STAR_VM_CATALOG_INTERRUPT_AT"
INTERRUPT_POINTS = ("forked",)


class Failpoint(RuntimeError):
    """The error `STAR_VM_CATALOG_FAIL_AT` asks for: no code of the program expects it."""


def reach(point: str) -> None:
    """SIGKILL this process if the environment asks for a crash at `point`; raise `Failpoint`
    if it asks for a failure there."""
    if os.environ.get(VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(FAIL_VARIABLE) == point:
        raise Failpoint(f"failure asked for at {point!r} ({FAIL_VARIABLE})")


def interrupt(point: str) -> None:
    """SIGINT this process (a Ctrl-C) if the environment asks for one at `point`."""
    if os.environ.get(INTERRUPT_VARIABLE) == point:
        signal.raise_signal(signal.SIGINT)
