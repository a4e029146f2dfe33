"""Redaction for the exports: every string they publish passes the pages' redaction again.

catalog.json is redacted when `build` writes it, but `export` may be given any catalog.json;
so each export redacts what it writes. Only values are redacted, never keys: a key of an
export is a field name or an image id, and replacing one would change the file's structure.
"""

from __future__ import annotations

import json
from typing import Any

from generator.redact import redact


def redacted(value: Any) -> Any:
    """`value` with every string in it (at any depth) redacted."""
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    if isinstance(value, str):
        return redact(value)
    return value


def json_file(data: Any) -> bytes:
    """Redacted, stable JSON (sorted keys, one space indent), ending with a newline."""
    text = json.dumps(redacted(data), indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")
