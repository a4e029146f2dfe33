"""What a kept result was made by: this program's code, templates and the libraries it renders
with. A result kept under another identity (an upgrade, a patched file) is never reused."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from generator import __version__
from generator.resources import source_files, templates_dir

LIBRARIES = ("markdown", "nh3", "jinja2", "markupsafe", "pyyaml")


@functools.cache
def program_identity() -> str:
    """The version, every source and template file of the package, and the library versions."""
    # Here, not at the top: importlib.metadata pulls in email, zipfile and more (about 40 ms),
    # and only runs that keep reads or pages ask who made them; `verify` never does.
    from importlib import metadata

    digest = hashlib.sha256(__version__.encode())
    for library in LIBRARIES:
        try:
            digest.update(f"\0{library} {metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{library} -".encode())
    package = Path(__file__).resolve().parent
    roots = [package, templates_dir()]  # in a wheel the templates are inside the package
    for root in roots:
        for path in source_files(root):
            digest.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()
