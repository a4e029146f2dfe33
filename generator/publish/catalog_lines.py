"""A published catalog.json read a line at a time, each image's record let go once looked at.

The file `site.catalog_file.catalog_parts` makes holds one top-level key per line and one list
item per line, so a build that needs only a few facts of each image (its id) never holds the parsed
file whole: at 100,000 images that is about 400 MB of dicts, where the facts are a few MB.
A file of any other layout (written by hand, or by an older version) is parsed whole instead,
with the same result; so is one whose lines do not parse.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# `"key": value,` at the top level, or `"key": [` opening a list of one item per line.
_ENTRY = re.compile(r'^("(?:[^"\\]|\\.)*"): (.*?)(,?)$')
Shrink = Callable[[Any], Any]


class NotLines(ValueError):
    """The text is not in the one-item-a-line layout (it may still be JSON: parse it whole)."""


def read_catalog_file(path: Path, shrink: dict[str, Shrink]) -> dict[str, Any] | None:
    """The top-level keys of the catalog.json at `path`, each list under a key of `shrink`
    given as the list of `shrink(item)`; None when the file cannot be read. Raises ValueError
    (and whatever `shrink` raises) for a file that is not JSON."""
    try:
        with path.open(encoding="utf-8") as handle:
            return shrunk_lines(handle, shrink)
    except (NotLines, UnicodeDecodeError):  # json.loads also takes UTF-16 and UTF-32
        pass
    except OSError:
        return None
    try:
        parsed = json.loads(path.read_bytes())
    except OSError:
        return None
    if isinstance(parsed, dict):
        for key, reduce in shrink.items():
            if key in parsed:  # iterated as the line reader would, whatever it holds
                parsed[key] = [reduce(item) for item in parsed[key]]
    return parsed


def shrunk_lines(lines: Iterable[str], shrink: dict[str, Shrink]) -> dict[str, Any]:
    """The keys of a catalog.json in the one-item-a-line layout (see `read_catalog_file`)."""
    stream = (line.rstrip("\n") for line in lines)
    if next(stream, None) != "{":
        raise NotLines("no opening brace on a line of its own")
    found: dict[str, Any] = {}
    for line in stream:
        if line == "}":
            if next(stream, None) is not None:
                raise NotLines("text after the closing brace")
            return found
        match = _ENTRY.match(line)
        if match is None:
            raise NotLines(f"not a top-level entry: {line[:40]!r}")
        key, value, comma = _loads(match[1]), match[2], match[3]
        if value == "[":
            items, comma = _items(stream, shrink.get(key, _same))
            found[key] = items
        else:
            found[key] = _loads(value)
        if not comma:
            if next(stream, None) != "}" or next(stream, None) is not None:
                raise NotLines("no closing brace after the last entry")
            return found
    raise NotLines("no closing brace")


def parsed_parts(parts: Iterable[bytes]) -> dict[str, Any]:
    """A catalog.json this program made, given in the parts it is made in
    (`site.catalog_file.catalog_parts`), parsed as `json.loads` parses it whole, without
    joining it. Raises `NotLines` for another layout (never ours)."""
    return shrunk_lines(_lines_of(parts), {})


def _lines_of(parts: Iterable[bytes]) -> Iterator[str]:
    """The lines of UTF-8 text given in parts split anywhere; only `\n` ends a line (JSON
    text may hold U+2028 as it is)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    rest = ""
    for part in parts:
        *lines, rest = (rest + decoder.decode(part)).split("\n")
        yield from lines
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def _items(stream: Iterator[str], reduce: Shrink) -> tuple[list[Any], str]:
    """The items of a list opened on the line before, one a line, up to its `]` line."""
    items: list[Any] = []
    more = True
    for line in stream:
        if line in ("]", "],"):
            if more and items:
                raise NotLines("a comma after the last item")
            return items, line[1:]
        if not more:
            raise NotLines("no comma between two items")
        more = line.endswith(",")
        items.append(reduce(_loads(line[:-1] if more else line)))
    raise NotLines("a list left open")


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:  # maybe one value over several lines: parsed whole instead
        raise NotLines(str(exc)) from exc


def _same(item: Any) -> Any:
    return item
