"""Read a file's bytes once into MD5, and tell whether it changed while it was read."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.scan import FileStat

CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileDigest:
    """The outcome of reading one member file (or of reusing a trusted cached digest)."""

    relpath: str
    md5: str | None = None
    error: str | None = None
    changing: bool = False
    read_at: float | None = None
    reused: bool = False
    bytes_read: int = 0


def md5_of(fd: int) -> tuple[str, int]:
    """MD5 through a small reused buffer that stays in L2 cache; returns (digest, bytes read).

    Not mmap: a file truncated while mapped (`cp` over an image) kills the process with SIGBUS.
    """
    digest = hashlib.md5(usedforsecurity=False)
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    with os.fdopen(os.dup(fd), "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            total += count
    return digest.hexdigest(), total


def fingerprint(st: os.stat_result) -> tuple[int, int, int, int]:
    """What must stay equal for cached bytes to be trusted: size, mtime, ctime, inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def hash_file(root: Path, member: FileStat, clock: Callable[[], float] = time.time) -> FileDigest:
    """Hash one file; `changing` when its stat differs before and after the read."""
    path = root / member.relpath
    started = clock()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        fd = None  # O_NOATIME needs ownership; retry plainly below
    except OSError as exc:
        return FileDigest(member.relpath, error=exc.strerror or str(exc))
    try:
        if fd is None:
            fd = os.open(path, os.O_RDONLY)
        before = os.fstat(fd)
        md5, count = md5_of(fd)
        after = os.fstat(fd)
        moved = os.stat(path)
    except (OSError, ValueError) as exc:
        return FileDigest(member.relpath, error=getattr(exc, "strerror", None) or str(exc))
    finally:
        if fd is not None:
            os.close(fd)
    changed = count != before.st_size or fingerprint(before) != fingerprint(after)
    changed = changed or fingerprint(after) != fingerprint(moved)
    if changed:
        return FileDigest(member.relpath, changing=True, read_at=started, bytes_read=count)
    return FileDigest(member.relpath, md5=md5, read_at=started, bytes_read=count)
