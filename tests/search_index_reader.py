"""Reads search-index.json and search-text.json back into one dict per image, as the script
sees them (columns decoded, `url` derived where left empty, the searched words gathered)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.site.search_index import DIGITS, derived_url
from generator.site.search_words import tokens


def decode(column: dict[str, Any], count: int) -> list[str]:
    """A packed column split at its separator, or a coded one looked up in its table."""
    if "codes" in column:
        return [column["values"][code] for code in numbers(column, count)]
    return column["packed"].split(column["separator"]) if count else []


def numbers(column: dict[str, Any], count: int) -> list[int]:
    """A coded column's numbers: `width` base-91 digits each."""
    width, text = column["width"], column["codes"]
    assert len(text) == width * count
    found = []
    for start in range(0, len(text), width):
        value = 0
        for digit in text[start : start + width]:
            value = value * len(DIGITS) + DIGITS.index(digit)
        found.append(value)
    return found


def index_rows(site: Path) -> list[dict[str, Any]]:
    index = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    text = json.loads((site / "search-text.json").read_text(encoding="utf-8"))
    count = index["count"]
    specs = {**index["columns"], **text["columns"]}
    columns = {name: decode(spec, count) for name, spec in specs.items()}
    extra = decode(index["extra"], count)
    texts = decode(text["texts"], count)
    codes = {field: numbers(index["columns"][field], count) for field in index["value_words"]}
    rows = []
    for i in range(count):
        row = {name: values[i] for name, values in columns.items()}
        row["url"] = row["url"] or derived_url(row["vm"], row["name"])
        words = set(tokens(row["name"])) | set(extra[i].split())
        for field, table in index["value_words"].items():
            words |= set(table[codes[field][i]].split())
        row["searched"] = words
        row["extra"] = extra[i]
        row["text_words"] = set(texts[i].split())
        rows.append(row)
    return rows
