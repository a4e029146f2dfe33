"""One run at a time per state directory and per output: an advisory `flock`, never waited on."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.errors import LockFileError, LockHeldError


@contextmanager
def hold_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `path`; raise LockHeldError at once if another run has it.

    The kernel drops a flock when its holder dies, so a run killed with -9 leaves no stale lock.
    """
    fd = _open_lock(path, what)
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


def _open_lock(path: Path, what: str) -> int:
    """Create or open the lock file; a folder this user cannot write is a usage error, exit 2.

    O_NOFOLLOW: a link planted at the lock's name is refused, never opened or created through.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise LockFileError(
            f"'{path}': cannot create the lock file of this {what} ({exc.strerror or exc}); "
            f"make '{path.parent}' writable for this user, or choose another folder"
        ) from exc
