"""Which rendered pages the two copies of a site already hold, by key (see `site.page_memo`)."""

from __future__ import annotations

from pathlib import Path

from generator.publish.manifest import read_manifest
from generator.publish.output_checks import SLOTS, builds_dir, is_real_dir, our_slot
from generator.site.page_memo import PageMemo, read_pages


def page_memo(output: Path) -> PageMemo:
    """Keys of both copies' pages, each with a digest its manifest vouches for.

    The copy about to be written is read last, so its own files win: a page it already holds
    under the same path and key is neither rendered nor written. A copy whose keys another
    program made (before an upgrade) holds none of this program's: it is not read at all.
    """
    live = our_slot(output)
    builds = builds_dir(output)
    target = builds / (SLOTS[1] if live is not None and live.name == SLOTS[0] else SLOTS[0])
    memo = PageMemo()
    for build in (live, target):
        if build is None or not is_real_dir(build):
            continue
        pages = read_pages(build, this_program=True)  # another program's copy: not read further
        manifest = read_manifest(build) if pages else {}
        for path, key in pages.items():
            digest = manifest.get(path)
            if digest:
                memo.known[key] = (digest, build, path)
    return memo
