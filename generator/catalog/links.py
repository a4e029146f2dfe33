"""Absolute links of a catalog: each image's download address and its permanent page address.

Both come from settings (`download-base-url`, `base-url`), not from the repository, so they are
added to the catalog once it is made, for `build` only; without a setting the link is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from generator.catalog.model import Image


def absolute(base_url: str, relpath: str) -> str:
    """`relpath` (already percent-encoded) under `base_url`, with exactly one slash between."""
    return f"{base_url.rstrip('/')}/{relpath}"


def download_url(image: Image, download_base_url: str) -> str:
    """`<base>/<vm>/<name>`: the repository path, percent-encoded; a directory ends with `/`."""
    path = quote(image.path, safe="/")
    return absolute(download_base_url, path + ("/" if image.multi_file else ""))


def link_fields(
    base_url: str | None, download_base_url: str | None
) -> Callable[[Image], dict[str, str | None]] | None:
    """Each image's `permalink` and `download_url` where configured (None: neither is): set
    with the history's fields, in the one copy of each image `history.with_history` makes."""
    if not base_url and not download_base_url:
        return None

    def links(image: Image) -> dict[str, str | None]:
        return {
            "permalink": absolute(base_url, image.url) if base_url else None,
            "download_url": download_url(image, download_base_url) if download_base_url else None,
        }

    return links
