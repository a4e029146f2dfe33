"""Pages and lists about the past: tombstone pages, recent changes on the index."""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.model import Catalog, Event, Tombstone, image_url, iso_time
from generator.site.labels import os_label, time_label, vm_label
from generator.site.views import Fact, Link, Nav, NewsItem, filter_href

RECENT = 10  # entries in each list on the index
KIND_LABELS = {"added": "Added", "changed": "Changed", "renamed": "Renamed", "removed": "Removed"}


@dataclass(frozen=True)
class RemovedPage:
    """The permalink of an image that left the repository: it says so and what it was."""

    nav: Nav
    name: str
    removed_at: str
    removed: str
    facts: list[Fact]
    related: list[Link]


def news_items(events: list[Event], root: str = "") -> list[NewsItem]:
    items = []
    for event in events[:RECENT]:
        at = iso_time(event.at) or ""
        label = KIND_LABELS.get(event.kind, event.kind)
        items.append(
            NewsItem(
                event.kind,
                label,
                event.title.removeprefix(f"{label}: "),  # the label says it already
                f"{root}{image_url(event.image_id)}",
                at,
                time_label(at),
            )
        )
    return items


def recently_removed(catalog: Catalog) -> list[NewsItem]:
    """The newest tombstones first: images people may still be looking for."""
    newest = sorted(catalog.removed, key=lambda t: (-t.removed_at, t.id))[:RECENT]
    return [
        NewsItem(
            "removed", "Removed", t.name, t.url, at := iso_time(t.removed_at) or "", time_label(at)
        )
        for t in newest
    ]


def removed_page(tombstone: Tombstone, nav: Nav) -> RemovedPage:
    record = tombstone.record
    at = iso_time(tombstone.removed_at) or ""
    shown = (
        ("VM software", vm_label(str(record.get("vm") or ""))),
        ("Operating system", os_label(record.get("os")) if record.get("os") else ""),
        ("Architecture", str(record.get("arch") or "")),
        ("Word size", f"{record['word_size']}-bit" if record.get("word_size") else ""),
        ("STAR library", str(record.get("star_lib") or "")),
        ("Maximum size", str(record.get("max_size") or "")),
        ("Was at", str(record.get("path") or "")),
        ("Last checksum", str(record.get("expected_md5") or "")),
    )
    facts = [Fact(label, value) for label, value in shown if value]
    related = [
        Link(filter_href(nav.root, **{field: str(record[field])}), f"Other images for {label}")
        for field, label in (
            ("os", "the same operating system"),
            ("star_lib", "the same STAR library"),
        )
        if record.get(field)
    ]
    return RemovedPage(nav, tombstone.name, at, time_label(at), facts, related)
