"""Image lifecycle as data: validated front-matter fields, deprecation, duplicates, free room.

Descriptions may say when an image was deprecated (`deprecated: DATE`), when it stops being
supported (`end_of_life: DATE`) and what replaces it (`replaced_by: <vm>/<stem>`), plus the
spec's key parameters (`kernel`, `min_ram`, and the space rule's `os_size`, `swap`,
`software_size`). Values of the wrong kind are reported and ignored; the lifecycle is worked
out on the run's date, so an end-of-life date that passes changes the catalog by itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from generator.catalog.facts import ImageFacts
from generator.catalog.model import Catalog, with_fields
from generator.convention import parse_max_size
from generator.problems import Problem, problem, sorted_problems
from generator.units import human_bytes

CURRENT, DEPRECATED, END_OF_LIFE = "current", "deprecated", "end_of_life"
DATE_KEYS = ("deprecated", "end_of_life")
SIZE_KEYS = ("min_ram", "os_size", "swap", "swap_size", "software_size")
# The parts of the spec's space rule: (OS) + (swap) + (STAR software) + (your data) < (max).
SPACE_PARTS = (("os_size",), ("swap", "swap_size"), ("software_size",))
KERNEL_RE = re.compile(r"\d+(?:\.\d+)*[\w.+~-]{0,60}")
IMAGE_ID_RE = re.compile(r"[^/\s]+/[^/\s]+")
EXAMPLES = {
    "deprecated": ("a date", "2026-01-31"),
    "end_of_life": ("a date", "2026-06-30"),
    "replaced_by": ("an image id <vm>/<stem>", "kvm/sl6.4_x86_64_sl13b_20GB_grid"),
    "kernel": ("a kernel version", "2.6.32-358.el6"),
    **{key: ("a size", "2GB") for key in SIZE_KEYS},
}
LIFECYCLE_KEYS = tuple(EXAMPLES)  # the front-matter keys the pass reads (`facts.ImageFacts`)


@dataclass(frozen=True)
class Finding:
    """What the lifecycle pass found about one image: its state, its free room, its problems."""

    state: str
    free_bytes: int | None
    problems: list[Problem]


def apply_lifecycle(catalog: Catalog, now: float) -> Catalog:
    """Each image's lifecycle and free room on the run's date, and the problems found."""
    found = lifecycle_findings(catalog.images, dt.datetime.fromtimestamp(now, dt.UTC).date())
    if not found:
        return catalog
    images = [
        with_fields(
            image,
            lifecycle=finding.state,
            free_bytes=finding.free_bytes,
            problems=sorted_problems([*image.problems, *finding.problems]),
        )
        if (finding := found.get(image.id)) is not None
        else image
        for image in catalog.images
    ]
    problems = [p for finding in found.values() for p in finding.problems]
    problems = sorted_problems([*catalog.problems, *problems]) if problems else catalog.problems
    return replace(catalog, images=images, problems=problems)


def lifecycle_findings(images: Sequence[ImageFacts], today: dt.date) -> dict[str, Finding]:
    """Image id -> what the lifecycle pass found, for the images it finds anything about (most
    images: nothing, current with no room declared)."""
    ids = {image.id for image in images}
    duplicates = _duplicates(images)
    found = {}
    for image in images:
        problems = _field_problems(image) + _replacement_problems(image, ids)
        problems += duplicates.get(image.id, [])
        free, overflow = _free_room(image)
        problems += overflow
        state = lifecycle_of(image, today, ids)
        if problems or free is not None or state != CURRENT:
            found[image.id] = Finding(state, free, problems)
    return found


def lifecycle_of(image: ImageFacts, today: dt.date, ids: set[str]) -> str:
    """`end_of_life` once that date passed; `deprecated` once deprecated, when an end of life
    is announced, or when a replacement is named; `current` otherwise."""
    end = field_date(image.fields, "end_of_life")
    if end is not None and end <= today:
        return END_OF_LIFE
    since = field_date(image.fields, "deprecated")
    if (since is not None and since <= today) or end is not None:
        return DEPRECATED
    return DEPRECATED if replacement(image, ids) else CURRENT


def field_date(fields: Mapping[str, Any], key: str) -> dt.date | None:
    """A date field (YAML dates arrive as ISO text); None when absent or not a date."""
    value = fields.get(key)
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def replacement(image: ImageFacts, ids: set[str]) -> str | None:
    """The id of the image that replaces this one, when it names one that exists."""
    target = image.fields.get("replaced_by")
    if isinstance(target, str) and target.strip() in ids and target.strip() != image.id:
        return target.strip()
    return None


def size_value(fields: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first of `keys` holding a size such as `2GB` (binary units, as in image names)."""
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and (size := parse_max_size(value.replace(" ", ""))):
            return size
    return None


def _field_problems(image: ImageFacts) -> list[Problem]:
    """A warning for each lifecycle or key-parameter field whose value is of the wrong kind."""
    found = []
    for key, value in image.fields.items():
        if key in EXAMPLES and not _valid(image.fields, key):
            expected, example = EXAMPLES[key]
            path = _description_path(image)
            details = {"key": key, "value": str(value)[:80], "example": example}
            found.append(problem("invalid_field_value", path, expected=expected, **details))
    return found


def _valid(fields: Mapping[str, Any], key: str) -> bool:
    value = fields[key]
    if key in DATE_KEYS:
        return field_date(fields, key) is not None
    if key in SIZE_KEYS:
        return size_value(fields, (key,)) is not None
    if key == "kernel":
        return bool(KERNEL_RE.fullmatch(str(value)))
    return isinstance(value, str) and bool(IMAGE_ID_RE.fullmatch(value.strip()))


def _replacement_problems(image: ImageFacts, ids: set[str]) -> list[Problem]:
    target = image.fields.get("replaced_by")
    if not isinstance(target, str) or not IMAGE_ID_RE.fullmatch(target.strip()):
        return []
    if target.strip() in ids and target.strip() != image.id:
        return []
    return [problem("replacement_missing", _description_path(image), target=target.strip())]


def _duplicates(images: Sequence[ImageFacts]) -> dict[str, list[Problem]]:
    """Images sharing one content key: each gets a warning naming the others."""
    groups: dict[str, list[ImageFacts]] = defaultdict(list)
    for image in images:
        key = image.content_key
        if key is not None:
            groups[key].append(image)
    found: dict[str, list[Problem]] = {}
    for key, group in groups.items():
        for image in group if len(group) > 1 else ():
            others = ", ".join(o.path for o in group if o is not image)
            digest = f"MD5 {key}" if not image.multi_file else "the same member digests"
            found[image.id] = [
                problem("duplicate_content", image.path, other=others, digest=digest)
            ]
    return found


def _free_room(image: ImageFacts) -> tuple[int | None, list[Problem]]:
    """The room the space rule leaves for user data, and a warning when there is none."""
    parts = [size_value(image.fields, keys) for keys in SPACE_PARTS]
    declared = sum(p for p in parts if p is not None)
    if image.max_size_bytes is None or all(p is None for p in parts):
        return None, []
    free = image.max_size_bytes - declared
    if free >= 0:
        return free, []
    found = problem(
        "sizes_exceed_max",
        _description_path(image),
        declared=human_bytes(declared),
        maximum=human_bytes(image.max_size_bytes),
    )
    return free, [found]


def _description_path(image: ImageFacts) -> str:
    """Field problems name the description (`<vm>/<stem>.txt`), where the fix is made."""
    return f"{image.id}.txt"
