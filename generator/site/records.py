"""An image's catalog.json entry as one line of JSON: the line of catalog.json and `image.json`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from generator.catalog.model import Image


def compact_json(data: Any) -> str:
    """One line, sorted keys: json's C encoder (an indented form takes the Python one, 10x
    slower at 10,000 images)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))  # fmt: skip


JSON_SLICE = 10_000  # entries of a large object encoded at a time (`sorted_object_parts`)


def sorted_object_parts(mapping: Mapping[str, Any]) -> Iterator[bytes]:
    """Compact JSON of a flat object with sorted keys, in parts of `JSON_SLICE` entries: the
    bytes of one `json.dumps(mapping, sort_keys=True, separators=(",", ":"))`, never held whole
    as text or bytes (a copy's manifest: 50 MB at 100,000 images). Compact: with `indent`,
    json falls back to its pure-Python encoder (10x slower)."""
    keys = sorted(mapping)
    yield b"{"
    for start in range(0, len(keys), JSON_SLICE):
        entries = {key: mapping[key] for key in keys[start : start + JSON_SLICE]}
        text = json.dumps(entries, separators=(",", ":"))[1:-1]
        yield (b"," if start else b"") + text.encode()
    yield b"}"


def image_record(image: Image) -> str:
    """The image's catalog.json entry, one line."""
    return compact_json(image.to_json())


def record_file(record: str) -> bytes:
    """An image's `image.json`: its catalog.json line and a newline."""
    return (record + "\n").encode("utf-8")


def record_file_digest(record: str) -> str:
    """SHA-256 of the image's `image.json`, kept with its pieces: publishing compares it with
    the copy's manifest without making the file (10,000 files an edit build)."""
    return hashlib.sha256(record_file(record)).hexdigest()
