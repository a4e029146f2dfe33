"""Compiled templates kept beside the templates, as Python keeps compiled modules.

Compiling the site's two dozen templates costs about 0.1 s, paid by every build that renders,
whatever the size of the catalog (a tenth of an edit build of 1,000 images). Jinja can keep the
compiled code (`jinja2.FileSystemBytecodeCache`); it is kept in `site_templates/__pycache__`,
inside the installed package, and nowhere else: whoever can write there can already change the
code, so loading compiled code from there trusts no one new. The state database and the site
are never used for it (the state is read as data, never as code).

Like Python's own `__pycache__`, the cache is written only where the package is writable, and
not when Python is told not to write bytecode (`-B`, `PYTHONDONTWRITEBYTECODE`); what is there
is still read. An entry is used only for the same source, the same Jinja and Python, and the
same environment options (`options`): anything else compiles the template again.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import jinja2

PATTERN = "%s.jinja"  # Jinja's key (a digest of the template's name) names each entry


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, keyed by the environment's options as well as the source, and
    written only as Python writes bytecode."""

    def __init__(self, directory: Path, options: str) -> None:
        super().__init__(str(directory), PATTERN)
        self.options = options

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(f"{self.options}\0{source}".encode()).hexdigest()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if sys.dont_write_bytecode:
            return
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return  # a cache that cannot be written costs the next build a compile, no more


def template_cache(templates: Path, options: str) -> TemplateCache | None:
    """The cache beside `templates`, made if need be; None where there is none and none can be
    made (a read-only install, or Python told not to write bytecode)."""
    directory = templates / "__pycache__"
    if not directory.is_dir():
        if sys.dont_write_bytecode:
            return None
        try:
            directory.mkdir(mode=0o755)
        except OSError:
            if not directory.is_dir():  # else made meanwhile by another build
                return None
    return TemplateCache(directory, options)
