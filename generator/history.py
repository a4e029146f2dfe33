"""Image history across runs: first seen, last changed, removed (tombstones) and news events.

Kept in the state database (tables created by `generator.state` migrations). History is
written only by `build`, after the vanished-repository guard passed, so an unmounted volume
never turns into a flood of removals.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from generator.catalog import Catalog, Image

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
FEED_EVENTS = 50  # how many events the feed and the index keep showing


@dataclass(frozen=True)
class Event:
    """One piece of news about one image; (image_id, kind, at) is its stable identity."""

    image_id: str
    kind: str
    at: float
    title: str


@dataclass(frozen=True)
class Tombstone:
    """An image that left the repository; its permalink keeps a page saying so."""

    id: str
    removed_at: float
    record: dict[str, Any]


@dataclass
class History:
    """What the catalog shows of the past: per-image dates, tombstones, recent events."""

    first_seen: dict[str, float] = field(default_factory=dict)
    last_changed: dict[str, float] = field(default_factory=dict)
    removed: list[Tombstone] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def fingerprint(image: Image) -> tuple[str | None, str]:
    """(expected checksum, description digest): what makes a change newsworthy."""
    if image.multi_file:
        listing = "\n".join(f"{m.name} {m.expected_md5}" for m in image.members)
        expected = hashlib.sha256(listing.encode()).hexdigest() if image.members else None
    else:
        expected = image.expected_md5
    description = json.dumps([image.description_text, image.fields], sort_keys=True, default=str)
    return expected, hashlib.sha256(description.encode()).hexdigest()


def update_history(connection: sqlite3.Connection, catalog: Catalog, now: float) -> History:
    """Record this run's images, derive events, and return the history to publish."""
    rows = {row[0]: row[1:] for row in connection.execute(
        "SELECT id, expected_md5, description_sha256, removed_at FROM images"
    )}  # fmt: skip
    baseline = not rows  # a new or rebuilt state: remember, but announce nothing
    events: list[Event] = []
    with connection:
        for image in catalog.images:
            events += _record_image(connection, image, rows.get(image.id), now, baseline)
        current = {image.id for image in catalog.images}
        for image_id, (_, _, removed_at) in rows.items():
            if image_id not in current and removed_at is None:
                connection.execute("UPDATE images SET removed_at = ? WHERE id = ?", (now, image_id))
                events.append(
                    Event(image_id, REMOVED, now, f"{image_id} removed from the repository")
                )
        connection.executemany(
            "INSERT OR IGNORE INTO events (image_id, kind, at, title) VALUES (?, ?, ?, ?)",
            [(e.image_id, e.kind, e.at, e.title) for e in events],
        )
    return read_history(connection)


def _record_image(
    connection: sqlite3.Connection, image: Image, row: tuple | None, now: float, baseline: bool
) -> list[Event]:
    expected, description = fingerprint(image)
    record = json.dumps(image.to_json(), sort_keys=True)
    if row is None or row[2] is not None:  # new, or back after removal
        connection.execute(
            "INSERT INTO images (id, first_seen, last_seen, last_changed, removed_at, expected_md5, "
            "description_sha256, record) VALUES (?1, ?2, ?2, ?2, NULL, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE "
            "SET last_seen = ?2, last_changed = ?2, removed_at = NULL, expected_md5 = ?3, "
            "description_sha256 = ?4, record = ?5",
            (image.id, now, expected, description, record),
        )
        return [] if baseline else [Event(image.id, ADDED, now, f"{image.id} added")]
    what = [
        name
        for name, old, new in (("checksum", row[0], expected), ("description", row[1], description))
        if old != new
    ]
    changed = ", ".join(what)
    connection.execute(
        "UPDATE images SET last_seen = ?2, expected_md5 = ?3, description_sha256 = ?4, record = ?5"
        + (", last_changed = ?2" if what else "")
        + " WHERE id = ?1",
        (image.id, now, expected, description, record),
    )
    return [Event(image.id, CHANGED, now, f"{image.id}: new {changed}")] if what else []


def read_history(connection: sqlite3.Connection, limit: int = FEED_EVENTS) -> History:
    """Everything the site shows of the past, in a stable order."""
    history = History()
    for image_id, first_seen, last_changed, removed_at, record in connection.execute(
        "SELECT id, first_seen, last_changed, removed_at, record FROM images ORDER BY id"
    ):
        history.first_seen[image_id] = first_seen
        if last_changed is not None:
            history.last_changed[image_id] = last_changed
        if removed_at is not None:
            history.removed.append(Tombstone(image_id, removed_at, json.loads(record or "{}")))
    history.events = [Event(*row) for row in connection.execute(
        "SELECT image_id, kind, at, title FROM events ORDER BY at DESC, image_id, kind LIMIT ?", (limit,)
    )]  # fmt: skip
    return history
