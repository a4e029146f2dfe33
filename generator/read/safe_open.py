"""Open a file the scan saw, and only that file: never a swapped-in link, FIFO or device.

The scan checks types and symlinks, but every reader opens the path again later, so whatever
sits there by then would be read. Every reader goes through `open_scanned`, which opens without
following a final symlink and without blocking (a FIFO's `open` would wait for a writer), then
checks on the descriptor itself that it is a regular file with the device and inode the scan
recorded. A symlink the scan followed (it stays inside the repository) is opened by its real
path, and the descriptor check still decides. So nothing outside the repository is read, even
when a file is swapped between the scan and the read.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

from generator.read.scan import FileStat

FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
NOATIME = getattr(os, "O_NOATIME", 0)


class NotAsScanned(OSError):
    """The path no longer leads to the regular file the scan saw (swapped, replaced, a FIFO)."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(errno.ESTALE, why, path)


def open_scanned(
    root: Path | str | None,
    path: Path | str,
    scanned: FileStat | None,
    noatime: bool = False,
    same_size: bool = False,
) -> int:
    """A read-only descriptor of `path`, checked to be the file the scan recorded as `scanned`.

    `root` is the resolved repository (a final symlink is followed only while it stays inside);
    `same_size` (for sidecars) also wants the scanned size. Raises NotAsScanned or OSError.
    """
    fd = _open_inside(root, os.fspath(path), noatime)
    try:
        _check(fd, os.fspath(path), scanned, same_size)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_inside(root: Path | str | None, path: str, noatime: bool) -> int:
    """Open `path` itself; a final symlink only by its real path, and only inside `root`."""
    try:
        return _open(path, noatime)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
    real = os.path.realpath(path)
    top = os.path.realpath(root) if root is not None else None
    if top is None or os.path.commonpath([real, top]) != top:
        raise NotAsScanned(path, "is now a symbolic link leading out of the repository")
    try:
        return _open(real, noatime)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotAsScanned(path, "its symbolic link changed while it was opened") from exc
        raise


def _open(path: str, noatime: bool) -> int:
    """O_NOATIME needs ownership of the file: try it, then open plainly."""
    if noatime and NOATIME:
        try:
            return os.open(path, FLAGS | NOATIME)
        except PermissionError:
            pass
    return os.open(path, FLAGS)


def _check(fd: int, path: str, scanned: FileStat | None, same_size: bool) -> None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise NotAsScanned(path, "is no longer a regular file (a device, FIFO or socket)")
    if scanned is None:
        return
    if st.st_ino != scanned.inode or (scanned.dev and st.st_dev != scanned.dev):
        raise NotAsScanned(path, "was replaced by another file after the scan")
    if same_size and st.st_size != scanned.size:
        raise NotAsScanned(path, "changed size after the scan")


def read_at_most(fd: int, size: int, limit: int) -> bytes:
    """Up to `limit` bytes from `fd`, whose `size` the scan saw: usually one read call.

    Asking for one byte more than `size` tells, in the same call, whether the file grew.
    """
    data = os.read(fd, min(size + 1, limit))
    while size < len(data) < limit and (more := os.read(fd, min(1 << 16, limit - len(data)))):
        data += more
    return data


def read_scanned(
    root: Path | str | None, path: Path | str, scanned: FileStat | None, limit: int
) -> bytes:
    """At most `limit` bytes of a small file (a sidecar) that must still be what was scanned."""
    fd = open_scanned(root, path, scanned, same_size=scanned is not None)
    try:
        return read_at_most(fd, scanned.size if scanned else limit, limit)
    finally:
        os.close(fd)
