"""The image page (the permalink `images/<vm>/<stem>/`): everything known about one image.

Besides the fields, it answers the questions people come with: where is it, is it intact,
how do I check my copy, how much room is left for my data, and what else is like it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from generator.catalog.model import Catalog, Image
from generator.convention import parse_max_size
from generator.site.fixes import fix_of
from generator.site.image_links import facet_href, related, repository_path
from generator.site.image_notices import Alert, Sibling, alert, dates, sibling_groups, siblings
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
from generator.site.lifecycle import HistoryRow, LifecycleNotice
from generator.site.problems_page import ProblemItem
from generator.site.views import Fact, Link, Nav, image_format
from generator.units import human_bytes

if TYPE_CHECKING:  # the type only: the site never imports the reader
    from generator.read.check_command import CheckCommand

# Parts of the spec's space rule: (OS) + (swap) + (STAR software) + (your data) < (max size).
BUDGET_PARTS = (
    ("Operating system", ("os_size",)),
    ("Swap space", ("swap", "swap_size")),
    ("STAR software", ("software_size",)),
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
    download_url: str | None = None


@dataclass(frozen=True)
class Audience:
    """Who a render is for: the public site, or the members-only copy (`--private-output`).

    Only the members-only copy shows descriptions unredacted; the public one links to it.
    """

    private: bool = False
    private_base_url: str | None = None
    # The members-only copy's descriptions as written: image id -> (front matter, HTML).
    as_written: Mapping[str, tuple[dict[str, Any], str]] = field(default_factory=dict)


PUBLIC = Audience()
ACCESS_NOTE = "access_note"  # front-matter key: how to get what was removed


@dataclass(frozen=True)
class Shared:
    """What every image page needs from the whole catalog, computed once per build."""

    repository: str
    base_url: str | None
    audience: Audience = PUBLIC
    siblings: dict[str, list[Image]] = field(default_factory=dict)


def shared(catalog: Catalog, base_url: str | None, audience: Audience = PUBLIC) -> Shared:
    return Shared(catalog.repository, base_url, audience, sibling_groups(catalog))


@dataclass(frozen=True)
class Access:
    """Where the public page sends people for what was removed: a note and a link."""

    note: str
    private_href: str | None


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
    check: CheckCommand | None
    create_command: str
    vm_path: str
    multi_file: bool
    members: list[MemberRow]
    description_html: str
    fields: list[Fact]
    related: list[Link]
    problems: list[ProblemItem]
    access: Access | None = None
    others_can_write: bool = False
    lifecycle: LifecycleNotice | None = None  # set by site.lifecycle (render.image_files)
    history: list[HistoryRow] = field(default_factory=list)
    download_url: str | None = None  # only with `download-base-url`
    dates: list[Fact] = field(default_factory=list)
    alert: Alert | None = None
    siblings: list[Sibling] = field(default_factory=list)


def image_page(
    image: Image,
    context: Shared,
    nav: Nav,
    lifecycle: LifecycleNotice | None = None,
    history: list[HistoryRow] | None = None,
) -> ImagePage:
    """The page's view; `lifecycle` and `history` come from `site.lifecycle`, passed in here
    rather than set by `dataclasses.replace` afterwards (a second copy of every page's view)."""
    base_url = context.base_url
    shown = (image.fields, image.description_html)
    fields, description_html = context.audience.as_written.get(image.id, shown)
    return ImagePage(
        nav=nav,
        name=image.name,
        name_valid=image.name_valid,
        vm_label=vm_label(image.vm),
        vm_href=facet_href(nav.root, "vm", image.vm),
        summary=summary(image),
        status=image.status,
        status_label=status_label(image.status),
        status_explanation=explanation(image),
        full_path=repository_path(context.repository, image.path),
        permalink=f"{base_url.rstrip('/')}/{image.url}" if base_url else None,
        facts=facts(image),
        sizes=sizes(image),
        budget=budget(image.max_size_bytes, image.fields),
        integrity=integrity(image),
        check=image.check,
        create_command=image.create_command,
        vm_path=repository_path(context.repository, image.vm),
        multi_file=image.multi_file,
        members=member_rows(image),
        description_html=description_html,
        fields=[
            Fact(field_label(k), field_value(v)) for k, v in fields.items() if k != ACCESS_NOTE
        ],
        related=related(image, nav.root),
        problems=problem_items(image),
        access=access(image, context.audience),
        others_can_write=image.others_can_write,
        lifecycle=lifecycle,
        history=[] if history is None else history,
        download_url=image.download_url,
        dates=dates(image),
        alert=alert(image),
        siblings=siblings(image, context.siblings, nav.root),
    )


def member_rows(image: Image) -> list[MemberRow]:
    """The files of a directory image, as its table lists them."""
    return [
        MemberRow(
            m.name,
            human_bytes(m.size),
            m.md5 or "",
            m.status,
            status_label(m.status),
            image.member_link(m.name).get("download_url"),
        )
        for m in image.members
    ]


def problem_items(image: Image) -> list[ProblemItem]:
    return [
        ProblemItem(p.path, None, p.message, p.hint, fix_of(p, f"problem-fix-{n}"), p.severity)
        for n, p in enumerate(image.problems, start=1)
    ]


def access(image: Image, audience: Audience) -> Access | None:
    """The `access_note` and, on public pages that lost a secret, a link to the private copy."""
    note = image.fields.get(ACCESS_NOTE)
    note_text = field_value(note) if note not in (None, "") else ""
    base = audience.private_base_url
    href = None
    if base and not audience.private and (note_text or image.private_text):
        href = f"{base.rstrip('/')}/{image.url}"
    if not note_text and href is None:
        return None
    return Access(note_text, href)


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


def explanation(image: Image) -> str:
    """What the status means; a directory whose .checksum misses a file has one all the same."""
    if image.status == "missing_checksum" and image.check is not None:
        return (
            "The .checksum file does not list every file of this image, so a copy of the "
            "files it leaves out cannot be checked."
        )
    return STATUS_EXPLANATIONS.get(image.status, "")


NO_EXPECTED = {
    "missing_checksum": "none: there is no .checksum file",
    "invalid_checksum": "none: the .checksum file is not md5sum output",
}


def integrity(image: Image) -> list[Fact]:
    """Digests of a single file; for a directory, how many of its files are verified."""
    checked = Fact("Checked", time_label(image.verified_at))
    if image.multi_file:
        return [Fact("Files", files_summary(image)), checked]
    reason = NO_EXPECTED.get(image.status, "none (no usable .checksum)")
    return [
        Fact(
            "Expected MD5",
            image.expected_md5 or reason,
            code=bool(image.expected_md5),
            copy_id="expected-md5" if image.expected_md5 else "",
        ),
        Fact(
            "Computed MD5",
            image.md5 or "not computed",
            code=bool(image.md5),
            copy_id="computed-md5" if image.md5 else "",
        ),
        *(Fact(label, value, code=True) for label, value in other_digests(image)),
        checked,
    ]


def other_digests(image: Image) -> list[tuple[str, str]]:
    """SHA-256 and SHA-512 when computed (the `digests` setting), as their SUMS files list them."""
    named = (("SHA-256", image.sha256), ("SHA-512", image.sha512))
    return [(label, value) for label, value in named if value]


def files_summary(image: Image) -> str:
    """`3 files, all verified` or `3 files: 2 verified, 1 no checksum`."""
    count = len(image.members)
    noun = "file" if count == 1 else "files"
    statuses = Counter(m.status for m in image.members)
    if set(statuses) == {image.status}:
        label = status_label(image.status).lower()
        return (
            f"{count} {noun}, all {label}"
            if image.status == "verified"
            else f"{count} {noun}, all: {label}"
        )
    order = sorted(statuses.items(), key=lambda item: (item[0] != "verified", item[0]))
    parts = ", ".join(f"{n} {status_label(s).lower()}" for s, n in order)
    return f"{count} {noun}: {parts}"
