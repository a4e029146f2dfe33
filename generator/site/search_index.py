"""The large inventory's data for the browser script, in two files, compact enough to load fast.

`search-index.json` is what the inventory needs to be usable: every shown, sorted and exported
field, as columns rather than one array per image (a column of few distinct values is a table
plus one number per image; any other is one string, the values joined by NUL, which the script
reads without making a string per image), and the search words of the fields. The words of the
descriptions and front matter, the largest part, are `search-text.json`, which the script reads
after the first rows and the filters are live.

The fields' search words are split so that none is stored per image twice: the name is searched
as it is (a word starts where a run of letters and digits does), the words a facet value brings
(`scientific` for `sl6.4`) are stored once per value, and `extra` holds per image only what the
two lack (usually nothing). Together they are exactly `tokens(name)` plus `Row.words`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from generator.catalog.model import FACETS, LIFECYCLE_FACETS
from generator.site.deferred import encoded_parts
from generator.site.labels import facet_label
from generator.site.search_words import tokens
from generator.site.views import SEARCH_FIELDS, Row

SEARCH_INDEX = "search-index.json"
SEARCH_TEXT = "search-text.json"
SEPARATORS = ("|", "\n", "\0")  # a packed column's values are joined by the first none holds
SEARCHED = ("words", "text_words")  # not columns: stored as search words (see module doc)
LATER = ("md5",)  # read with the descriptions' words: searched (8+ hex digits), never shown
COLUMNS = tuple(name for name in SEARCH_FIELDS if name not in SEARCHED + LATER)
CODED = FACETS + LIFECYCLE_FACETS  # always a table: the script filters and counts by number
# A coded column's numbers are written as one string, each number in `width` digits of base 91
# (the printable ASCII characters from "#" on, but the backslash): one byte per image for a
# table of up to 91 values, where a JSON array of numbers takes two or more and parses slower.
DIGITS = "".join(chr(c) for c in range(35, 127) if c != 92)
WORD_FACETS = ("vm", "os", "arch", "word_size", "star_lib", "status", "format")


def search_index_files(rows: list[Row], extras: list[str] | None = None) -> dict[str, bytes]:
    """Both files, for a catalog that is too large for one table in index.html.

    `extras`: each row's extra words, spaced (`extra_text`), when the caller kept them
    (`image_memo`).
    """
    return {SEARCH_INDEX: search_index_file(rows, extras), SEARCH_TEXT: search_text_file(rows)}


def search_index_file(rows: list[Row], extras: list[str] | None = None) -> bytes:
    """search-index.json: what the inventory needs to be usable (see the module docstring)."""
    extras = [extra_text(row) for row in rows] if extras is None else extras
    columns, words = {}, {}
    for name in COLUMNS:  # a column's texts at a time: at 100,000 images, 30 MB less held
        texts = _column(rows, name)
        columns[name] = column(name, texts)
        if name in WORD_FACETS:
            words[name] = [spaced(value_words(name, v)) for v in dict.fromkeys(texts)]
    index = {
        "version": 2,
        "count": len(rows),
        "columns": columns,
        "value_words": {f: words[f] for f in WORD_FACETS},  # every one of them is a column
        "extra": column("extra", extras),
    }
    return _json(index)


def search_text_file(rows: list[Row]) -> bytes:
    """search-text.json whole (`search_text_parts` joined)."""
    return b"".join(search_text_parts(rows))


def search_text_parts(rows: list[Row]) -> Iterator[bytes]:
    """search-text.json: the descriptions' words (each distinct text once, spaced) and the
    columns read with them, in parts (`deferred.encoded_parts`): the largest shared file
    after catalog.json (29 MB at 100,000 images) is never held whole, as text or bytes.

    The bytes are those of `_json` over {"version", "count", "texts": {"values", "codes",
    "width"}, "columns"}; each text is spaced only as its part is made."""
    described: dict[str, int] = {}  # each distinct description's words once; rows hold its number
    codes = [described.setdefault(row.text_words, len(described)) for row in rows]
    numbers = _numbers(codes, len(described))
    del codes
    columns = {name: column(name, _column(rows, name)) for name in LATER}
    texts = (_dumps(spaced_text(words)) for words in described)
    yield from encoded_parts(
        [f'{{"version":2,"count":{len(rows)},"texts":{{"values":['],
        _joined(texts, ","),
        [f'],{_dumps(numbers)[1:-1]}}},"columns":{_dumps(columns)}}}\n'],
    )


def _joined(texts: Iterator[str], separator: str) -> Iterator[str]:
    for number, text in enumerate(texts):
        yield separator + text if number else text


def column(name: str, values: list[str]) -> dict[str, Any]:
    """A table and a number per image when values repeat (always for facets), else packed."""
    distinct = dict.fromkeys(values)
    if name not in CODED and len(distinct) * 4 > len(values) and _separator(values):
        return _packed(values)
    numbers = {value: n for n, value in enumerate(distinct)}
    return {
        "values": list(distinct),
        **_numbers(list(map(numbers.__getitem__, values)), len(distinct)),
    }


def _numbers(codes: list[int], size: int) -> dict[str, Any]:
    """A coded column's numbers in as few base-91 digits each as its table needs (see DIGITS)."""
    width = 1
    while len(DIGITS) ** width < size:
        width += 1
    base = len(DIGITS)
    places = range(width - 1, -1, -1)
    spelled = [
        "".join(DIGITS[code // base**place % base] for place in places) for code in range(size)
    ]
    return {"codes": "".join(map(spelled.__getitem__, codes)), "width": width}


def extra_text(row: Row) -> str:
    """What search-index.json stores of the row's words: those its name and facets lack, spaced
    (search-text.json stores the description's, `spaced_text(row.text_words)`)."""
    return spaced(extra_words(row))


def value_words(field: str, value: str) -> list[str]:
    """The search words one facet value brings (`search_words` takes them from these fields)."""
    if field == "word_size":
        return tokens(f"{value}-bit") if value else []
    found = tokens(facet_label(field, value))
    return list(dict.fromkeys(tokens(value) + found)) if field == "vm" else found


def extra_words(row: Row) -> list[str]:
    """The row's search words that neither its name nor its facet values bring."""
    covered = set(tokens(row.name))
    for field in WORD_FACETS:
        covered.update(value_words(field, getattr(row, field)))
    return [word for word in row.words.split() if word not in covered]


def derived_url(vm: str, name: str) -> str:
    """The permalink the script derives when the index leaves `url` empty (as catalog.js)."""
    stem = name[: name.rfind(".")] if "." in name else name
    return f"images/{vm}/{stem}/"


def _url_or_empty(row: Row) -> str:
    return "" if derived_url(row.vm, row.name) == row.url else row.url


def _column(rows: list[Row], name: str) -> list[str]:
    """A field's values over the rows, as text, read in C (a Python loop per row cost 90 ms
    for all the columns at 10,000 images); the url as `_url_or_empty` gives it."""
    if name == "url":
        return [_url_or_empty(row) for row in rows]
    return _texts(list(map(attrgetter(name), rows)))


def _texts(values: list[object]) -> list[str]:
    """The values as text: the list itself when they are all text already (not copied)."""
    if set(map(type, values)) == {str}:
        return values  # type: ignore[return-value]  # all str, checked
    return [_text(value) for value in values]


def _packed(values: list[str]) -> dict[str, str]:
    """One string, the values joined by a separator none of them holds (see `column`)."""
    separator = _separator(values)
    return {"packed": separator.join(values), "separator": separator}


def _separator(values: list[str]) -> str:
    joined = "".join(values)  # each separator is one character: none spans two values
    return next((s for s in SEPARATORS if s not in joined), "")


def spaced(words: list[str]) -> str:
    """Words as the script matches them: each with a space on both sides ("" for none)."""
    return spaced_text(" ".join(words))


def spaced_text(text: str) -> str:
    """`spaced` of words already joined by single spaces (`Row.text_words`)."""
    return f" {text} " if text else ""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json(data: dict[str, Any]) -> bytes:
    return f"{_dumps(data)}\n".encode()
