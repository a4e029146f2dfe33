"""simplestreams (`streams/v1/`): the catalog as a product stream that mirror tools read.

A product per image, one version named by the date the image last changed, and an item per
file with its path, size and digests. Item paths are relative to the mirror root, the folder
that holds `streams/`: the repository root, which `download-base-url` serves. So `streams/`
must be served at `<download-base-url>streams/`. Only `verified` images are listed: a
mirror checks every item against its digests, and must not be told to expect bytes that did
not match their `.checksum` (nor can it fetch an item without a digest).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any

from generator.export.clean import json_file

CONTENT_ID = "gov.bnl.star:vm-images"
INDEX = "streams/v1/index.json"
PRODUCTS = f"streams/v1/{CONTENT_ID}.json"
DIGESTS = ("md5", "sha256", "sha512")
PRODUCT_FIELDS = ("vm", "os", "arch", "word_size", "star_lib", "detail", "format")


def streams(catalog: dict[str, Any]) -> dict[str, bytes]:
    """The index and the one products file it points to."""
    updated = rfc2822(catalog.get("generated_at"))
    products = {
        product_name(image): product(image)
        for image in catalog.get("images", [])
        if image.get("status") == "verified"
    }
    tree = {
        "content_id": CONTENT_ID,
        "datatype": "image-downloads",
        "format": "products:1.0",
        "updated": updated,
        "products": products,
    }
    index = {
        "format": "index:1.0",
        "updated": updated,
        "index": {
            CONTENT_ID: {
                "datatype": "image-downloads",
                "format": "products:1.0",
                "path": PRODUCTS,
                "updated": updated,
                "products": sorted(products),
            }
        },
    }
    return {INDEX: json_file(index), PRODUCTS: json_file(tree)}


def rfc2822(iso: Any) -> str:
    """simplestreams' time stamp form (`Tue, 01 Dec 2026 19:49:37 +0000`)."""
    try:
        when = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return email.utils.format_datetime(when.astimezone(dt.UTC))


def product_name(image: dict[str, Any]) -> str:
    return f"{CONTENT_ID}:{image['id']}"


def version_name(image: dict[str, Any]) -> str:
    """`20240301`: the day the image last changed (first seen, verified, else `unknown`)."""
    for key in ("last_changed", "first_seen", "verified_at"):
        value = image.get(key)
        if isinstance(value, str) and len(value) >= 10:
            return value[:10].replace("-", "")
    return "unknown"


def product(image: dict[str, Any]) -> dict[str, Any]:
    """Fields to filter on (`sstream-query ... vm=xen`), then the one version and its items."""
    data = {key: str(image[key]) for key in PRODUCT_FIELDS if image.get(key) is not None}
    data["release_title"] = image["name"]
    if image.get("permalink") or image.get("url"):
        data["page"] = image.get("permalink") or image.get("url")
    data["versions"] = {version_name(image): {"items": items(image)}}
    return data


def items(image: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One item per file: the image file, or each member of a directory image."""
    if not image.get("multi_file"):
        return {"disk": item(image["path"], image.get("size_bytes"), image, image)}
    return {
        f"file{number}": item(
            f"{image['path']}/{member['name']}", member.get("size"), member, image
        )
        for number, member in enumerate(image.get("members") or [], start=1)
    }


def item(path: str, size: Any, digests: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    # As written, not percent-encoded: a mirror also stores the item under this path.
    data: dict[str, Any] = {"path": path, "ftype": image.get("format") or "file"}
    if isinstance(size, int):
        data["size"] = size
    data.update({name: digests[name] for name in DIGESTS if digests.get(name)})
    return data
