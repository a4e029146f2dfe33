"""Load a published `catalog.json` for the exports: bounded, checked, and nothing else read.

The file may come from another machine, so it is treated as untrusted input: its size is
capped, its schema version checked, and every field the exports use is checked for its type,
with image ids that could not escape the output directory.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from generator.errors import CatalogFileError
from generator.units import human_bytes

SCHEMA_VERSION = 1
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # lone surrogates would not encode as UTF-8
MAX_CATALOG_BYTES = 512 * 1024 * 1024  # 10,000 images with long descriptions stay far below
TEXT = (str, type(None))
COUNT = (int, type(None))
# The fields the exports show, with the JSON types each may have.
IMAGE_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "vm": (str,),
    "name": (str,),
    "path": (str,),
    "status": (str,),
    "os": TEXT,
    "arch": TEXT,
    "word_size": (int, str, type(None)),
    "star_lib": TEXT,
    "max_size": TEXT,
    "max_size_bytes": COUNT,
    "detail": TEXT,
    "extension": TEXT,
    "multi_file": (bool,),
    "size_bytes": COUNT,
    "allocated_bytes": COUNT,
    "virtual_size_bytes": COUNT,
    "md5": TEXT,
    "expected_md5": TEXT,
    "verified_at": TEXT,
    "format": TEXT,
    "compression": TEXT,
    "first_seen": TEXT,
    "last_changed": TEXT,
    "description": TEXT,
    "members": (list, type(None)),
    "url": TEXT,
    "permalink": TEXT,
    "download_url": TEXT,
    "sha256": TEXT,
    "sha512": TEXT,
    "problem_count": COUNT,
}
MEMBER_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "size": COUNT,
    "md5": TEXT,
    "expected_md5": TEXT,
    "status": (str,),
    "download_url": TEXT,
    "sha256": TEXT,
    "sha512": TEXT,
}


def load_catalog(path: Path, limit: int = MAX_CATALOG_BYTES) -> dict[str, Any]:
    """The checked contents of `path`; raises CatalogFileError naming the file and the fault."""
    data = _parse(path, _read(path, limit))
    if not isinstance(data, dict):
        raise _error(path, "is not a JSON object")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise _error(
            path,
            f"has schema_version {data.get('schema_version')!r}, this version reads "
            f"{SCHEMA_VERSION}",
            "export it with the star-vm-catalog version that built it",
        )
    for key, kinds in (("images", list), ("removed", list), ("repository", str)):
        if not isinstance(data.get(key, kinds()), kinds):
            raise _error(path, f"field '{key}' is not a {kinds.__name__}")
    seen: set[str] = set()
    for index, image in enumerate(data.get("images", [])):
        _check_image(path, index, image)
        if image["id"] in seen:
            raise _error(path, f"image {index} repeats the id '{image['id']}'")
        seen.add(image["id"])
    return data


def _read(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise _error(path, f"cannot be read: {exc.strerror}") from exc
    if len(data) > limit:
        raise _error(path, f"is larger than {human_bytes(limit)}")
    return data


def _parse(path: Path, data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text)
        if SURROGATE_ESCAPE.search(text):  # rare: only then pay for the whole check
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        return parsed
    except UnicodeEncodeError as exc:
        raise _error(path, "holds a \\u escape that is no character (a lone surrogate)") from exc
    except UnicodeDecodeError as exc:
        raise _error(path, f"is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise _error(path, f"is not JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:
        raise _error(path, "is nested too deeply to be a catalog") from exc


def _check_image(path: Path, index: int, image: Any) -> None:
    if not isinstance(image, dict):
        raise _error(path, f"image {index} is not a JSON object")
    _check_fields(path, f"image {index}", image, IMAGE_FIELDS)
    for number, member in enumerate(image.get("members") or []):
        if not isinstance(member, dict):
            raise _error(path, f"member {number} of image {index} is not a JSON object")
        _check_fields(path, f"member {number} of image {index}", member, MEMBER_FIELDS)
    vm, _, stem = image["id"].partition("/")
    if not (_safe_component(vm) and _safe_component(stem)):
        raise _error(path, f"image {index} has the id {image['id']!r}, not '<vm>/<name>'")


def _check_fields(
    path: Path, where: str, data: dict[str, Any], fields: dict[str, tuple[type, ...]]
) -> None:
    for name, kinds in fields.items():
        required = type(None) not in kinds
        if name not in data and not required:
            continue
        if name not in data or not isinstance(data[name], kinds):
            raise _error(path, f"{where} has no valid '{name}' field")


def _safe_component(part: str) -> bool:
    """One path component that cannot climb out of, or hide in, the output directory."""
    return (
        bool(part)
        and part not in (".", "..")
        and not part.startswith(".")
        and not any(ch in part for ch in "/\\\0")
    )


def _error(
    path: Path, problem: str, hint: str = "give the catalog.json that `build` published"
) -> CatalogFileError:
    return CatalogFileError(f"'{path}': {problem}; {hint}")
