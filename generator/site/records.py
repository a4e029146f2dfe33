"""An image's catalog.json entry as one line of JSON: the line of catalog.json and `image.json`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from generator.catalog.model import Image


def compact_json(data: Any) -> str:
    """One line, sorted keys: json's C encoder (an indented form takes the Python one, 10x
    slower at 10,000 images)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))  # fmt: skip


JSON_SLICE = 10_000  # entries of a large object on one line (`sorted_object_parts`)


def sorted_object_parts(mapping: Mapping[str, Any]) -> Iterator[bytes]:
    """JSON of a flat object with sorted keys, in parts of `JSON_SLICE` entries, each on a line
    of its own: never held whole as text or bytes (a copy's manifest: 50 MB at 100,000 images),
    and read back a line at a time (`read_sorted_object`). Compact within a line: with
    `indent`, json falls back to its pure-Python encoder (10x slower)."""
    keys = sorted(mapping)
    yield b"{"
    for start in range(0, len(keys), JSON_SLICE):
        entries = {key: mapping[key] for key in keys[start : start + JSON_SLICE]}
        text = json.dumps(entries, separators=(",", ":"))[1:-1]
        yield (b",\n" if start else b"") + text.encode()
    yield b"}"


Slice = dict[str, Any]


def read_sorted_object(path: Path, take: Callable[[Slice], Slice]) -> Slice:
    """The flat JSON object in `path`, its entries passed through `take` a slice at a time.

    A file as `sorted_object_parts` writes it is parsed a line at a time: its text is never
    held whole (a manifest's 20 MB at 100,000 images) beside what it holds. A file laid out
    otherwise is parsed whole, to the same result, and passed to `take` whole: `take` may see
    entries again, and must only return them (checked, changed). OSError as reading raises;
    ValueError for a file that is not a JSON object.
    """
    merged: Slice = {}
    try:
        for entries in _line_slices(path):
            merged.update(take(entries))
        return merged
    except _OtherLayout:
        merged.clear()
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"'{path}' does not hold a JSON object")
    return take(data)


class _OtherLayout(Exception):
    """Not the layout `sorted_object_parts` writes: the file is parsed whole instead."""


def _line_slices(path: Path) -> Iterator[Slice]:
    """The entries of each line of a file `sorted_object_parts` wrote: `{` opens the first
    line; every line but the last ends with `,` and a newline, the last with `}`. Each line's
    entries are a JSON object once braced, so the lines parse as the whole would. A file of
    one line (an older version's manifest) is parsed as it is, without a copy of its text."""
    first = True
    with path.open("rb") as file:
        for line in file:  # not `enumerate`: its tuple would hold the line while it is parsed
            last = line.endswith(b"}")  # `}` without a newline: the file's end
            if (first and not line.startswith(b"{")) or not (last or line.endswith(b",\n")):
                raise _OtherLayout
            try:
                text = line.decode("utf-8")
                del line
                if first and last:
                    yield json.loads(text)
                    return
                members = text[1 if first else 0 : -1 if last else -2]
                if not members.strip(" \t\r\n"):  # `{,` `,,` or `,}`: no entry between
                    raise _OtherLayout
                yield json.loads("{" + members + "}")
            except ValueError as exc:
                raise _OtherLayout from exc
            if last:
                return
            first = False
        raise _OtherLayout  # no closing line


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
