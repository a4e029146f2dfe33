"""Read a file's bytes once into MD5, and tell whether it changed while it was read."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from generator.scan import FileStat

CHUNK = 64 * 1024

Fingerprint = tuple[int, int, int, int]


class Interrupted(Exception):
    """The run is stopping; the file being read is given up, nothing is recorded for it."""


class FileDigest(NamedTuple):
    """The outcome of reading one member file (or of reusing a trusted cached digest).

    A NamedTuple rather than a frozen dataclass: one is made per file per run, cheaply.

    `read_at` is when the bytes were last actually read (a reused digest keeps its old time);
    `fingerprint` and `hashed_at` are what the state cache stores to trust the digest next run.
    """

    relpath: str
    md5: str | None = None
    error: str | None = None
    changing: bool = False
    vanished: bool = False
    read_at: float | None = None
    reused: bool = False
    bytes_read: int = 0
    fingerprint: Fingerprint | None = None
    hashed_at: float | None = None


def md5_of(
    fd: int,
    on_bytes: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> tuple[str, int]:
    """MD5 through a small reused buffer that stays in L2 cache; returns (digest, bytes read).

    Not mmap: a file truncated while mapped (`cp` over an image) kills the process with SIGBUS,
    and on this machine the 64 KiB `readinto` loop already beats `md5sum` (see bench/).
    """
    digest = hashlib.md5(usedforsecurity=False)
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    with os.fdopen(os.dup(fd), "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            total += count
            if on_bytes:
                on_bytes(count)
            if stop and stop.is_set():
                raise Interrupted
    return digest.hexdigest(), total


def fingerprint(st: os.stat_result) -> Fingerprint:
    """What must stay equal for cached bytes to be trusted: size, mtime, ctime, inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def hash_file(
    root: Path,
    member: FileStat,
    clock: Callable[[], float] = time.time,
    on_bytes: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> FileDigest:
    """Hash one file; `changing` when its stat differs before and after the read.

    A file gone by the time it is read (deleted or renamed away mid-run) is `vanished`, which
    counts as changing: the next run looks again.
    """
    path = root / member.relpath
    started = clock()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        fd = None  # O_NOATIME needs ownership; retry plainly below
    except OSError as exc:
        return _failure(member.relpath, exc)
    try:
        if fd is None:
            fd = os.open(path, os.O_RDONLY)
        before = os.fstat(fd)
        md5, count = md5_of(fd, on_bytes, stop)
        after = os.fstat(fd)
        moved = os.stat(path)
    except (OSError, ValueError) as exc:
        return _failure(member.relpath, exc)
    finally:
        if fd is not None:
            os.close(fd)
    changed = count != before.st_size or fingerprint(before) != fingerprint(after)
    changed = changed or fingerprint(after) != fingerprint(moved)
    if changed:
        return FileDigest(member.relpath, changing=True, read_at=started, bytes_read=count)
    return FileDigest(
        member.relpath,
        md5=md5,
        read_at=started,
        bytes_read=count,
        fingerprint=fingerprint(after),
        hashed_at=clock(),
    )


def _failure(relpath: str, exc: OSError | ValueError) -> FileDigest:
    if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
        return FileDigest(relpath, changing=True, vanished=True)
    return FileDigest(relpath, error=getattr(exc, "strerror", None) or str(exc))
