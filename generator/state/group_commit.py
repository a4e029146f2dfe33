"""Digests recorded as computed, several files to a transaction.

One transaction per file cost 4 s of a 10,000-image first build (each commit writes its B-tree
pages to the WAL again). Rows now wait here and are committed together, within bounds that keep
the promise of the state (a killed run does not read again what it finished):

* at most `INTERVAL` seconds after a digest is computed, by a timer if no other file ends first;
* at once after a file of `LARGE` bytes or more (reading it took longer than the wait saves);
* at once for the first file of a run, and whenever the state is read, flushed or closed.

A `kill -9` thus loses at most the digests of the last `INTERVAL` seconds of small files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.verify.hashing import FileDigest

INTERVAL = 0.5  # seconds a computed digest may wait for its commit
LARGE = 64 << 20  # bytes: a file this large is committed alone, at once
# (sql, rows) pairs run with `executemany`, in this order, in one transaction.
Batch = list[tuple[str, list[tuple]]]
FileRow = tuple  # relpath, size, mtime_ns, ctime_ns, inode, hashed_at, read_at
Pending = dict[str, tuple[FileRow | None, list[tuple[str, str, str]]]]


class GroupCommit:
    """The digest rows of files read but not yet committed, and when to commit them."""

    def __init__(self, commit: Callable[[Batch], None], interval: float = INTERVAL) -> None:
        self._commit = commit
        self.interval = interval
        self._pending: Pending = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last = -interval  # the first file of a run is committed at once

    def add(self, digest: FileDigest) -> None:
        """Queue one file's outcome: its new row and digests, or forgetting a changing file."""
        relpath = digest.relpath
        if digest.digests and digest.fingerprint and digest.hashed_at is not None:
            row = (relpath, *digest.fingerprint, digest.hashed_at, digest.read_at)
            entry = (row, [(relpath, *d) for d in digest.digests])
        elif digest.changing:
            entry = (None, [])
        else:
            return
        with self._lock:
            self._pending[relpath] = entry  # a later outcome of the same file replaces it
            waited = time.monotonic() - self._last
            if digest.bytes_read >= LARGE or waited >= self.interval:
                self._flush()
            elif self._timer is None:
                self._timer = threading.Timer(self.interval - waited, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Commit every queued row now."""
        with self._lock:
            self._flush()

    def close(self) -> None:
        """Commit what is queued and stop the timer."""
        self.flush()

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, {}
        if pending:  # (a flush with nothing queued leaves the next file's commit immediate)
            self._last = time.monotonic()
            self._commit(batch(pending))


def batch(pending: Pending) -> Batch:
    """The statements of queued files: each file's old digests go, its new row and digests come.

    A changing file (no row) loses its row and digests, so its next read is never skipped.
    """
    rows = [row for row, _ in pending.values() if row is not None]
    gone = [(relpath,) for relpath, (row, _) in pending.items() if row is None]
    digests = [d for _, ds in pending.values() for d in ds]
    return [
        ("DELETE FROM file_digests WHERE relpath = ?", [(relpath,) for relpath in pending]),
        ("DELETE FROM files WHERE relpath = ?", gone),
        ("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", rows),
        ("INSERT INTO file_digests VALUES (?, ?, ?)", digests),
    ]
