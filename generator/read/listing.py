"""The directories a walk listed, kept so the scan that follows need not list them again.

A build first signs the tree (`verify.report.signed_tree`: one `stat` per entry) and, when the
signature misses, scans it, which lists and stats the same entries. Listing and stat-ing are
most of both walks, so the signing walk keeps its `os.DirEntry` objects (each caches the stat
it took) and the scan takes each directory from here. The scan then sees exactly what the
signature vouches for, taken before anything is read: a change after the walk shows in the
next run's signature, as before. Anything not kept here (a directory the walk could not list,
a stat that failed) the scan asks the disk for again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class TreeListing:
    """Each listed directory's entries (ignored names included), by path relative to `root`."""

    root: str  # the resolved repository the walk listed
    directories: dict[str, list[os.DirEntry[str]]] = field(default_factory=dict)

    def take(self, root: str, reldir: str) -> list[os.DirEntry[str]] | None:
        """The entries of `reldir` as listed, handed out once so they are freed as the scan
        goes; None when not listed here, or listed under another root (the repository path
        now resolves elsewhere): then the caller lists it itself."""
        if root != self.root:
            return None
        return self.directories.pop(reldir, None)
