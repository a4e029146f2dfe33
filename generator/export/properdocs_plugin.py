"""Entry point of the `star-vm-catalog` plugin for ProperDocs, the maintained fork of MkDocs 1.x."""

from __future__ import annotations

from generator.export.docs_plugin import plugin_class, tool_parts

try:
    CatalogPlugin = plugin_class(tool_parts("properdocs"))
except ImportError as exc:  # only ProperDocs loads this module; say what is missing if it is not
    raise ImportError(f"the star-vm-catalog ProperDocs plugin needs ProperDocs 1.6: {exc}") from exc
