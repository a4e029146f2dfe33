"""The cached digester: reuse a stored digest only while the file provably has not changed.

Trust rule: the file's fingerprint (size, mtime, ctime, inode; device left out because NFS
remounts change it) equals the stored one, compared for inequality, never "newer than"; and the
entry is not racy. Racy, as in git's index: a write landing in the same timestamp tick as the
stat taken after hashing leaves the stat unchanged. Timestamps on NFS and FAT can be as coarse
as 1-2 s, so an entry hashed less than RACY_SECONDS after the file's last mtime/ctime is read
again next run. A fixed window costs at most one extra read of a file that was just written;
probing each filesystem's granularity would save that read at the price of more code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from generator.digests import DEFAULT_SET, has_all
from generator.read.scan import FileStat
from generator.state.database import CachedFile, State
from generator.verify.hashing import FileDigest, hash_file

RACY_SECONDS = 2.0
DAY = 86400.0


@dataclass(frozen=True)
class RehashPolicy:
    """Scrubbing: re-read images last read more than `older_than_days` ago, within `budget`."""

    older_than_days: float | None = None
    budget: int | None = None

    @property
    def active(self) -> bool:
        return self.older_than_days is not None or self.budget is not None


@dataclass(frozen=True)
class Candidate:
    """An image whose digests could be reused, as the scrubber sees it."""

    read_at: float
    size: int
    relpaths: tuple[str, ...]


def trusted(row: CachedFile, member: FileStat) -> bool:
    """The stored digest still describes the file's bytes (see the module docstring)."""
    if row[0] != member.size or row[1] != member.mtime_ns:
        return False
    if row[2] != member.ctime_ns or row[3] != member.inode:
        return False
    return row[5] - max(member.mtime_ns, member.ctime_ns) / 1e9 >= RACY_SECONDS


class CachedDigester:
    """A Digester over the state: reuses trusted digests, reads the rest and records them."""

    def __init__(
        self,
        state: State,
        clock: Callable[[], float],
        on_bytes: Callable[[int], None] | None = None,
        drop_cache: bool = False,
        algorithms: tuple[str, ...] = DEFAULT_SET,
    ) -> None:
        self.state = state
        self.algorithms = algorithms
        self.drop_cache = drop_cache
        self.clock = clock
        self.on_bytes = on_bytes
        self.rehash: set[str] = set()
        self.stop = threading.Event()

    def reuse(self, member: FileStat) -> FileDigest | None:
        if member.relpath in self.rehash:
            return None
        row = self.reusable(member)
        return FileDigest(member.relpath, row[4], read_at=row[6], reused=True) if row else None

    def reusable(self, member: FileStat) -> CachedFile | None:
        """The stored row when it is trusted and holds every digest of the set, else None.

        A row lacking an algorithm added since it was stored is read again, all digests at once.
        """
        row = self.state.files.get(member.relpath)
        if row is None or not trusted(row, member) or not has_all(row[4], self.algorithms):
            return None
        return row

    def digest(self, root: Path, member: FileStat, spare_core: bool = False) -> FileDigest:
        result = hash_file(
            root,
            member,
            self.clock,
            self.on_bytes,
            self.stop,
            spare_core,
            self.drop_cache,
            self.algorithms,
        )
        self.state.record(result)
        return result

    def cancel(self) -> None:
        self.stop.set()

    def plan_rehash(self, images: Iterable[tuple[FileStat, ...]], policy: RehashPolicy) -> int:
        """Mark the images to re-read this run despite trusted digests; returns their bytes."""
        if not policy.active:
            return 0
        candidates, required = [], 0
        for members in images:
            rows = [(m, self.reusable(m)) for m in members]
            reusable = [(m, row) for m, row in rows if row is not None]
            required += sum(m.size for m in members) - sum(m.size for m, _ in reusable)
            if reusable:
                read_at = min(row[6] for _, row in reusable)
                size = sum(m.size for m, _ in reusable)
                candidates.append(Candidate(read_at, size, tuple(m.relpath for m, _ in reusable)))
        chosen = pick_rehash(candidates, required, policy, self.clock())
        self.rehash.update(r for c in chosen for r in c.relpaths)
        return sum(c.size for c in chosen)


def pick_rehash(
    candidates: list[Candidate], required: int, policy: RehashPolicy, now: float
) -> list[Candidate]:
    """Oldest read first; skip what does not fit in the budget left after required reads.

    The budget caps what a run reads, so files that changed (always read) use it first. An
    image larger than what is left is skipped for smaller ones; it is first in line next run.
    """
    eligible = [
        c
        for c in candidates
        if policy.older_than_days is None or now - c.read_at >= policy.older_than_days * DAY
    ]
    eligible.sort(key=lambda c: (c.read_at, c.relpaths))
    left = None if policy.budget is None else policy.budget - required
    chosen = []
    for candidate in eligible:
        if left is not None:
            if candidate.size > left:
                continue
            left -= candidate.size
        chosen.append(candidate)
    return chosen
