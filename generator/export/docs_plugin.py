"""The MkDocs / ProperDocs plugin `star-vm-catalog`: catalog pages inside an existing docs site.

MkDocs and its maintained fork ProperDocs have the same plugin API under different module
names, and each accepts only subclasses of its own `BasePlugin`. So the plugin is made by one
factory from whichever tool's parts are given (`mkdocs_plugin.py`, `properdocs_plugin.py`),
and both entry points lead to the same code. The pages are those of `export markdown`.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from generator.errors import CatalogError
from generator.export.catalog_file import load_catalog
from generator.export.markdown import INDEX, TITLE, markdown_pages
from generator.export.output import safe_relpath

NAV_TITLE = "VM images"


def tool_parts(package: str) -> SimpleNamespace:
    """What the plugin needs from `mkdocs` or `properdocs` (whichever `package` names)."""
    import importlib

    def load(module: str) -> Any:
        return importlib.import_module(f"{package}.{module}")

    return SimpleNamespace(
        BasePlugin=load("plugins").BasePlugin,
        Config=load("config.base").Config,
        options=load("config.config_options"),
        File=load("structure.files").File,
        InclusionLevel=load("structure.files").InclusionLevel,
        Section=load("structure.nav").Section,
        PluginError=load("exceptions").PluginError,
    )


def normal_prefix(prefix: str) -> str:
    """`vm`, `/vm/` and `vm/` all mean `vm/`; an empty prefix puts the pages at the top."""
    stripped = prefix.strip("/")
    if stripped and not safe_relpath(stripped):
        raise ValueError(f"prefix '{prefix}' must be a plain relative folder such as vm/")
    return f"{stripped}/" if stripped else ""


def plugin_class(tool: SimpleNamespace) -> type:
    """The plugin class built on `tool`'s base class and config options."""

    class CatalogPluginConfig(tool.Config):
        catalog = tool.options.File(exists=True)
        prefix = tool.options.Type(str, default="vm/")
        title = tool.options.Type(str, default=TITLE)
        nav_title = tool.options.Type(str, default=NAV_TITLE)

    class CatalogPlugin(tool.BasePlugin[CatalogPluginConfig]):
        """Adds the inventory and one page per image from a catalog.json, and a nav section."""

        def on_files(self, files: Any, *, config: Any) -> Any:
            return add_pages(tool, self.config, files, config)

        def on_nav(self, nav: Any, *, config: Any, files: Any) -> Any:
            return add_section(tool, self.config, nav, files)

        def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
            for path in watched_paths(Path(self.config.catalog)):
                server.watch(str(path), recursive=False)
            return server

    return CatalogPlugin


def watched_paths(catalog: Path) -> list[Path]:
    """Where a new catalog shows up: the file, and the folder of each symbolic link on its way.

    `build` publishes by pointing the output link at a new copy (a rename in the folder that
    holds the link), so the old catalog.json itself never changes; watching that folder
    (not recursively) catches the swap.
    """
    absolute = Path(os.path.abspath(catalog))
    links = [path.parent for path in (absolute, *absolute.parents) if path.is_symlink()]
    return [absolute, *dict.fromkeys(links)]


def add_pages(tool: SimpleNamespace, options: Any, files: Any, config: Any) -> Any:
    """Generated pages under the prefix, kept out of the automatic nav (the section lists them)."""
    try:
        prefix = normal_prefix(options.prefix)
        pages = markdown_pages(load_catalog(Path(options.catalog)), options.title)
    except (CatalogError, ValueError) as exc:
        raise tool.PluginError(f"star-vm-catalog: {exc}") from exc
    for page in pages:
        uri = prefix + page.path
        if files.get_file_from_path(uri) is not None:
            raise tool.PluginError(
                f"star-vm-catalog: '{uri}' is already in docs_dir; choose another prefix"
            )
        level = tool.InclusionLevel.NOT_IN_NAV
        files.append(tool.File.generated(config, uri, content=page.text, inclusion=level))
    return files


def add_section(tool: SimpleNamespace, options: Any, nav: Any, files: Any) -> Any:
    """A nav section holding the inventory, unless the site's own nav already lists it."""
    index = files.get_file_from_path(normal_prefix(options.prefix) + INDEX)
    page = index.page if index is not None else None
    if page is None or page in nav.pages:
        return nav
    section = tool.Section(options.nav_title, [page])
    page.parent = section
    if nav.pages:
        nav.pages[-1].next_page, page.previous_page = page, nav.pages[-1]
    nav.pages.append(page)
    nav.items.append(section)
    return nav
