"""The last report of `verify`, reused while the whole tree is provably as it was.

A cron job mostly finds nothing new. When every entry of the repository (name, mode, size,
mtime, ctime, inode; symlinks followed) is exactly as at the last complete `verify`, the
settings and the program are the same, and no digest was recorded since, then every digest,
name and checksum that report came from is unchanged, so the report still holds. One `stat` per
entry then replaces parsing, evaluating and modelling each image: a 100,000-image no-op costs
about two `find` walks. The racy rule applies to the tree as to each file: a report made within
RACY_SECONDS of the newest change is not kept.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator import __version__
from generator.problems import ERROR, Problem, from_rows, to_rows
from generator.read.listing import TreeListing
from generator.read.scan import ignore_matcher
from generator.state.database import State
from generator.verify.cached import RACY_SECONDS, RehashPolicy

IMAGE_DEPTH = 2  # root/<vm>/<image dir>/<member>: members are the deepest entries read
# Without back-references (version 3 on): the bytes depend on the values alone, not on which
# objects happen to be shared, and no table of every object dumped is kept (6% of the walk).
MARSHAL_VERSION = 2
# Entries the walk keeps for the scan (`read.listing`), about 800 B each with their stats: up to
# 50,000 (40 MB; 10,000 images make 30,000), beyond which it keeps none and the scan lists the
# tree again. Kept unbounded, a build that finds nothing new held 460 MiB at 100,000 images
# instead of 200: the listing is made before the walk knows whether anything changed.
KEEP_ENTRIES = 50_000


class Unsupported(Exception):
    """A symlink to a directory: the scan may follow it, so the walk cannot vouch for it."""


@dataclass(frozen=True)
class TreeSignature:
    """One walk of the tree: a digest of every entry's stat, and when the newest change was."""

    digest: str
    newest: float
    taken_at: float

    @property
    def settled(self) -> bool:
        """Not racy: nothing changed within the timestamp granularity of the walk."""
        return self.taken_at - self.newest >= RACY_SECONDS


@dataclass(frozen=True)
class Summary:
    """What a run reports: the figures of the summary line and the problems."""

    images: int
    files: int
    failures: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.failures == 0 and all(p.severity != ERROR for p in self.problems)


def tree_signature(
    root: Path, ignore: tuple[str, ...], clock: Callable[[], float]
) -> TreeSignature | None:
    """Stat every entry down to image members; None when a symlink leads to a directory."""
    return signed_tree(root, ignore, clock)[0]


def signed_tree(
    root: Path, ignore: tuple[str, ...], clock: Callable[[], float], keep: int = KEEP_ENTRIES
) -> tuple[TreeSignature, TreeListing] | tuple[None, None]:
    """The tree's signature, and the directories its walk listed, for the scan to take
    instead of listing and stat-ing them again (`read.listing`): none once they pass `keep`
    entries. (None, None) when a symlink leads to a directory."""
    taken_at = clock()
    walk = _Walk(str(root.resolve()), ignore_matcher(ignore), keep)
    try:
        walk.directory("", 0)
    except Unsupported:
        return None, None
    signature = TreeSignature(walk.digest.hexdigest(), walk.newest / 1e9, taken_at)
    return signature, TreeListing(walk.root, walk.listed)


class _Walk:
    """One walk: a digest over every entry's stat, the newest change, and what was listed.

    Each directory adds its records (dir, name, mode, size, mtime_ns, ctime_ns, inode) per
    entry, errors as entries, to the digest as one self-delimiting `marshal` dump. Directory
    order is kept as listed: a different order only costs a miss, never a wrong hit.
    """

    def __init__(self, root: str, ignored: Callable[[str], object], keep: int) -> None:
        self.root = root
        self.ignored = ignored
        self.digest = hashlib.md5(usedforsecurity=False)
        self.newest = 0
        self.listed: dict[str, list[os.DirEntry[str]]] = {}
        self.room = keep  # entries that may still be kept; below zero, none are

    def directory(self, rel: str, depth: int) -> None:
        """Sign one directory's entries and those below it, down to image members."""
        path = os.path.join(self.root, rel)
        try:
            with os.scandir(path) as listing:
                entries = list(listing)
        except OSError as exc:
            self.digest.update(marshal.dumps((rel, path, "error", exc.errno), MARSHAL_VERSION))
            return
        self._keep(rel, entries)
        records: list[tuple] = []
        below = []
        for entry in entries:
            if self.ignored(entry.name):
                continue
            if entry.is_symlink():
                self._link(entry, rel, records)
                continue
            try:
                st = entry.stat(follow_symlinks=False)  # kept in `entry` for the scan
            except OSError as exc:
                records.append((rel, entry.name, "error", exc.errno))
                continue
            self._record(rel, entry.name, st, records)
            if depth < IMAGE_DEPTH and stat.S_ISDIR(st.st_mode):
                below.append(f"{rel}/{entry.name}" if rel else entry.name)
        self.digest.update(marshal.dumps(records, MARSHAL_VERSION))
        for child in below:
            self.directory(child, depth + 1)

    def _keep(self, rel: str, entries: list[os.DirEntry[str]]) -> None:
        """Keep a directory's entries for the scan, until more than the walk may keep."""
        self.room -= len(entries)
        if self.room >= 0:
            self.listed[rel] = entries
        elif self.listed:
            self.listed.clear()  # the scan lists the whole tree itself

    def _record(self, rel: str, name: str, st: os.stat_result, records: list[tuple]) -> None:
        mtime, ctime = st.st_mtime_ns, st.st_ctime_ns
        records.append((rel, name, st.st_mode, st.st_size, mtime, ctime, st.st_ino))
        self.newest = max(self.newest, mtime, ctime)

    def _link(self, entry: os.DirEntry[str], rel: str, records: list[tuple]) -> None:
        """A symlink: where it leads, and its target's stat."""
        target = os.path.realpath(entry.path)
        records.append((rel, entry.name, "link", target))
        try:
            st = os.stat(entry.path)
        except OSError as exc:
            records.append((rel, entry.name, "broken link", exc.errno))
            return
        if stat.S_ISDIR(st.st_mode):
            raise Unsupported(entry.path)
        self._record(rel, entry.name, st, records)


def report_key(signature: TreeSignature, settings: tuple) -> str:
    """The tree, the settings that shape a verdict, and this program (version and source)."""
    source = Path(__file__).parent.parent  # the whole package, every stage
    program = sorted(
        (str(path.relative_to(source)), path.stat().st_mtime_ns, path.stat().st_size)
        for path in source.rglob("*.py")
    )
    text = json.dumps([signature.digest, repr(settings), __version__, program])
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def scrub_due(state: State, policy: RehashPolicy, now: float) -> bool:
    """Whether the rehash policy would read anything again (then the full run must happen)."""
    if not policy.active:
        return False
    if policy.older_than_days is None:
        return True
    oldest = state.oldest_read()
    return oldest is not None and now - oldest >= policy.older_than_days * 86400


def load_report(state: State, key: str) -> Summary | None:
    """The stored report for exactly this tree and these settings, if any."""
    stored = state.snapshot("verify", key)
    if stored is None:
        return None
    return summary_from(json.loads(stored))


def save_report(state: State, key: str, summary: Summary, now: float) -> None:
    state.save_snapshot("verify", key, json.dumps(summary_data(summary)), now)


def summary_data(summary: Summary) -> dict:
    """A summary as JSON data, for the state (this report and the last build's)."""
    return {
        "images": summary.images,
        "files": summary.files,
        "failures": summary.failures,
        "problems": to_rows(summary.problems),
    }


def summary_from(data: dict) -> Summary:
    """The summary `summary_data` made (KeyError, TypeError or ValueError when damaged)."""
    problems = list(from_rows(data["problems"]))
    return Summary(data["images"], data["files"], data["failures"], problems)
