"""Versions and renames, recorded with the history of a build.

An image whose content key (`Image.content_key`) changed gets a new version. An image that
appears (new, or back) with the key of an image that left the repository (in this run or an
earlier one) is that image renamed: the old permalink becomes a redirect, the new id inherits
the versions, and the feed says "renamed" instead of "added" and "removed".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from generator.catalog.facts import ImageFacts
from generator.catalog.model import Catalog, Event
from generator.state.versions import (
    forget_moves,
    moved_ids,
    record_move,
    store_versions,
)

RENAMED = "renamed"


def record_versions(
    connection: sqlite3.Connection, catalog: Catalog, before: dict[str, tuple], events: list[Event],
    now: float,
) -> list[Event]:  # fmt: skip
    """Store new versions and renames (inside the caller's transaction); return the news.

    `before` is the history as it was when this build began: id -> (expected_md5,
    description_sha256, removed_at, 1 if a record was published else None, content key,
    record_token).
    """
    keys = {image_id: row[4] for image_id, row in before.items()}
    present = {image.id for image in catalog.images}
    moved = moved_ids(connection)
    back = [old for old in moved if old in present]
    forget_moves(connection, back)
    moves = _renames(catalog.images, before, keys, set(moved) - set(back), present)
    versions: list[tuple[str, dict]] = []
    for image in catalog.images:
        key = image.content_key
        if key is None or key == keys.get(image.id):
            continue
        old = moves.get(image.id)
        if old is not None:
            record_move(connection, old, image.id, now)
        event = RENAMED if old else ("changed" if keys.get(image.id) else "added")
        version = {"at": now, "event": event, "md5": key, "size_bytes": image.size_bytes}
        version.update(sha256=image.sha256, moved_from=old)
        versions.append((image.id, version))
    store_versions(connection, versions)  # after the moves: a rename's own versions come first
    return _renamed_news(events, moves, now)


def _renames(
    images: Sequence[ImageFacts], before: dict[str, tuple], keys: dict[str, str | None], moved: set[str],
    present: set[str],
) -> dict[str, str]:  # fmt: skip
    """New id -> old id for each appearing image whose content left under another name."""
    gone: dict[str, str] = {}
    left = (i for i, row in before.items() if i not in present and row[3] is not None)
    for image_id in sorted(left):  # the few that left, not every image
        key = keys.get(image_id)
        if image_id not in moved and key:
            gone.setdefault(key, image_id)
    renames = {}
    for image in images:
        row = before.get(image.id)
        appeared = row is None or row[3] is None or row[2] is not None
        key = image.content_key
        if appeared and key in gone:
            renames[image.id] = gone.pop(key)
    return renames


def _renamed_news(events: list[Event], moves: dict[str, str], now: float) -> list[Event]:
    """One "renamed" entry in place of the "added" and "removed" ones of each rename."""
    if not moves:
        return events
    olds = set(moves.values())
    kept = [
        e
        for e in events
        if not (e.kind == "added" and e.image_id in moves)
        and not (e.kind == "removed" and e.image_id in olds)
    ]
    renamed = [Event(new, RENAMED, now, f"Renamed: {old} to {new}") for new, old in moves.items()]
    return kept + renamed
