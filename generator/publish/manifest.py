"""The records each copy of the site keeps beside it: its manifest and its key.

The manifest maps every file this tool wrote into a copy to the digest of its bytes; it is the
journal that lets a run delete or replace only its own files, and skip the unchanged ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

Manifest = dict[str, str | None]  # relative path -> digest; None: ours, bytes not trusted


def digests(files: dict[str, bytes]) -> dict[str, str]:
    """SHA-256 of each file; a page reused unrendered (`site.page_memo.Reused`) knows its own."""
    return {
        path: getattr(data, "sha256", None) or hashlib.sha256(data).hexdigest()
        for path, data in sorted(files.items())
    }


def digest_of(parts: Iterable[bytes]) -> str:
    """SHA-256 of a file given as parts (`site.deferred.parts_of`): a chunked file is digested
    as it is made, never joined."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def manifest_path(build: Path) -> Path:
    """Beside the copy, not inside it: the manifest is never published."""
    return build.parent / f"{build.name}.manifest.json"


def key_path(build: Path) -> Path:
    return build.parent / f"{build.name}.key"


def read_manifest(build: Path | None) -> Manifest:
    """What the copy holds by our own record; paths that could leave the copy are dropped."""
    if build is None:
        return {}
    try:
        data = json.loads(manifest_path(build).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        p: d if isinstance(d, str) else None
        for p, d in data.items()
        if isinstance(p, str) and _inside(p)
    }


def _inside(relpath: str) -> bool:
    """A relative path that stays inside the copy (no `..`, not absolute, not empty).

    Plain string tests: pathlib would cost a second per 10,000-page manifest.
    """
    return bool(relpath) and not relpath.startswith("/") and ".." not in relpath.split("/")


def manifest_bytes(manifest: Manifest) -> bytes:
    """Compact JSON: with `indent` json falls back to its pure-Python encoder (10x slower)."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
