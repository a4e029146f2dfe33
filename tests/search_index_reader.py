"""Reads search-index.json and search-text.json back into one dict per image, as the script
sees them (columns decoded, `url` derived where left empty, the searched words gathered)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.site.search_index import derived_url
from generator.site.search_words import tokens


def decode(column: dict[str, Any], count: int) -> list[str]:
    """A packed column split at its separator, or a coded one looked up in its table."""
    if "codes" in column:
        return [column["values"][code] for code in column["codes"]]
    return column["packed"].split(column["separator"]) if count else []


def index_rows(site: Path) -> list[dict[str, Any]]:
    index = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    text = json.loads((site / "search-text.json").read_text(encoding="utf-8"))
    count = index["count"]
    columns = {name: decode(spec, count) for name, spec in index["columns"].items()}
    extra = decode(index["extra"], count)
    rows = []
    for i in range(count):
        row = {name: values[i] for name, values in columns.items()}
        row["url"] = row["url"] or derived_url(row["vm"], row["name"])
        words = set(tokens(row["name"])) | set(extra[i].split())
        for field, table in index["value_words"].items():
            code = index["columns"][field]["codes"][i]
            words |= set(table[code].split())
        row["searched"] = words
        row["extra"] = extra[i]
        row["text_words"] = set(text["texts"][text["codes"][i]].split())
        rows.append(row)
    return rows
