"""What the published site says, read back from its catalog.json (the site as it is live).

Kept apart from `deploy` so that reading it does not load the renderer.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from generator.catalog.model import Tombstone
from generator.publish.copies import published_bytes


@dataclass(frozen=True)
class PublishedCatalog:
    """What the site currently published says, read back from its catalog.json."""

    generated_at: str | None
    image_ids: frozenset[str]
    problems: frozenset[tuple[str, str]]
    # What the live site shows of images, kept so a build whose state lost the history can
    # still give every published permalink its page (see history.carry_over).
    records: dict[str, dict] = field(default_factory=dict)
    removed: tuple[Tombstone, ...] = ()
    alias_paths: tuple[str, ...] = ()  # `latest/...` pages, kept when their line empties


def published_catalog(output: Path) -> PublishedCatalog | None:
    data = published_bytes(output, "catalog.json")
    if data is None:
        return None
    try:
        parsed = json.loads(data)
        ids = frozenset(image["id"] for image in parsed["images"])
        problems = frozenset((p["path"], p["code"]) for p in parsed["problems"])
        records = {image["id"]: image for image in parsed["images"] if _page_id(image["id"])}
        removed = tuple(t for entry in parsed.get("removed", []) if (t := _tombstone(entry)))
        aliases = tuple(str(a["path"]) for a in parsed.get("aliases", []))
        return PublishedCatalog(
            parsed.get("generated_at"), ids, problems, records, removed, aliases
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # unreadable: behave as on a first run


def _tombstone(entry: dict) -> Tombstone | None:
    """A tombstone as catalog.json lists it (id, name, removal time); None if it is damaged."""
    try:
        removed_at = dt.datetime.fromisoformat(entry["removed_at"]).timestamp()
        image_id = entry["id"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    moved_to = entry.get("moved_to")
    moved_to = moved_to if _page_id(moved_to) else None
    return (
        Tombstone(image_id, removed_at, {"name": entry.get("name")}, moved_to)
        if _page_id(image_id)
        else None
    )


def _page_id(image_id: object) -> bool:
    """An id read back from the site names a page `images/<vm>/<stem>/` and nothing else."""
    parts = image_id.split("/") if isinstance(image_id, str) else []
    return len(parts) == 2 and all(part not in ("", ".", "..") for part in parts)
