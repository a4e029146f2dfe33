"""The current image of each line: stable alias pages `latest/<vm>/<os family><major>-<arch>-<bits>/`.

A line is a VM directory, an OS family and major version, an architecture and a word size
(`latest/kvm/sl6-x86-64/`). Its alias points at the image to use now: not deprecated (end of
life never), then the newest STAR library, then the newest OS version, then the most recently
changed; never an image whose check failed (a mismatch, unreadable). A line once published keeps its alias when its last image goes (the page says so),
so an alias never turns into a 404; lines are carried forward from the published catalog.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from generator.catalog.facts import ImageFacts
from generator.catalog.lifecycle import CURRENT, END_OF_LIFE
from generator.catalog.model import Alias, Catalog, Tombstone
from generator.convention import OS_RE, STAR_LIB_USUAL_RE
from generator.verify.verdict import INTEGRITY_FAILURES

PART = r"[a-z0-9][a-z0-9.+_]*"
ALIAS_RE = re.compile(rf"latest/(?P<vm>{PART})/(?P<line>{PART}-{PART}-\d+)/")
PART_RE = re.compile(PART)


def line_of(image: ImageFacts) -> tuple[str, str] | None:
    """(vm, line) of an image in lower case, e.g. ("kvm", "sl6-x86-64"); None if a part is unknown."""
    return _line(image.vm, image.os, image.arch, image.word_size)


@functools.lru_cache(maxsize=4096)
def _line(
    vm: str, os: str | None, arch: str | None, word_size: int | None
) -> tuple[str, str] | None:
    """Cached: asked for every image of every build, of a few hundred distinct name parts."""
    match = OS_RE.fullmatch(os or "")
    if not match or not match["version"] or not arch or word_size is None:
        return None
    major = re.match(r"\d+", match["version"])
    vm, family, arch = vm.lower(), match["family"].lower(), arch.lower()
    if major is None or not all(PART_RE.fullmatch(p) for p in (vm, family, arch)):
        return None
    return vm, f"{family}{int(major[0])}-{arch}-{word_size}"


def alias_path(vm: str, line: str) -> str:
    return f"latest/{vm}/{line}/"


def choice_key(image: ImageFacts) -> tuple:
    """Larger is better: not deprecated, newest STAR library, newest OS, most recently changed."""
    library, version = _release(image.star_lib, image.os)
    changed = image.last_changed or image.first_seen or ""
    return (image.lifecycle == CURRENT, library, version, changed, image.id)


@functools.lru_cache(maxsize=4096)
def _release(star_lib: str | None, os: str | None) -> tuple[tuple, tuple]:
    """The STAR library and OS version parts of `choice_key` (cached as `_line` is)."""
    lib = star_lib or ""
    usual = STAR_LIB_USUAL_RE.fullmatch(lib)
    library = (1, int(lib[2:4]), lib[4].lower()) if usual else (0, 0, lib.lower())
    match = OS_RE.fullmatch(os or "")
    version = tuple(int(n) for n in re.findall(r"\d+", match["version"] or "")) if match else ()
    return library, version


def with_aliases(catalog: Catalog, published: tuple[str, ...] = ()) -> Catalog:
    """The catalog with an alias for every line it has or the published site had."""
    lines: dict[tuple[str, str], list[ImageFacts]] = {}
    for image in catalog.images:
        line = line_of(image)
        if line is not None:
            lines.setdefault(line, [])
            if image.lifecycle != END_OF_LIFE and image.status not in INTEGRITY_FAILURES:
                lines[line].append(image)
    for path in published:
        match = ALIAS_RE.fullmatch(path)
        if match:
            lines.setdefault((match["vm"], match["line"]), [])
    aliases = [
        Alias(alias_path(vm, line), vm, line, max(found, key=choice_key).id if found else None)
        for (vm, line), found in sorted(lines.items())
    ]
    later = {t.id: t.moved_to for t in catalog.removed if t.moved_to}
    removed = [_final(t, later) for t in catalog.removed]
    return replace(catalog, aliases=aliases, removed=removed)


def _final(tombstone: Tombstone, later: dict[str, str]) -> Tombstone:
    """A renamed image's redirect goes to where its content is now, across several renames."""
    if tombstone.moved_to is None:
        return tombstone
    target, seen = tombstone.moved_to, {tombstone.id}
    while target in later and target not in seen:
        seen.add(target)
        target = later[target]
    return replace(tombstone, moved_to=target) if target != tombstone.moved_to else tombstone
