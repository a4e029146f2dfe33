"""What a kept result was made by: this program's code, templates and the libraries it renders
with. A result kept under another identity (an upgrade, a patched file) is never reused."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
from pathlib import Path

from generator import __version__
from generator.resources import source_files, templates_dir

# Distribution -> the package it installs: the libraries whose versions can change a page.
LIBRARIES = {"markdown": "markdown", "nh3": "nh3", "jinja2": "jinja2", "markupsafe": "markupsafe",
             "pyyaml": "yaml"}  # fmt: skip


@functools.cache
def program_identity() -> str:
    """The version, every source and template file of the package, and the library versions."""
    digest = hashlib.sha256(__version__.encode())
    for library, package in LIBRARIES.items():
        digest.update(f"\0{library} {library_version(library, package)}".encode())
    package_root = Path(__file__).resolve().parent
    roots = [package_root, templates_dir()]  # in a wheel the templates are inside the package
    for root in roots:
        for path in source_files(root):
            digest.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def library_version(distribution: str, package: str) -> str:
    """The installed version of `distribution`, "-" if it is not installed.

    Read from the name of its `<name>-<version>.dist-info` folder, found beside the `package`
    it installs: every build asks, and importing `importlib.metadata` costs about 45 ms (it
    pulls in email, zipfile and csv) where this costs well under one. Anything unusual (an
    editable or egg install, two such folders) is answered by `importlib.metadata` after all.
    """
    found = _dist_info_version(distribution, package)
    if found is not None:
        return found
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "-"


def _dist_info_version(distribution: str, package: str) -> str | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin).parent
    folder = origin.parent if spec.submodule_search_locations is not None else origin
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    wanted = _canonical(distribution)
    versions = [
        version
        for name in names
        if name.endswith(".dist-info")
        for project, _, version in [name.removesuffix(".dist-info").partition("-")]
        if version and _canonical(project) == wanted
    ]
    return versions[0] if len(versions) == 1 else None


def _canonical(name: str) -> str:
    """A project name as the packaging standards compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()
