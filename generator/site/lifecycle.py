"""Pages of the image lifecycle: renamed-image redirects, `latest/` aliases, the image page's
lifecycle notice and History section, and the inventory's lifecycle labels.

Redirects are a link plus `<meta http-equiv="refresh">` (no script: the pages' policy allows
none inline), so they work without JavaScript and from any static server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.catalog.lifecycle import KERNEL_RE, size_value
from generator.catalog.model import Alias, Catalog, Image, Tombstone, image_url, iso_time
from generator.convention import OS_RE
from generator.site.labels import (
    LIFECYCLE_LABELS,
    arch_label,
    os_label,
    time_label,
    vm_label,
    word_size_label,
)
from generator.site.views import Fact, Link, Nav
from generator.units import human_bytes

EVENT_LABELS = {"added": "First seen", "changed": "New content", "renamed": "Renamed"}
HIDDEN_LIFECYCLE = "end_of_life"  # left out of the inventory unless asked (`?lifecycle=all`)
NEAREST = 4  # lines an empty alias page links to


def lifecycle_label(value: str) -> str:
    return LIFECYCLE_LABELS.get(value, value or "Current")


@dataclass(frozen=True)
class LifecycleNotice:
    """The top of a deprecated or end-of-life image's page: since when, and what to use."""

    state: str
    label: str
    text: str
    replacement: Link | None


@dataclass(frozen=True)
class HistoryRow:
    at: str
    when: str
    event: str
    md5: str
    sha256: str
    size: str


@dataclass(frozen=True)
class RedirectPage:
    """An old permalink or an alias: where to go now (None: nowhere, say so)."""

    nav: Nav
    title: str
    heading: str
    text: str
    target: Link | None
    facts: list[Fact]
    nearest: list[Link]


def notice(image: Image, root: str) -> LifecycleNotice | None:
    """What the top of the page says about a deprecated or end-of-life image."""
    if image.lifecycle == "current" and not image.fields.get("end_of_life"):
        return None
    since, end = image.fields.get("deprecated"), image.fields.get("end_of_life")
    if image.lifecycle == "end_of_life":
        text = f"End of life since {end}: this image is no longer supported."
    elif image.lifecycle == "deprecated":
        text = f"Deprecated{f' since {since}' if since else ''}: do not start new work with it."
        text += f" End of life on {end}." if end else ""
    else:
        text = f"End of life planned for {end}."
    target = image.fields.get("replaced_by")
    replacement = None
    if isinstance(target, str) and image.lifecycle != "current":
        name = target.strip().partition("/")[2]
        replacement = Link(f"{root}{image_url(target.strip())}", name)
    return LifecycleNotice(image.lifecycle, lifecycle_label(image.lifecycle), text, replacement)


def history_rows(image: Image) -> list[HistoryRow]:
    """The image's versions, newest first, as the History section lists them."""
    rows = []
    for version in image.history:
        event = EVENT_LABELS.get(version.get("event", ""), str(version.get("event", "")))
        if version.get("moved_from"):
            event += f" (was {str(version['moved_from']).partition('/')[2]})"
        at = str(version.get("at") or "")
        size = version.get("size_bytes")
        rows.append(
            HistoryRow(
                at,
                time_label(at),
                event,
                str(version.get("md5") or ""),
                str(version.get("sha256") or ""),
                human_bytes(size) if size is not None else "",
            )
        )
    return rows


def lifecycle_files(
    catalog: Catalog, nav: Nav, render: Callable[[str, Any], bytes]
) -> dict[str, bytes]:
    """Redirect pages of renamed images and every alias page."""
    files = {}
    for tombstone in catalog.removed:
        if tombstone.moved_to:
            page = moved_page(tombstone, nav)
            files[f"{tombstone.output_dir}/index.html"] = render("redirect.html", page)
    for alias in catalog.aliases:
        page = alias_page(alias, catalog, nav)
        files[f"{alias.path}index.html"] = render("redirect.html", page)
    return files


def moved_page(tombstone: Tombstone, nav: Nav) -> RedirectPage:
    assert tombstone.moved_to is not None
    new_name = tombstone.moved_to.partition("/")[2]
    at = iso_time(tombstone.removed_at) or ""
    return RedirectPage(
        nav=nav,
        title=f"{tombstone.name} (renamed)",
        heading=tombstone.name,
        text=f"Renamed on {time_label(at)}: the same image is now",
        target=Link(f"{nav.root}{image_url(tombstone.moved_to)}", new_name),
        facts=[Fact("Old name", tombstone.name), Fact("New name", new_name)],
        nearest=[],
    )


def line_label(vm: str, line: str) -> str:
    """`kvm`, `sl6-x86-64` -> `KVM · Scientific Linux 6 · x86 64-bit`."""
    os_part, arch, bits = line.rsplit("-", 2)
    return " · ".join(
        (vm_label(vm), os_label(os_part), f"{arch_label(arch)} {word_size_label(bits)}")
    )


def alias_page(alias: Alias, catalog: Catalog, nav: Nav) -> RedirectPage:
    label = line_label(alias.vm, alias.line)
    title = f"Current image: {label}"
    if alias.image_id is None:
        text = "No image is left in this line. The nearest lines:"
        nearest = [
            Link(f"{nav.root}{a.path}", line_label(a.vm, a.line))
            for a in nearest_lines(alias, catalog)
        ]
        return RedirectPage(nav, title, label, text, None, [], nearest)
    image = catalog.get(alias.image_id)
    name = image.name if image else alias.image_id.partition("/")[2]
    facts = [Fact("Stable address", alias.path)]
    if image is not None and image.star_lib:
        facts.append(Fact("STAR library", image.star_lib))
    text = "The current image of this line is"
    return RedirectPage(
        nav, title, label, text, Link(f"{nav.root}{image_url(alias.image_id)}", name), facts, []
    )


def nearest_lines(alias: Alias, catalog: Catalog) -> list[Alias]:
    """Lines that still have an image, the most alike first (VM, OS family, arch, bits, major)."""
    family, major, arch, bits = _line_parts(alias.line)

    def likeness(other: Alias) -> tuple:
        o_family, o_major, o_arch, o_bits = _line_parts(other.line)
        return (
            other.vm != alias.vm, o_family != family, o_arch != arch, o_bits != bits,
            abs(o_major - major), other.path,
        )  # fmt: skip

    return sorted((a for a in catalog.aliases if a.image_id), key=likeness)[:NEAREST]


def _line_parts(line: str) -> tuple[str, int, str, str]:
    os_part, arch, bits = line.rsplit("-", 2)
    match = OS_RE.fullmatch(os_part)
    family = match["family"] if match else os_part
    major = int(match["version"]) if match and (match["version"] or "").isdigit() else 0
    return family, major, arch, bits


def lifecycle_columns(image: Image) -> dict[str, str]:
    """An inventory row's lifecycle facets: the state, and kernel and minimum RAM when valid."""
    if image.lifecycle == "current" and not image.fields:
        return {}  # the row's defaults
    kernel = str(image.fields.get("kernel") or "")
    ram = image.fields.get("min_ram")
    return {
        "lifecycle": image.lifecycle,
        "lifecycle_label": lifecycle_label(image.lifecycle),
        "kernel": kernel if KERNEL_RE.fullmatch(kernel) else "",
        "min_ram": str(ram).replace(" ", "") if size_value(image.fields, ("min_ram",)) else "",
    }
