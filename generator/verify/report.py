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
from operator import itemgetter
from pathlib import Path

from generator import __version__
from generator.problems import ERROR, Problem, from_rows, to_rows
from generator.read.scan import ignore_matcher
from generator.state.database import State
from generator.verify.cached import RACY_SECONDS, RehashPolicy

IMAGE_DEPTH = 2  # root/<vm>/<image dir>/<member>: members are the deepest entries read


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
    taken_at = clock()
    records: list[tuple] = []
    try:
        _walk(str(root), "", 0, ignore_matcher(ignore), records)
    except Unsupported:
        return None
    stats = [r for r in records if len(r) == 7]
    newest = max(
        max(map(itemgetter(4), stats), default=0), max(map(itemgetter(5), stats), default=0)
    )
    digest = hashlib.md5(marshal.dumps(records), usedforsecurity=False).hexdigest()
    return TreeSignature(digest, newest / 1e9, taken_at)


def _walk(path: str, rel: str, depth: int, ignored: Callable, records: list[tuple]) -> None:
    """Append (dir, name, mode, size, mtime_ns, ctime_ns, inode) per entry, errors as entries.

    Directory order is kept as listed: a different order only costs a miss, never a wrong hit.
    """
    try:
        with os.scandir(path) as listing:
            for entry in listing:
                if ignored(entry.name):
                    continue
                if entry.is_symlink():
                    _link(entry, rel, records)
                    continue
                st = entry.stat(follow_symlinks=False)
                records.append(
                    (
                        rel,
                        entry.name,
                        st.st_mode,
                        st.st_size,
                        st.st_mtime_ns,
                        st.st_ctime_ns,
                        st.st_ino,
                    )
                )
                if depth < IMAGE_DEPTH and stat.S_ISDIR(st.st_mode):
                    _walk(entry.path, f"{rel}{entry.name}/", depth + 1, ignored, records)
    except OSError as exc:
        records.append((rel, path, "error", exc.errno))


def _link(entry: os.DirEntry, rel: str, records: list[tuple]) -> None:
    """A symlink: its target's stat and where it leads."""
    try:
        st = os.stat(entry.path)
    except OSError as exc:
        records.append((rel, entry.name, "broken link", exc.errno))
        return
    if stat.S_ISDIR(st.st_mode):
        raise Unsupported(entry.path)
    target = os.path.realpath(entry.path)
    records.append(
        (rel, entry.name, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    )
    records.append((rel, entry.name, "link", target))


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
