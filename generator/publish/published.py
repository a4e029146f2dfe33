"""What the published site says, read back from its catalog.json (the site as it is live).

Kept apart from `deploy` so that reading it does not load the renderer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.catalog.model import Tombstone
from generator.publish.catalog_lines import read_catalog_file
from generator.publish.copies import current_build


@dataclass(frozen=True)
class PublishedCatalog:
    """What the site currently published says, read back from its catalog.json."""

    generated_at: str | None
    image_ids: frozenset[str]
    problems: frozenset[tuple[str, str]]
    # The live catalog.json, read again only for the records of images whose history the
    # state lost (`records`): they are not kept meanwhile.
    source: Path | None = None
    removed: tuple[Tombstone, ...] = ()
    alias_paths: tuple[str, ...] = ()  # `latest/...` pages, kept when their line empties

    def records(self, ids: Collection[str]) -> dict[str, dict]:
        """What the live site shows of these images (those with a page), so that a build whose
        state lost the history still gives every published permalink its page
        (`history.carry_over`). Read again from the file, a line at a time."""
        wanted = {image_id for image_id in ids if _page_id(image_id)}
        if not wanted or self.source is None:
            return {}

        def record(image: dict) -> dict | None:
            return image if image["id"] in wanted else None

        try:
            parsed = read_catalog_file(self.source, {"images": record})
            found = parsed["images"] if parsed is not None else []
            return {image["id"]: image for image in found if image is not None}
        except (ValueError, KeyError, TypeError, AttributeError):
            return {}  # gone unreadable since it was read: as if it listed none of them


def published_catalog(output: Path) -> PublishedCatalog | None:
    """What the live site's catalog.json says, read a line at a time (`catalog_lines`): of
    each image only its id is kept."""
    build = current_build(output)
    if build is None:
        return None
    source = build / "catalog.json"
    try:
        parsed = read_catalog_file(source, {"images": _image_id})
        if parsed is None:
            return None
        ids = frozenset(parsed["images"])
        problems = frozenset((p["path"], p["code"]) for p in parsed["problems"])
        removed = tuple(t for entry in parsed.get("removed", []) if (t := tombstone_of(entry)))
        aliases = tuple(str(a["path"]) for a in parsed.get("aliases", []))
        return PublishedCatalog(parsed.get("generated_at"), ids, problems, source, removed, aliases)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # unreadable: behave as on a first run


def _image_id(image: Any) -> Any:
    return image["id"]


def tombstone_of(entry: dict) -> Tombstone | None:
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
