"""From catalog to published site: refuse a vanished repository, render, publish only changes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from generator import __version__, failpoints
from generator.catalog.model import Catalog
from generator.errors import RepositoryVanished
from generator.publish.copies import Published, publish, published_bytes, published_key
from generator.resources import content_dir, templates_dir
from generator.site.content import ContentPage, load_content
from generator.site.render import catalog_json, render_site

# Losing more than this share of the published images in one run looks like an unmounted volume.
VANISH_SHARE = 0.5
VANISH_MINIMUM = 4  # below this many published images, every change is plausible


@dataclass(frozen=True)
class SiteTarget:
    """Where a site goes and the settings its pages show (from the run's configuration)."""

    output: Path
    title: str
    base_url: str | None = None


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
        raise RepositoryVanished(
            f"'{catalog.repository}': only {kept} of the {len(known)} published images are still "
            "there; keeping the published site (is the volume mounted?). If they were removed on "
            "purpose, run again with --accept-removals"
        )


def site_key(catalog: Catalog, target: SiteTarget, pages: list[ContentPage]) -> str:
    """Everything the pages are rendered from, but the clock: equal keys give equal sites.

    Comparing keys instead of rendered bytes lets a run that found nothing new skip rendering
    (seconds for 10,000 pages).
    """
    digest = hashlib.sha256()
    for part in (__version__, target.title, target.base_url or "", *(p.html for p in pages)):
        digest.update(part.encode() + b"\0")
    for path in sorted(templates_dir().rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes() + b"\0")
    digest.update(catalog_json(replace(catalog, generated_at="")))
    digest.update(repr(catalog.events).encode())
    return digest.hexdigest()


def deploy(
    catalog: Catalog, target: SiteTarget, previous: PublishedCatalog | None
) -> tuple[Catalog, Published]:
    """Publish the catalog; when nothing but the clock changed, write nothing at all.

    `generated_at` stays the time of the last real change, so caches and feeds stay quiet.
    """
    pages = load_content(content_dir())
    key = site_key(catalog, target, pages)
    if previous and previous.generated_at and published_key(target.output) == key:
        return replace(catalog, generated_at=previous.generated_at), Published(changed=False)
    files = render_site(catalog, pages, target.title, target.base_url)
    failpoints.reach("rendering")
    return catalog, publish(files, target.output, key)
