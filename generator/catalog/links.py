"""Absolute links of a catalog: each image's download address and its permanent page address.

Both come from settings (`download-base-url`, `base-url`), not from the repository, so they are
added to the catalog once it is made, for `build` only; without a setting the link is absent.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from generator.catalog.model import Catalog, Image, with_fields


def absolute(base_url: str, relpath: str) -> str:
    """`relpath` (already percent-encoded) under `base_url`, with exactly one slash between."""
    return f"{base_url.rstrip('/')}/{relpath}"


def download_url(image: Image, download_base_url: str) -> str:
    """`<base>/<vm>/<name>`: the repository path, percent-encoded; a directory ends with `/`."""
    path = quote(image.path, safe="/")
    return absolute(download_base_url, path + ("/" if image.multi_file else ""))


def with_links(catalog: Catalog, base_url: str | None, download_base_url: str | None) -> Catalog:
    """The catalog whose images carry `permalink` and `download_url` where configured."""
    if not base_url and not download_base_url:
        return catalog
    images = [
        with_fields(
            image,
            permalink=absolute(base_url, image.url) if base_url else None,
            download_url=download_url(image, download_base_url) if download_base_url else None,
        )
        for image in catalog.images
    ]
    return replace(catalog, images=images)
