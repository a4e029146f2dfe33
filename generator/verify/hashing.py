"""Read a file's bytes once into every digest of a set, and tell whether it changed meanwhile."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from generator.digests import DEFAULT_SET, Digest, new_hasher
from generator.read.header_reader import HEAD_BYTES
from generator.read.safe_open import NotAsScanned, open_scanned
from generator.read.scan import FileStat

CHUNK = 64 * 1024
# What the helper reads at a time, and how many such buffers circulate (2 MiB in flight, so
# a thread briefly descheduled does not stall the other). Measured on the 2-core VM, fresh
# processes, warm cache: reading a GiB into 128 KiB buffers costs 0.2-0.45 s of system time,
# into 1 MiB buffers 0.5-1.0 s (the copy out of the page cache misses the cache); the helper
# pays it beside its own hashers, so it decides the speed once SHA-512 is in the set.
HELPER_CHUNK = 128 << 10
BUFFERS = 16
HELPER_MIN_SIZE = 8 << 20  # below this, starting a thread costs more than it saves
DROP_EVERY = 16 << 20  # drop hashed pages from the page cache in steps of this many bytes

Fingerprint = tuple[int, int, int, int]


class Interrupted(Exception):
    """The run is stopping; the file being read is given up, nothing is recorded for it."""


class FileDigest(NamedTuple):
    """The outcome of reading one member file (or of reusing a trusted cached digest).

    A NamedTuple rather than a frozen dataclass: one is made per file per run, cheaply.

    `deferred`: not read this run because the hash budget ran out (nothing is known).
    `read_at` is when the bytes were last actually read (a reused digest keeps its old time);
    `fingerprint` and `hashed_at` are what the state cache stores to trust the digest next run.
    """

    relpath: str
    digests: tuple[Digest, ...] = ()  # empty: nothing computed (or trusted)
    error: str | None = None
    changing: bool = False
    vanished: bool = False
    read_at: float | None = None
    reused: bool = False
    bytes_read: int = 0
    fingerprint: Fingerprint | None = None
    hashed_at: float | None = None
    deferred: bool = False  # left for a later run by --hash-budget: status `pending`


class CacheDropper:
    """Drop a file's pages from the page cache behind the reader (`POSIX_FADV_DONTNEED`).

    Reading terabytes would otherwise evict everything else a shared server caches, for pages
    nobody reads again before the next scrub. As `nocache` and `rsync --drop-cache` do, the
    pages already hashed are dropped every DROP_EVERY bytes, and the rest of the file at the
    end (read-ahead may have cached pages past the last hashed byte). Only clean pages go.

    The file's head (`HEAD_BYTES`) stays: the header reader reads it right after hashing, and
    would otherwise fetch it from the disk again (measured: a fifth of a millisecond per image).
    """

    def __init__(self, fd: int, enabled: bool) -> None:
        self.fd = fd
        self.enabled = enabled and hasattr(os, "posix_fadvise")
        self.hashed = 0
        self.dropped = HEAD_BYTES  # never dropped: see above

    def advance(self, count: int) -> None:
        self.hashed += count
        if self.enabled and self.hashed - self.dropped >= DROP_EVERY:  # head kept: see above
            self._drop(self.dropped, self.hashed - self.dropped)
            self.dropped = self.hashed

    def finish(self) -> None:
        if self.enabled:
            self._drop(HEAD_BYTES, 0)  # length 0: to the end of the file

    def _drop(self, offset: int, length: int) -> None:
        try:
            os.posix_fadvise(self.fd, offset, length, os.POSIX_FADV_DONTNEED)
        except OSError:
            self.enabled = False  # advice only: a file system that refuses it still hashes


def advise_sequential(fd: int) -> None:
    """Tell the kernel the file is read once from start to end (`POSIX_FADV_SEQUENTIAL`):
    Linux then reads ahead twice as far, which keeps a disk streaming while the hashers work.
    Advice only: a file system that refuses it is read all the same."""
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)


def digests_of(
    fd: int,
    algorithms: tuple[str, ...] = DEFAULT_SET,
    on_bytes: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    helper: bool = False,
    limit: int | None = None,
    drop_cache: bool = False,
) -> tuple[tuple[Digest, ...], int]:
    """Every digest of `algorithms` from one read of `fd`; returns (digests, bytes read).

    Reading stops once more than `limit` bytes came: the file grew since it was stat'ed, which
    makes it `changing` anyway, and a file that never ends (one that keeps growing) cannot
    keep the run.

    Not mmap: a file truncated while mapped (`cp` over an image) or a bad sector kills the
    process with SIGBUS, where `read` returns an error. Alone, a 64 KiB buffer that stays in L2
    cache feeds every hasher in turn. With `helper` (a core is spare), a second thread reads
    each buffer and feeds it to part of the set (`split`) while this thread feeds the rest:
    hashlib releases the GIL for large buffers, so MD5 and SHA-256 run on both cores at once.
    With `drop_cache`, the pages hashed are dropped from the page cache behind the reader
    (`CacheDropper`). All digests describe the same bytes.
    """
    hashers = [new_hasher(algorithm) for algorithm in algorithms]
    advise_sequential(fd)
    dropper = CacheDropper(fd, drop_cache)
    with os.fdopen(os.dup(fd), "rb", buffering=0) as handle:
        if helper:
            mine, theirs = split(algorithms)
            here, there = _feeder([hashers[i] for i in mine]), _feeder([hashers[i] for i in theirs])
            total = _read_with_helper(
                handle, here, there, ReadProgress(on_bytes, stop, dropper, limit)
            )
        else:
            total = _read_alone(
                handle, _feeder(hashers), ReadProgress(on_bytes, stop, dropper, limit)
            )
    dropper.finish()
    return tuple(Digest(a, h.hexdigest()) for a, h in zip(algorithms, hashers, strict=True)), total


# Seconds of CPU per GiB on one core of the 2-core VM this was tuned on (hashlib, OpenSSL with
# SHA extensions, 128 KiB updates, thread CPU time); only the ratios matter. READ_COST is the
# helper's share of the read: the copy out of the page cache in 128 KiB reads and the hand-overs.
COST = {"md5": 1.8, "sha256": 0.75, "sha512": 2.1}
READ_COST = 0.35


@functools.lru_cache(maxsize=16)
def split(algorithms: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Which hashers this thread feeds and which the reading helper feeds (indexes).

    The split that makes the slower of the two threads fastest, the helper also paying for the
    read: MD5 here and SHA-256 on the helper; with SHA-512 too, MD5 and SHA-256 here.
    """
    indexes = range(len(algorithms))
    best: tuple[float, tuple[int, ...], tuple[int, ...]] | None = None
    for mask in range(1 << len(algorithms)):
        mine = tuple(i for i in indexes if mask >> i & 1)
        theirs = tuple(i for i in indexes if not mask >> i & 1)
        here = sum(COST.get(algorithms[i], 2.0) for i in mine)
        there = READ_COST + sum(COST.get(algorithms[i], 2.0) for i in theirs)
        if best is None or max(here, there) < best[0]:
            best = (max(here, there), mine, theirs)
    assert best is not None
    return best[1], best[2]


def _feeder(hashers: list[Any]) -> Callable[[memoryview], None] | None:
    """One call that updates every hasher (the bound method itself when there is one)."""
    if not hashers:
        return None
    if len(hashers) == 1:
        return hashers[0].update

    def update(chunk: memoryview) -> None:
        for hasher in hashers:
            hasher.update(chunk)

    return update


class ReadProgress:
    """What happens after each buffer is hashed: the page-cache drop, the progress bar, the
    stop request and the growth limit, in one place for both read loops."""

    __slots__ = ("dropper", "limit", "on_bytes", "stop", "total")

    def __init__(
        self,
        on_bytes: Callable[[int], None] | None,
        stop: threading.Event | None,
        dropper: CacheDropper,
        limit: int | None,
    ) -> None:
        self.on_bytes, self.stop, self.dropper = on_bytes, stop, dropper
        self.limit = limit
        self.total = 0

    def advance(self, count: int) -> bool:
        """Count `count` bytes hashed; False once past the limit (stop reading)."""
        self.total += count
        self.dropper.advance(count)
        if self.on_bytes:
            self.on_bytes(count)
        if self.stop and self.stop.is_set():
            raise Interrupted
        return self.limit is None or self.total <= self.limit


def _read_alone(
    handle: BinaryIO, update: Callable[[memoryview], None] | None, progress: ReadProgress
) -> int:
    """Read into one 64 KiB buffer and hash it, on this thread only."""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while count := handle.readinto(buffer):
        if update:
            update(view[:count])
        if not progress.advance(count):
            break
    return progress.total


def _read_with_helper(
    handle: BinaryIO,
    here: Callable[[memoryview], None] | None,
    there: Callable[[memoryview], None] | None,
    progress: ReadProgress,
) -> int:
    """Hash buffers that a helper thread reads (and hashes with `there`) with `here`.

    BUFFERS buffers circulate between the two threads: a buffer is reused only after both
    fed it to their hashers, so every hasher sees every byte once, in order.
    """
    free: queue.SimpleQueue = queue.SimpleQueue()
    full: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(BUFFERS):
        free.put(bytearray(HELPER_CHUNK))
    helper = threading.Thread(target=_fill, args=(handle, there, free, full), daemon=True)
    helper.start()
    try:
        return _drain(here, free, full, progress)
    finally:
        free.put(None)  # wakes the helper if it waits for a buffer
        helper.join()


def _fill(
    handle: BinaryIO,
    update: Callable[[memoryview], None] | None,
    free: queue.SimpleQueue,
    full: queue.SimpleQueue,
) -> None:
    """The helper: read each free buffer, hash it with `update`, pass it on; (error, 0) or
    (buffer, 0) ends it."""
    try:
        while (buffer := free.get()) is not None:
            count = handle.readinto(buffer)
            if update and count:
                update(memoryview(buffer)[:count])
            full.put((buffer, count))
            if not count:
                return
    except OSError as exc:
        full.put((exc, 0))


def _drain(
    update: Callable[[memoryview], None] | None,
    free: queue.SimpleQueue,
    full: queue.SimpleQueue,
    progress: ReadProgress,
) -> int:
    while True:
        buffer, count = full.get()
        if isinstance(buffer, OSError):
            raise buffer
        if not count:
            return progress.total
        if update:
            update(memoryview(buffer)[:count])
        free.put(buffer)
        if not progress.advance(count):
            return progress.total


def fingerprint(st: os.stat_result) -> Fingerprint:
    """What must stay equal for cached bytes to be trusted: size, mtime, ctime, inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def hash_file(
    root: Path,
    member: FileStat,
    clock: Callable[[], float] = time.time,
    on_bytes: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    spare_core: bool = False,
    drop_cache: bool = False,
    algorithms: tuple[str, ...] = DEFAULT_SET,
) -> FileDigest:
    """Hash one file into every digest of `algorithms`; `changing` when its stat differs
    before and after the read.

    A file gone by the time it is read (deleted or renamed away mid-run) is `vanished`, which
    counts as changing: the next run looks again.
    """
    path = root / member.relpath
    started = clock()
    try:
        fd = open_scanned(root, path, member, noatime=True)
    except NotAsScanned:
        return FileDigest(member.relpath, changing=True, read_at=started)
    except OSError as exc:
        return _failure(member.relpath, exc)
    try:
        before = os.fstat(fd)
        helper = spare_core and member.size >= HELPER_MIN_SIZE
        digests, count = digests_of(
            fd,
            algorithms,
            on_bytes,
            stop,
            helper,
            limit=max(before.st_size, member.size),
            drop_cache=drop_cache,
        )
        after = os.fstat(fd)
        moved = os.stat(path)
    except (OSError, ValueError) as exc:
        return _failure(member.relpath, exc)
    finally:
        os.close(fd)
    changed = count != before.st_size or fingerprint(before) != fingerprint(after)
    changed = changed or fingerprint(after) != fingerprint(moved)
    if changed:
        return FileDigest(member.relpath, changing=True, read_at=started, bytes_read=count)
    return FileDigest(
        member.relpath,
        digests=digests,
        read_at=started,
        bytes_read=count,
        fingerprint=fingerprint(after),
        hashed_at=clock(),
    )


def _failure(relpath: str, exc: OSError | ValueError) -> FileDigest:
    if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
        return FileDigest(relpath, changing=True, vanished=True)
    return FileDigest(relpath, error=getattr(exc, "strerror", None) or str(exc))
