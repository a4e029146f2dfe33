"""Exports: a published catalog.json turned into files other tools read.

An export reads one catalog.json and nothing else (no repository, no hashing, no state, no
lock), so it runs anywhere. Each format is one entry in EXPORTS: a function from the loaded
catalog and the export settings (base URL, HEPiX publisher) to {relative path: bytes}.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.export.settings import NO_SETTINGS, ExportSettings

if TYPE_CHECKING:
    from generator.export.output import Written


def markdown_files(
    catalog: dict[str, Any], settings: ExportSettings = NO_SETTINGS
) -> dict[str, bytes]:
    """`index.md` and `images/<vm>/<stem>.md`, for MkDocs 2.0, Zensical, Hugo and the like."""
    from generator.export.markdown import markdown_pages  # here: `build` and `verify` skip it

    return {page.path: page.text.encode("utf-8") for page in markdown_pages(catalog)}


def csv_files(catalog: dict[str, Any], settings: ExportSettings = NO_SETTINGS) -> dict[str, bytes]:
    """`catalog.csv`: one row per image, for spreadsheets and Drupal's Feeds."""
    from generator.export.csv_export import catalog_csv

    return {"catalog.csv": catalog_csv(catalog)}


def simplestreams_files(
    catalog: dict[str, Any], settings: ExportSettings = NO_SETTINGS
) -> dict[str, bytes]:
    """`streams/v1/index.json` and its products file, for simplestreams mirrors."""
    from generator.export.simplestreams import streams

    return streams(catalog)


def hepix_files(
    catalog: dict[str, Any], settings: ExportSettings = NO_SETTINGS
) -> dict[str, bytes]:
    """`hepix-imagelist.json`, for grid sites that subscribe to HEPiX image lists."""
    from generator.export.hepix import image_list

    return image_list(catalog, settings)


Export = Callable[[dict[str, Any], ExportSettings], dict[str, bytes]]
EXPORTS: dict[str, Export] = {
    "csv": csv_files,
    "hepix": hepix_files,
    "markdown": markdown_files,
    "simplestreams": simplestreams_files,
}


def site_files(
    catalog: dict[str, Any], formats: tuple[str, ...], settings: ExportSettings
) -> dict[str, bytes]:
    """The files of `formats` for a site that `build` writes (`exports:`), merged."""
    files: dict[str, bytes] = {}
    for name in formats:
        files.update(EXPORTS[name](catalog, settings))
    return files


def export(
    export_format: str, catalog_path: Path, output: Path, settings: ExportSettings = NO_SETTINGS
) -> Written:
    """Render `catalog_path` in `export_format` into `output` (see output.write_export)."""
    from generator.export.catalog_file import load_catalog  # only `export` pays for these
    from generator.export.output import write_export

    files = EXPORTS[export_format](load_catalog(catalog_path), settings)
    return write_export(output, files, export_format)
