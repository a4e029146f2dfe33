"""`catalog.csv`: one row per image, the same columns for every image, safe to open in a spreadsheet.

Only the catalog's own scalar fields are columns (front-matter keys differ from image to image,
and a tool importing the file, such as Drupal's Feeds, maps columns once). A cell that a
spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
return) gets a leading `'`, which spreadsheets show as text and hide; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from generator.redact import redact

COLUMNS = (
    "id",
    "vm",
    "name",
    "path",
    "os",
    "arch",
    "word_size",
    "star_lib",
    "max_size",
    "max_size_bytes",
    "detail",
    "extension",
    "multi_file",
    "format",
    "compression",
    "size_bytes",
    "allocated_bytes",
    "virtual_size_bytes",
    "status",
    "verified_at",
    "md5",
    "expected_md5",
    "sha256",
    "sha512",
    "first_seen",
    "last_changed",
    "problem_count",
    "url",
    "download_url",
    "description",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def catalog_csv(catalog: dict[str, Any]) -> bytes:
    """RFC 4180 CSV (CRLF line ends, quoted where needed) in UTF-8, a header row first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for image in catalog.get("images", []):
        writer.writerow([cell(value) for value in row(image)])
    return out.getvalue().encode("utf-8")


def row(image: dict[str, Any]) -> list[Any]:
    """The image's values in column order; `url` is the absolute permalink when there is one."""
    values = {**image, "url": image.get("permalink") or image.get("url")}
    return [values.get(column) for column in COLUMNS]


def cell(value: Any) -> str:
    """Text as a spreadsheet must show it: redacted, never a formula; empty for no value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = redact(str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text
