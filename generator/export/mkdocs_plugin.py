"""Entry point of the `star-vm-catalog` plugin for MkDocs 1.x (`pip install star-vm-catalog[mkdocs]`)."""

from __future__ import annotations

from generator.export.docs_plugin import plugin_class, tool_parts

try:
    CatalogPlugin = plugin_class(tool_parts("mkdocs"))
except ImportError as exc:  # only MkDocs loads this module; say what is missing if it is not
    raise ImportError(f"the star-vm-catalog MkDocs plugin needs MkDocs 1.6: {exc}") from exc
