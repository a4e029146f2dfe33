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
    """Scrubbing: re-read images last read more than `older_than_days` ago, within `budget`;
    and reading again files that lack a newly configured digest, within `upgrade_budget`."""

    older_than_days: float | None = None
    budget: int | None = None
    # Files whose digests lack an algorithm added to the set: re-read within this many bytes
    # (the smaller of --rehash-budget and --hash-budget), all at once when None.
    upgrade_budget: int | None = None

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
        paths: list[str] | None = None,
    ) -> None:
        """`paths`: the only files it will be asked about (their rows alone are read), when
        known; without them, every file row of the state."""
        self.state = state
        self.paths = paths
        self._rows: dict[str, CachedFile] | None = None
        self.algorithms = algorithms
        self.drop_cache = drop_cache
        self.clock = clock
        self.on_bytes = on_bytes
        self.rehash: set[str] = set()
        self.stop = threading.Event()

    def reuse(self, member: FileStat) -> FileDigest | None:
        """The stored digests when trusted, even without an algorithm added since they were
        stored: `plan_rehash` marks such files for reading within the budgets, and a file
        left for later shows its digests without the new one meanwhile."""
        row = self._reused_row(member)
        return FileDigest(member.relpath, row[4], read_at=row[6], reused=True) if row else None

    def will_read(self, member: FileStat) -> bool:
        """Whether the file is read this run (`reuse` gives nothing): untrusted, or marked."""
        return self._reused_row(member) is None

    def _reused_row(self, member: FileStat) -> CachedFile | None:
        """The row `reuse` gives the digests of: trusted, and the file not marked to be read."""
        return None if member.relpath in self.rehash else self.trusted_row(member)

    def trusted_row(self, member: FileStat) -> CachedFile | None:
        """The stored row when it still describes the file's bytes, else None."""
        if self._rows is None:
            state = self.state
            self._rows = state.files if self.paths is None else state.file_rows(self.paths)
        row = self._rows.get(member.relpath)
        return row if row is not None and trusted(row, member) else None

    def reusable(self, member: FileStat) -> CachedFile | None:
        """The stored row when it is trusted and holds every digest of the set, else None."""
        row = self.trusted_row(member)
        return row if row is not None and has_all(row[4], self.algorithms) else None

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

    def plan_rehash(
        self, images: Iterable[tuple[FileStat, ...]], policy: RehashPolicy
    ) -> tuple[int, int]:
        """Mark the files to re-read this run despite trusted digests.

        First the files whose stored digests lack an algorithm of the set (the setting gained
        one), within `policy.upgrade_budget`, then the scrub. Returns (bytes marked, files
        still lacking an algorithm after this run).
        """
        scrub, upgrades, required = [], [], 0
        for members in images:
            complete, partial = [], []
            for member in members:
                row = self.trusted_row(member)
                if row is None:
                    required += member.size
                else:
                    whole = has_all(row[4], self.algorithms)
                    (complete if whole else partial).append((member, row))
            scrub += [_candidate(complete)] if complete else []
            upgrades += [_candidate(partial)] if partial else []
        now = self.clock()
        chosen = pick_rehash(upgrades, required, RehashPolicy(budget=policy.upgrade_budget), now)
        lacking = sum(len(c.relpaths) for c in upgrades) - sum(len(c.relpaths) for c in chosen)
        if policy.active:
            required += sum(c.size for c in chosen)
            chosen += pick_rehash(scrub, required, policy, now)
        self.rehash.update(r for c in chosen for r in c.relpaths)
        return sum(c.size for c in chosen), lacking


def _candidate(rows: list[tuple[FileStat, CachedFile]]) -> Candidate:
    """An image's files that could be re-read, dated by the oldest read among them."""
    return Candidate(
        min(r[6] for _, r in rows), sum(m.size for m, _ in rows), tuple(m.relpath for m, _ in rows)
    )


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
