"""Image history across builds: first seen, last changed, removed (tombstones) and news events.

Lives in the state database (`images` and `events` tables). Only `build` writes it, after the
vanished-repository guard passed, so an unmounted volume never becomes a flood of removals.
A state without history (new or rebuilt) records what it finds and announces nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from generator.catalog.model import Catalog, Event, Image, Tombstone, iso_time, with_fields
from generator.catalog.moves import record_versions
from generator.problems import Problem, problem
from generator.state.transaction import transaction
from generator.state.versions import moved_ids, published_versions

if TYPE_CHECKING:
    from generator.publish.published import PublishedCatalog
    from generator.state.database import State

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
FEED_EVENTS = 50  # events kept on show in the feed and on the index
WRITE_BATCH = 2000  # images' rows written at a time


@dataclass
class History:
    """What the site shows of the past: per-image dates, tombstones, recent events."""

    first_seen: dict[str, float] = field(default_factory=dict)
    last_changed: dict[str, float] = field(default_factory=dict)
    removed: list[Tombstone] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # image id -> its versions as catalog.json lists them (ISO times, newest first)
    versions: dict[str, list[dict]] = field(default_factory=dict)


def fingerprint(image: Image) -> tuple[str | None, str]:
    """(checksum digest, description digest): the changes worth a feed entry."""
    if image.multi_file:
        listing = "\n".join(f"{m.name} {m.expected_md5}" for m in image.members)
        expected = hashlib.sha256(listing.encode()).hexdigest() if image.members else None
    else:
        expected = image.expected_md5
    description = json.dumps([image.description_text, image.fields], sort_keys=True, default=str)
    return expected, hashlib.sha256(description.encode()).hexdigest()


# An image new to the history, or back after a removal; a known image that changed; and one
# whose record changed (a new token) but not what its feed entries are about.
ADD_IMAGE = (
    "INSERT INTO images (id, first_seen, last_seen, last_changed, expected_md5, description_sha256, record, record_token) "
    "VALUES (?1, ?2, ?2, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET last_seen = ?2, "
    "last_changed = ?2, removed_at = NULL, expected_md5 = ?3, description_sha256 = ?4, record = ?5, "
    "record_token = ?6"
)
CHANGE_IMAGE = (
    "UPDATE images SET last_seen = ?2, last_changed = ?2, expected_md5 = ?3, description_sha256 = ?4, "
    "record = ?5, record_token = ?6 WHERE id = ?1"
)
NEW_TOKEN = "UPDATE images SET record_token = ?2 WHERE id = ?1"


def update_history(connection: sqlite3.Connection, catalog: Catalog, now: float) -> History:
    """Record this build's images, store the events it finds, return the history to show.

    All rows are written in one transaction, `WRITE_BATCH` images' at a time.
    """
    # Whether a record was published (1 or NULL), not the record: 1.6 kB an image, unused here;
    # the content key, for the versions (`moves.record_versions`); the record's token.
    query = (
        "SELECT id, expected_md5, description_sha256, removed_at, "
        "CASE WHEN record IS NOT NULL THEN 1 END, md5, record_token FROM images"
    )
    rows = {row[0]: row[1:] for row in connection.execute(query)}
    announce = any(row[3] is not None for row in rows.values())  # history has run before
    events: list[Event] = []
    writes: dict[str, list[tuple]] = {ADD_IMAGE: [], CHANGE_IMAGE: [], NEW_TOKEN: []}
    with transaction(connection):
        for image in catalog.images:
            row = rows.get(image.id)
            if row and image.record_token and row[5] == image.record_token and _kept(row):
                continue  # the very record whose fingerprint the row holds: unchanged
            event = _record(writes, image, row, now)
            if event and announce:
                events.append(event)
            if len(writes[ADD_IMAGE]) + len(writes[CHANGE_IMAGE]) >= WRITE_BATCH:
                _write_rows(connection, writes)
        _write_rows(connection, writes)
        present = {image.id for image in catalog.images}
        gone = sorted(i for i, row in rows.items() if i not in present and row[2] is None)
        events += [Event(i, REMOVED, now, f"Removed: {i}") for i in gone if rows[i][3] is not None]
        connection.executemany(
            "UPDATE images SET removed_at = ? WHERE id = ?", [(now, i) for i in gone]
        )
        events = record_versions(connection, catalog, rows, events, now)
        connection.executemany(
            "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?)",
            [(e.image_id, e.kind, e.at, e.title) for e in events],
        )
    return read_history(connection)


def _write_rows(connection: sqlite3.Connection, writes: dict[str, list[tuple]]) -> None:
    """Write the queued rows and empty the queues: a first build writes the record of every
    image (1.6 KB each), never all held at once."""
    for sql, values in writes.items():
        connection.executemany(sql, values)
        values.clear()


def _record(
    writes: dict[str, list[tuple]], image: Image, row: tuple | None, now: float
) -> Event | None:
    """Queue what changed about one image (nothing, on an ordinary run) and name the news."""
    expected, description = fingerprint(image)
    if row is not None and _kept(row) and (row[0], row[1]) == (expected, description):
        if image.record_token and row[5] != image.record_token:
            writes[NEW_TOKEN].append((image.id, image.record_token))  # then not made again
        return None  # known, present, unchanged
    record = json.dumps(image.to_json(), sort_keys=True)
    values = (image.id, now, expected, description, record, image.record_token or None)
    if row is None or row[3] is None or row[2] is not None:
        writes[ADD_IMAGE].append(values)
        return Event(image.id, ADDED, now, f"Added: {image.id}")
    writes[CHANGE_IMAGE].append(values)
    what = " and ".join(
        n
        for n, old, new in (("checksum", row[0], expected), ("description", row[1], description))
        if old != new
    )
    return Event(image.id, CHANGED, now, f"New {what}: {image.id}")


def _kept(row: tuple) -> bool:
    """A row of an image published (a record) and present (not removed) at the last build."""
    return row[3] is not None and row[2] is None


def read_history(connection: sqlite3.Connection, limit: int = FEED_EVENTS) -> History:
    """Everything the site shows of the past, in a stable order."""
    history = History(versions=published_versions(connection, iso_time))
    moves = moved_ids(connection)
    query = (  # the record only of the removed: the tombstones show it
        "SELECT id, first_seen, last_changed, removed_at, CASE WHEN removed_at IS NOT NULL "
        "THEN record END FROM images WHERE record IS NOT NULL ORDER BY id"
    )
    for image_id, first_seen, last_changed, removed_at, record in connection.execute(query):
        history.first_seen[image_id] = first_seen
        if last_changed is not None:
            history.last_changed[image_id] = last_changed
        if removed_at is not None:
            tombstone = Tombstone(image_id, removed_at, json.loads(record), moves.get(image_id))
            history.removed.append(tombstone)
    rows = connection.execute(
        "SELECT image_id, kind, at, title FROM events ORDER BY at DESC, image_id, kind LIMIT ?",
        (limit,),
    )
    history.events = [Event(*row) for row in rows]
    return history


def with_history(
    catalog: Catalog, history: History, more: Callable[[Image], dict[str, Any]] | None = None
) -> Catalog:
    """The catalog as published: each image's dates, the tombstones and the recent events;
    `more`: other fields to set on each image in the same copy (`links.link_fields`)."""
    images = [
        with_fields(
            image,
            first_seen=iso_time(history.first_seen.get(image.id)),
            last_changed=iso_time(history.last_changed.get(image.id)),
            history=_holding_image_digests(history.versions.get(image.id) or [], image),
            **(more(image) if more is not None else {}),
        )
        for image in catalog.images
    ]
    return replace(catalog, images=images, removed=history.removed, events=history.events)


def _holding_image_digests(versions: list[dict[str, Any]], image: Image) -> list[dict[str, Any]]:
    """The versions, those whose digests are the image's holding the image's own texts rather
    than equal copies read from the state (0.2 KB an image)."""
    for version in versions:
        for name in ("md5", "sha256"):
            mine = getattr(image, name)
            if mine is not None and version.get(name) == mine:
                version[name] = mine
    return versions


def carry_over(
    history: History, published: PublishedCatalog, present: set[str], now: float
) -> History:
    """Keep every permalink of the live site when the state lost (or never had) its history.

    An image the site published that is neither here nor a known tombstone becomes one, with
    its published record (read back only for such images); a tombstone the site published
    stays one. Nothing the state knows is replaced.
    """
    known = present | {t.id for t in history.removed}
    kept = list(history.removed)
    for tombstone in published.removed:
        if tombstone.id not in known:
            kept.append(tombstone)
            known.add(tombstone.id)
    lost = published.image_ids - known
    for image_id, record in published.records(lost).items():
        kept.append(Tombstone(image_id, now, record))
    if len(kept) == len(history.removed):
        return history
    return replace(history, removed=sorted(kept, key=lambda t: t.id))


def published_history(
    catalog: Catalog, state: State, previous: PublishedCatalog | None, now: float
) -> tuple[History, list[Problem]]:
    """The history to publish, and the state's problems the catalog does not show yet.

    A state that cannot be written (read-only, full, corrupt, half-migrated) must not stop the
    site: the run publishes with a `state_not_saved` warning, and never with fewer permalinks
    than the live site (its tombstones and images are carried over).
    """
    late: list[Problem] = []
    state.flush()  # the digests still queued: a failure to save them is reported with the rest
    try:
        history = update_history(state.connection, catalog, now)
    except sqlite3.Error as exc:
        history = History()
        remedy = (
            "check the state directory (space, permissions) or delete the state; removed images "
            "keep the pages the live site shows meanwhile"
        )
        action = "record the image history in"
        late.append(
            problem("state_not_saved", state.path.name, action=action, error=exc, remedy=remedy)
        )
    late += state.problems  # also those found after the catalog was made (the guard's query)
    if previous is not None:
        present = {image.id for image in catalog.images}
        history = carry_over(history, previous, present, now)
    return history, [p for p in late if p not in set(catalog.problems)]
