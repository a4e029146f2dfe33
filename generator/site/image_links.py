"""Links and paths of an image page that many pages share, remembered rather than rebuilt.

At 10,000 images, every page encoding the same few filter links (`index.html?vm=xen`) and
parsing the same repository path took about a third of the time spent making the pages' views (cProfile, 2,000 pages).
"""

from __future__ import annotations

import functools
from pathlib import PurePosixPath

from generator.catalog.model import Image
from generator.site.labels import os_label, star_lib_label, vm_label
from generator.site.views import Link, filter_href

RELATED = (
    ("os", os_label, "Same operating system"),
    ("star_lib", star_lib_label, "Same STAR library"),
    ("vm", vm_label, "Same VM software"),
)


@functools.lru_cache(maxsize=4096)
def facet_href(root: str, name: str, value: str) -> str:
    """`filter_href` for one facet, remembered: thousands of pages link the same few values."""
    return filter_href(root, **{name: value})


@functools.lru_cache(maxsize=4096)
def _root_path(repository: str) -> str:
    return str(PurePosixPath(repository))


def repository_path(repository: str, relative: str) -> str:
    """`str(PurePosixPath(repository) / relative)`, without parsing both for every image: a
    plain relative path (no empty, `.` or `..` part) is joined as it is."""
    root = _root_path(repository)
    parts = relative.split("/")
    if root == "/" or "" in parts or "." in parts or ".." in parts:
        return str(PurePosixPath(root) / relative)
    return f"{root}/{relative}"


def related(image: Image, root: str) -> list[Link]:
    """Filtered inventory views of images sharing the OS, the STAR library or the VM.

    Without a count of them: a count would change every such page when one image is added,
    and publishing would rewrite thousands of pages for one new image (the inventory counts).
    """
    links = []
    for name, labeler, text in RELATED:
        value = getattr(image, name)
        if value is None:
            continue
        links.append(Link(facet_href(root, name, str(value)), f"{text}: {labeler(value)}"))
    return links
