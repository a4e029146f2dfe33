"""The image page (the permalink `images/<vm>/<stem>/`): everything known about one image.

Besides the fields, it answers the questions people come with: where is it, is it intact,
how do I check my copy, how much room is left for my data, and what else is like it.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from generator.catalog.model import Catalog, Image
from generator.convention import parse_max_size
from generator.problems import Problem
from generator.site.labels import (
    STATUS_EXPLANATIONS,
    arch_label,
    field_label,
    field_value,
    format_label,
    os_label,
    star_lib_label,
    status_label,
    time_label,
    vm_label,
    word_size_label,
)
from generator.site.views import Fact, Link, Nav, filter_href, image_format
from generator.units import human_bytes

# Parts of the spec's space rule: (OS) + (swap) + (STAR software) + (your data) < (max size).
BUDGET_PARTS = (
    ("Operating system", ("os_size",)),
    ("Swap space", ("swap", "swap_size")),
    ("STAR software", ("software_size",)),
)
RELATED = (
    ("os", os_label, "Same operating system"),
    ("star_lib", star_lib_label, "Same STAR library"),
    ("vm", vm_label, "Same VM software"),
)


@dataclass(frozen=True)
class Budget:
    """What the front matter sizes leave for user data inside the maximum size."""

    parts: list[Fact]
    maximum: str
    remaining: str
    overflow: bool
    missing: list[str]


@dataclass(frozen=True)
class MemberRow:
    name: str
    size: str
    md5: str
    status: str
    status_label: str


@dataclass(frozen=True)
class Shared:
    """What every image page needs from the whole catalog, computed once per build."""

    repository: str
    counts: dict[str, Counter]
    base_url: str | None


def shared(catalog: Catalog, base_url: str | None) -> Shared:
    counts = {name: Counter(getattr(i, name) for i in catalog.images) for name, _, _ in RELATED}
    return Shared(catalog.repository, counts, base_url)


@dataclass(frozen=True)
class ImagePage:
    nav: Nav
    name: str
    name_valid: bool
    vm_label: str
    vm_href: str
    summary: str
    status: str
    status_label: str
    status_explanation: str
    full_path: str
    permalink: str | None
    facts: list[Fact]
    sizes: list[Fact]
    budget: Budget | None
    integrity: list[Fact]
    check_command: str
    multi_file: bool
    members: list[MemberRow]
    description_html: str
    fields: list[Fact]
    related: list[Link]
    problems: list[Problem]


def image_page(image: Image, context: Shared, nav: Nav) -> ImagePage:
    base_url = context.base_url
    return ImagePage(
        nav=nav,
        name=image.name,
        name_valid=image.name_valid,
        vm_label=vm_label(image.vm),
        vm_href=filter_href(nav.root, vm=image.vm),
        summary=summary(image),
        status=image.status,
        status_label=status_label(image.status),
        status_explanation=STATUS_EXPLANATIONS.get(image.status, ""),
        full_path=str(PurePosixPath(context.repository) / image.path),
        permalink=f"{base_url.rstrip('/')}/{image.url}" if base_url else None,
        facts=facts(image),
        sizes=sizes(image),
        budget=budget(image.max_size_bytes, image.fields),
        integrity=integrity(image),
        check_command=check_command(image),
        multi_file=image.multi_file,
        members=[
            MemberRow(m.name, human_bytes(m.size), m.md5 or "", m.status, status_label(m.status))
            for m in image.members
        ],
        description_html=image.description_html,
        fields=[Fact(field_label(k), field_value(v)) for k, v in image.fields.items()],
        related=related(image, context.counts, nav.root),
        problems=image.problems,
    )


def summary(image: Image) -> str:
    """One line a person can read: `Scientific Linux 5.3 · x86 32-bit · STAR library SL05c`.

    Fields the name does not give are left out rather than shown as "Unknown" in a sentence.
    """
    machine = " ".join(
        label
        for value, label in (
            (image.arch, arch_label(image.arch)),
            (image.word_size, word_size_label(image.word_size)),
        )
        if value is not None
    )
    parts = [
        os_label(image.os) if image.os else "",
        machine,
        f"STAR library {star_lib_label(image.star_lib)}" if image.star_lib else "",
        f"for {vm_label(image.vm)}",
    ]
    return " · ".join(part for part in parts if part)


def facts(image: Image) -> list[Fact]:
    result = [
        Fact("VM software", vm_label(image.vm)),
        Fact("Operating system", _with_raw(os_label(image.os), image.os)),
        Fact("Architecture", _with_raw(arch_label(image.arch), image.arch)),
        Fact("Word size", word_size_label(image.word_size)),
        Fact("STAR library", _with_raw(star_lib_label(image.star_lib), image.star_lib)),
        Fact("Detail", image.detail or "none"),
        Fact("Extension", image.extension or "none", code=bool(image.extension)),
        Fact("Layout", "a directory of files" if image.multi_file else "a single file"),
    ]
    if image_format(image):
        result.append(Fact("Disk format", format_label(image_format(image))))
    compression = image.compression
    if compression:
        result.append(Fact("Compression", str(compression)))
    return result


def _with_raw(label: str, raw: str | None) -> str:
    """`Scientific Linux 5.3 (sl5.3)`: the label, and the value as the name writes it."""
    return f"{label} ({raw})" if raw and raw != label else label


def _bytes_fact(label: str, count: int | None) -> Fact:
    exact = f" ({count:,} bytes)" if count is not None and count >= 1024 else ""
    return Fact(label, human_bytes(count) + exact)


def sizes(image: Image) -> list[Fact]:
    maximum = _bytes_fact("Maximum size", image.max_size_bytes)
    if image.max_size:
        maximum = Fact(maximum.label, f"{image.max_size} = {maximum.value}")
    result = [
        _bytes_fact("Size on disk", image.size_bytes),
        _bytes_fact("Allocated on disk", image.allocated_bytes),
        maximum,
    ]
    virtual = image.virtual_size_bytes
    if virtual is not None:
        result.append(_bytes_fact("Virtual disk size", virtual))
    return result


def size_field(fields: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first of `keys` holding a size such as `2GB` (binary units, as in image names)."""
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str):
            parsed = parse_max_size(value.replace(" ", ""))
            if parsed is not None:
                return parsed
    return None


def budget(maximum: int | None, fields: dict[str, Any]) -> Budget | None:
    """The spec's space rule, shown when the maximum and at least one part are known."""
    given = [(label, size_field(fields, keys)) for label, keys in BUDGET_PARTS]
    parts = [Fact(label, human_bytes(size)) for label, size in given if size is not None]
    if maximum is None or not parts:
        return None
    left = maximum - sum(size for _, size in given if size is not None)
    return Budget(
        parts=parts,
        maximum=human_bytes(maximum),
        remaining=human_bytes(abs(left)),
        overflow=left < 0,
        missing=[label.lower() for label, size in given if size is None],
    )


def integrity(image: Image) -> list[Fact]:
    return [
        Fact("Expected MD5", image.expected_md5 or "none (no usable .checksum)", code=True),
        Fact("Computed MD5", image.md5 or "not computed", code=True),
        Fact("Checked", time_label(image.verified_at)),
    ]


def check_command(image: Image) -> str:
    """`md5sum -c <stem>.checksum`, quoted for the shell: names come from the repository."""
    stem = image.id.split("/", 1)[1]
    return f"md5sum -c {shlex.quote(stem + '.checksum')}"


def related(image: Image, counts: dict[str, Counter], root: str) -> list[Link]:
    """Filtered inventory views of images sharing the OS, the STAR library or the VM."""
    links = []
    for name, labeler, text in RELATED:
        value = getattr(image, name)
        if value is None:
            continue
        count, label = counts[name][value], labeler(value)
        noun = "image" if count == 1 else "images"
        links.append(
            Link(filter_href(root, **{name: str(value)}), f"{text}: {label} ({count} {noun})")
        )
    return links
