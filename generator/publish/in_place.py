"""Writing the files of the copy being brought up to date: in place, yet never through a link.

No reader sees that copy before the swap, and its manifest journal marks each file untrusted
until the copy is whole, so a file needs no temporary name and no rename. Those made a rewrite
of 10,000 pages take 12-17 s against 1-3 s overwriting them (5,000 files, this machine, loaded).
What stays is the safety of the old way: only a regular file with one name, opened without
following a link, is overwritten; anything else at the path is unlinked and the file created
exclusively (`O_EXCL | O_NOFOLLOW`), so a link or a hard link planted there is removed, never
written through; and each folder is made or checked, top down, once per run, so nothing is
created below a folder replaced by a link. (A reader holding a file of this copy open since
it was live, two builds ago, would see it change: the web server serves only the live copy.)
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import stat
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

from generator.publish.manifest import digest_of
from generator.publish.output_checks import unsafe_area

# A new file only: a link planted at the path is never followed, an existing file never reused.
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# An existing file only, never through a link, never waiting on a fifo.
OVERWRITE = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
READ_WRITE = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # read, then maybe write


def make_folders(target: Path, relpath: str, made: set[str]) -> None:
    """Make sure every folder of `relpath` inside the copy is a real directory, creating the
    missing ones; `made` holds the folders already vouched for this run.

    `mkdir` first: it fails on anything already there, a link included, without following it;
    only then is the existing entry looked at.
    """
    folder = relpath.rpartition("/")[0]
    if not folder or folder in made:
        return
    make_folders(target, folder, made)  # parents first: never a mkdir below a link
    path = f"{target}/{folder}"
    try:
        os.mkdir(path)
    except FileExistsError:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            raise unsafe_area(
                Path(path), target.parent, f"is a symbolic link (to '{os.readlink(path)}')"
            ) from None
        if not stat.S_ISDIR(mode):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path) from None
    made.add(folder)


def put(path: str, parts: Iterable[bytes], ours: bool) -> None:
    """Give the file at `path` the bytes `parts` make, one after the other (a large file is
    written as the parts it is made in, never joined: `site.deferred.Chunked`).

    `ours` (the manifest lists the path): a regular file with no other name is overwritten in
    place, ten times quicker than any way that frees its blocks (rename, unlink, truncation to
    zero: ext4 flushes or discards them at once). Anything else there (a link, a second name,
    a fifo, a stray the manifest does not list) is unlinked and the file created anew.
    """
    if ours and _overwrite(path, parts):
        return
    try:
        fd = os.open(path, CREATE, 0o666)
    except FileExistsError:
        os.unlink(path)
        fd = os.open(path, CREATE, 0o666)
    try:
        _write_parts(fd, parts)
    finally:
        os.close(fd)


def put_changed(path: str, parts: Iterable[bytes], ours: bool) -> tuple[str, bool]:
    """Give the file at `path` the bytes `parts` make, made once: their SHA-256, and whether
    the file was written (False: it held those bytes already, and keeps its mtime).

    For a large file made in parts (`site.deferred.Chunked`), which was made twice: once to be
    digested and compared with the manifest, once more to be written. `ours`: our own regular
    file with one name is read alongside the parts and written from the first part that
    differs, then cut to the new size; anything else is replaced as `put` replaces it.
    """
    digest = hashlib.sha256()
    fd = _own_file(path, READ_WRITE) if ours else None
    if fd is None:
        put(path, _digested(parts, digest), False)
        return digest.hexdigest(), True
    try:
        changed = _write_changed(fd, _digested(parts, digest))
    finally:
        os.close(fd)
    return digest.hexdigest(), changed


def _own_file(path: str, flags: int) -> int | None:
    """Our own regular file with one name, opened with `flags` (never through a link); None,
    with anything else at the path unlinked, when it is not that or is not there."""
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError:  # a link (ELOOP), a fifo without reader (ENXIO), a folder: not ours
        os.unlink(path)
        return None
    try:
        found = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if stat.S_ISREG(found.st_mode) and found.st_nlink == 1:
        return fd
    os.close(fd)
    os.unlink(path)
    return None


def _write_changed(fd: int, parts: Iterable[bytes]) -> bool:
    """Write the parts over the file from the first one that differs from the bytes there, then
    cut it to their length; whether anything was written or cut."""
    offset, remaining = 0, iter(parts)
    for part in remaining:
        if os.pread(fd, len(part), offset) != part:
            os.lseek(fd, offset, os.SEEK_SET)
            os.ftruncate(fd, offset + _write_parts(fd, itertools.chain((part,), remaining)))
            return True
        offset += len(part)
    if os.fstat(fd).st_size == offset:
        return False
    os.ftruncate(fd, offset)
    return True


def _digested(parts: Iterable[bytes], digest: hashlib._Hash) -> Iterator[bytes]:
    for part in parts:
        digest.update(part)
        yield part


def _overwrite(path: str, parts: Iterable[bytes]) -> bool:
    """Overwrite our own file in place; False, with the entry unlinked, when it is not that."""
    fd = _own_file(path, OVERWRITE)
    if fd is None:
        return False
    try:
        os.ftruncate(fd, _write_parts(fd, parts))
    finally:
        os.close(fd)
    return True


def link_to(source: Path, path: str, sha256: str) -> bool:
    """Give `path` the bytes of `source`, a file of the other copy recorded with `sha256`, as a
    second name of that file: a page both copies hold costs a link, not a copy of its bytes
    (half the time, and no new data for `syncfs` to write).

    The live copy's file is never changed through its new name: `put` overwrites only a file
    with one name, and replaces any other. False, with `path` left absent or as it was, when
    the source is not a regular file holding those bytes or the link cannot be made; the
    caller then writes the bytes.
    """
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or _sha256_of(fd) != sha256:
            return False
        return _link_same(source, path, (found.st_dev, found.st_ino))
    except OSError:
        return False
    finally:
        os.close(fd)


def _link_same(source: Path, path: str, file: tuple[int, int]) -> bool:
    """Link `source` at `path` if it is still `file` (device, inode): one checked, one linked."""
    try:
        there = os.lstat(path)
    except FileNotFoundError:
        there = None
    if there is not None:
        if (there.st_dev, there.st_ino) == file:
            return True  # already a name of that file
        os.unlink(path)
    os.link(source, path, follow_symlinks=False)
    made = os.lstat(path)
    if (made.st_dev, made.st_ino) != file:  # the source was replaced in between
        os.unlink(path)
        return False
    return True


def _sha256_of(fd: int) -> str:
    return digest_of(iter(partial(os.read, fd, 1 << 20), b""))  # read a MiB at a time


def _write_parts(fd: int, parts: Iterable[bytes]) -> int:
    """Write every part, in order; the number of bytes written."""
    size = 0
    for part in parts:
        view = memoryview(part)
        size += len(view)
        while view:
            view = view[os.write(fd, view) :]
    return size
