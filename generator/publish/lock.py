"""One run at a time per state directory and per output: an advisory `flock`, never waited on."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.errors import LockHeldError


@contextmanager
def hold_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `path`; raise LockHeldError at once if another run has it.

    The kernel drops a flock when its holder dies, so a run killed with -9 leaves no stale lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockHeldError(
                f"'{path}': another run holds the lock on this {what}; try again later"
            ) from exc
        yield
    finally:
        os.close(fd)
