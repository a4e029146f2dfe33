"""What an image page says before its fields: a damaged image's warning and what to do, the
same image for other VM software (siblings), and when the catalog first saw it and last saw
it change. All of it comes from the catalog model; nothing re-reads the repository.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from generator.catalog.model import Catalog, Image
from generator.problems import ERROR
from generator.site.fixes import Fix, fix_of
from generator.site.labels import status_label, time_label, vm_label
from generator.site.views import Fact

NOT_RECORDED = "not recorded (no history kept)"
# Problems that say the file itself is damaged, whatever its checksum status.
DAMAGE_CODES = frozenset({"truncated_header", "corrupt_header", "truncated_image", "empty_file"})
ALERT_TITLES = {
    "mismatch": "Damaged: do not use this image",
    "unreadable": "Unreadable: this image could not be checked",
    "damaged": "Damaged: the image file is broken",
}
ALERT_TEXTS = {
    "mismatch": (
        "Its bytes in the repository do not match its .checksum: the image (or the .checksum) "
        "changed after the checksum was written. A copy made now would not pass a check."
    ),
    "unreadable": (
        "The catalog could not read the image's bytes, so nobody knows whether it is intact. "
        "Copying it may fail or give a damaged copy."
    ),
    "damaged": (
        "The file is cut short, empty or its header holds impossible values: a virtual "
        "machine cannot boot it."
    ),
}


@dataclass(frozen=True)
class Alert:
    """The warning at the top of a damaged image's page and the steps that replace the check."""

    kind: str
    title: str
    text: str
    fixes: list[Fix]


@dataclass(frozen=True)
class Sibling:
    """The same system built for one VM software: a link, or the page itself (`current`)."""

    href: str
    vm_label: str
    name: str
    status: str
    status_label: str
    current: bool


def alert(image: Image) -> Alert | None:
    """A warning for a mismatched, unreadable or broken image; None for the others."""
    damage = [p for p in image.problems if p.code in DAMAGE_CODES and p.severity == ERROR]
    kind = image.status if image.status in ("mismatch", "unreadable") else ""
    kind = kind or ("damaged" if damage else "")
    if not kind:
        return None
    errors = [p for p in image.problems if p.severity == ERROR and p.hint]
    fixes = [fix_of(p, f"fix-{n}") for n, p in enumerate(errors, start=1)]
    return Alert(kind, ALERT_TITLES[kind], ALERT_TEXTS[kind], fixes)


def sibling_key(image: Image) -> tuple[str, str, int, str, str] | None:
    """What makes two images the same system: OS, arch, word size, STAR library, detail.

    Case is folded (`SL6.4` and `sl6.4` name one system); names off the convention have none.
    """
    if not image.name_valid or None in (image.os, image.arch, image.word_size, image.star_lib):
        return None
    return (
        str(image.os).casefold(),
        str(image.arch).casefold(),
        int(image.word_size or 0),
        str(image.star_lib).casefold(),
        (image.detail or "").casefold(),
    )


def sibling_groups(catalog: Catalog) -> dict[str, list[Image]]:
    """Image id -> every image of its system, when it is built for more than one VM software."""
    groups: dict[tuple[str, str, int, str, str], list[Image]] = defaultdict(list)
    for image in catalog.images:
        key = sibling_key(image)
        if key is not None:
            groups[key].append(image)
    return {
        image.id: sorted(group, key=lambda i: (vm_label(i.vm).casefold(), i.name))
        for group in groups.values()
        if len({i.vm for i in group}) > 1
        for image in group
    }


def siblings(image: Image, groups: dict[str, list[Image]], root: str) -> list[Sibling]:
    """The links of `image`'s group, itself included and marked, in VM order."""
    return [
        Sibling(
            f"{root}{other.url}index.html",
            vm_label(other.vm),
            other.name,
            other.status,
            status_label(other.status),
            other.id == image.id,
        )
        for other in groups.get(image.id, [])
    ]


def dates(image: Image) -> list[Fact]:
    """When the catalog first saw the image, and when its bytes or description last changed."""
    return [
        Fact("First seen", time_label(image.first_seen) if image.first_seen else NOT_RECORDED),
        Fact(
            "Last changed", time_label(image.last_changed) if image.last_changed else NOT_RECORDED
        ),
    ]
