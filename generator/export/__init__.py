"""Exports: a published catalog.json turned into files other tools read.

An export reads one catalog.json and nothing else (no repository, no hashing, no state, no
lock), so it runs anywhere. Each format is one entry in EXPORTS: a function from the loaded
catalog to {relative path: bytes}.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.export.output import Written


def markdown_files(catalog: dict[str, Any]) -> dict[str, bytes]:
    """`index.md` and `images/<vm>/<stem>.md`, for MkDocs 2.0, Zensical, Hugo and the like."""
    from generator.export.markdown import markdown_pages  # here: `build` and `verify` skip it

    return {page.path: page.text.encode("utf-8") for page in markdown_pages(catalog)}


EXPORTS: dict[str, Callable[[dict[str, Any]], dict[str, bytes]]] = {
    "markdown": markdown_files,
}


def export(export_format: str, catalog_path: Path, output: Path) -> Written:
    """Render `catalog_path` in `export_format` into `output` (see output.write_export)."""
    from generator.export.catalog_file import load_catalog  # only `export` pays for these
    from generator.export.output import write_export

    files = EXPORTS[export_format](load_catalog(catalog_path))
    return write_export(output, files, export_format)
