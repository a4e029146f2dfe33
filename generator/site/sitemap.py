"""`sitemap.xml`: every page of the site, absolute when the public base URL is known."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from generator.site.deferred import encoded_parts

if TYPE_CHECKING:
    from generator.catalog.model import Catalog
    from generator.site.content import ContentPage

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def escape(text: str) -> str:
    """XML character data, as `xml.sax.saxutils.escape` makes it. Not imported from there:
    `xml.sax.saxutils` pulls in `urllib.request` (about 20 ms of every build's start)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def page_url(path: str, base_url: str | None) -> str:
    """`images/xen/a/` -> `https://host/vm/images/xen/a/` with a base URL, else left relative."""
    if base_url:
        return base_url.rstrip("/") + "/" + path
    return path or "./"


def sitemap(
    catalog: Catalog,
    pages: list[ContentPage],
    listing: Mapping[str, object],
    base_url: str | None,
) -> Iterator[bytes]:
    """The site's sitemap.xml in parts: content pages, images, removed images, listing pages."""
    paths = itertools.chain(
        ["", *(p.url for p in pages), "problems/"],
        (image.url for image in catalog.images),
        (tombstone.url for tombstone in catalog.removed),
        (path.removesuffix("index.html") for path in listing),
    )
    return sitemap_parts(paths, base_url)


def sitemap_parts(paths: Iterable[str], base_url: str | None) -> Iterator[bytes]:
    """One `<url>` per page, in the order given (callers pass a deterministic order), in parts
    (`deferred.encoded_parts`): at 100,000 images the file is 7 MB, and its lines, text and
    bytes made at once were 35 MB at publishing's fullest point.

    Without `--base-url` the locations stay relative: crawlers need absolute URLs, so a
    published site should be built with its base URL.
    """
    lines = (f"  <url><loc>{escape(page_url(path, base_url))}</loc></url>\n" for path in paths)
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n'
    return encoded_parts([head], lines, ["</urlset>\n"])
