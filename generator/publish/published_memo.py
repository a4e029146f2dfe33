"""The live catalog.json's facts kept in the state, so that a build need not read the file.

Reading back what the live site published (`published.published_catalog`) parses every
image's line for its id: about 0.2 s at 10,000 images, in every build. The build that
published the file knew those facts already; it keeps them in the state beside the file's
identity (device, inode, size, modification and change times), and the next build takes them
from there while the file is that same, untouched file. Writing the file in any way changes
its change time, which no one can set back, so facts are never taken for a file that changed
since; anything else (no record, another file, a damaged record) reads the file as before.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from itertools import chain
from pathlib import Path

from generator.catalog.model import Catalog, Tombstone
from generator.publish.copies import current_build, published_key
from generator.publish.published import PublishedCatalog, published_catalog, tombstone_of
from generator.state.database import State

# The one row of the state's snapshots holding them (kept when digests void the reports).
MEMO = ("published", "catalog")
FileIdentity = list[str | int]


def live_catalog(output: Path, state: State | None) -> PublishedCatalog | None:
    """`published_catalog(output)`, taken from the state when it holds the facts of the very
    file that is live; a file read is remembered for the next build."""
    build = current_build(output)
    if build is None or state is None:
        return published_catalog(output)
    source = build / "catalog.json"
    identity = file_identity(source)  # before reading: a change meanwhile is a change after
    if identity is None:
        return published_catalog(output)
    kept = _recalled(state.snapshot(*MEMO), identity, source)
    if kept is not None:
        return kept
    found = published_catalog(output)
    if found is not None and found.source == source:
        problems = list(chain.from_iterable(found.problems))
        removed, aliases = list(found.removed), list(found.alias_paths)
        _remember(
            state, identity, found.generated_at, list(found.image_ids), problems, removed, aliases
        )
    return found


def remember_published(state: State | None, output: Path, catalog: Catalog) -> None:
    """Keep the facts of the catalog a build just published at `output`: its tombstones and
    aliases through the JSON and the parsing a read of the file would use.

    Only a copy left with its site key holds exactly `catalog` (deploy publishes a copy whose
    signing failed after rendering without one, and with one problem more in hand).
    """
    build = current_build(output)
    if state is None or build is None or not published_key(output):
        return
    source = build / "catalog.json"
    identity = file_identity(source)
    if identity is None:
        return
    head = replace(catalog, images=[], problems=[]).to_json()
    removed = [t for entry in head["removed"] if (t := tombstone_of(entry))]
    aliases = [str(alias["path"]) for alias in head.get("aliases", [])]
    ids = [image.id for image in catalog.images]
    problems = [part for p in catalog.problems for part in (p.path, p.code)]
    _remember(state, identity, catalog.generated_at, ids, problems, removed, aliases)


def file_identity(path: Path) -> FileIdentity | None:
    """What changes whenever the file is written or replaced; None when it cannot be seen."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return [str(path), found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns,
            found.st_ctime_ns]  # fmt: skip


def _remember(
    state: State,
    identity: FileIdentity,
    generated_at: str | None,
    ids: list[str],
    problems: list[str],
    removed: list[Tombstone],
    aliases: list[str],
) -> None:
    """Keep the facts (`problems`: path, code, path, code, ...) as `_recalled` reads them."""
    data = {
        "file": identity,
        "generated_at": generated_at,
        "images": ids,
        "problems": problems,
        "removed": [[t.id, t.removed_at, t.record.get("name"), t.moved_to] for t in removed],
        "aliases": aliases,
    }
    state.save_snapshot(*MEMO, json.dumps(data, separators=(",", ":")), state.clock())


def _recalled(stored: str | None, identity: FileIdentity, source: Path) -> PublishedCatalog | None:
    """The kept facts, when they are those of the file `identity` names; else None."""
    if stored is None:
        return None
    try:
        data = json.loads(stored)
        if data["file"] != identity:
            return None
        removed = tuple(
            Tombstone(image_id, removed_at, {"name": name}, moved_to)
            for image_id, removed_at, name, moved_to in data["removed"]
        )
        return PublishedCatalog(
            data["generated_at"],
            frozenset(data["images"]),
            frozenset(zip(data["problems"][::2], data["problems"][1::2], strict=True)),
            source,
            removed,
            tuple(data["aliases"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
