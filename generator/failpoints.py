"""Crash on purpose at a named point, so tests can prove a `kill -9` there loses nothing.

Set `STAR_VM_CATALOG_CRASH_AT=<point>` (points: `reading`, `hashing`, `rendering`, `publishing`) and the
process kills itself with SIGKILL when it gets there: no cleanup, no flush, as a real crash.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "STAR_VM_CATALOG_CRASH_AT"
POINTS = ("reading", "hashing", "rendering", "publishing")


def reach(point: str) -> None:
    """SIGKILL this process if the environment asks for a crash at `point`."""
    if os.environ.get(VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)
