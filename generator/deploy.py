"""From catalog to published site: refuse a vanished repository, render, publish only changes."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from generator import failpoints
from generator.catalog import Catalog
from generator.config import Config
from generator.errors import RepositoryError
from generator.pages import load_content
from generator.publish import Published, publish, published_bytes, unchanged
from generator.render import render_site
from generator.resources import content_dir

# Losing more than this share of the published images in one run looks like an unmounted volume.
VANISH_SHARE = 0.5
VANISH_MINIMUM = 4  # below this many published images, every change is plausible


@dataclass(frozen=True)
class PublishedCatalog:
    """What the site currently published says, read back from its catalog.json."""

    generated_at: str | None
    image_ids: frozenset[str]
    problems: frozenset[tuple[str, str]]


def published_catalog(output: Path) -> PublishedCatalog | None:
    data = published_bytes(output, "catalog.json")
    if data is None:
        return None
    try:
        parsed = json.loads(data)
        ids = frozenset(image["id"] for image in parsed["images"])
        problems = frozenset((p["path"], p["code"]) for p in parsed["problems"])
        return PublishedCatalog(parsed.get("generated_at"), ids, problems)
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: behave as on a first run


def check_not_vanished(catalog: Catalog, known: frozenset[str], accept_removals: bool) -> None:
    """Raise instead of publishing when most known images disappeared at once."""
    if accept_removals or not known:
        return
    kept = len(known & {image.id for image in catalog.images})
    if not catalog.images or (
        len(known) >= VANISH_MINIMUM and kept < len(known) * (1 - VANISH_SHARE)
    ):
        raise RepositoryError(
            f"'{catalog.repository}': only {kept} of the {len(known)} published images are still "
            "there; keeping the published site (is the volume mounted?). If they were removed on "
            "purpose, run again with --accept-removals"
        )


def deploy(
    catalog: Catalog, config: Config, previous: PublishedCatalog | None
) -> tuple[Catalog, Published]:
    """Publish the catalog; when nothing but the clock changed, write nothing at all.

    `generated_at` stays the time of the last real change, so caches and feeds stay quiet.
    """
    pages = load_content(content_dir())
    if previous and previous.generated_at:
        same_time = replace(catalog, generated_at=previous.generated_at)
        files = render_site(same_time, pages, config.title, config.base_url)
        if unchanged(files, config.output):
            return same_time, Published(changed=False)
    files = render_site(catalog, pages, config.title, config.base_url)
    failpoints.reach("rendering")
    return catalog, publish(files, config.output)
