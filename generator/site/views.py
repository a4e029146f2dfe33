"""What each page shows, as dataclasses: templates only lay these out, they compute nothing.

The inventory rows (`Row`) feed three outputs: the server-rendered table, the paginated
no-JavaScript listing and `search-index.json`, so the three always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType
from urllib.parse import urlencode

from generator.catalog.model import FACETS, LIFECYCLE_FACETS, Catalog, Image
from generator.site.content import ContentPage
from generator.site.facet_order import FacetValue, facet_values
from generator.site.labels import (
    date_label,
    facet_label,
    status_label,
    time_label,
    vm_label,
)
from generator.site.search_words import search_words, text_words
from generator.site.sorting import SORT_KEYS, SORT_OPTIONS
from generator.units import human_bytes

FACET_TITLES = {
    "vm": "VM software",
    "os": "Operating system",
    "arch": "Architecture",
    "word_size": "Word size",
    "star_lib": "STAR library",
    "status": "Status",
    "format": "Disk format",
    "lifecycle": "Lifecycle",
    "kernel": "Kernel",
    "min_ram": "Minimum RAM",
}


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    current: bool = False


@dataclass(frozen=True)
class Fact:
    """One labelled value on a page; `code` shows it in monospace (digests, paths)."""

    label: str
    value: str
    code: bool = False
    copy_id: str = ""  # the value gets a copy button; its element id


@dataclass(frozen=True)
class NewsItem:
    """One line of "recent changes": what happened, to which image, when, and a link."""

    kind: str
    label: str
    title: str
    href: str
    at: str
    when: str


@dataclass(frozen=True)
class Nav:
    """What every page's header and footer need; `root` is the relative way back to the top."""

    root: str
    title: str
    links: list[Link]
    generated_at: str
    generated: str
    canonical: str | None = None
    private: bool = False  # the members-only copy: noindex, a notice, no sitemap


LABEL = MappingProxyType({"search": False})  # shown in the table, not sent to the script


@dataclass(frozen=True, slots=True)
class Row:
    """One image as the inventory shows it; facet values are strings, "" when unknown."""

    url: str
    name: str
    vm: str
    vm_label: str = field(metadata=LABEL)
    os: str
    arch: str
    word_size: str
    star_lib: str
    max_size: str
    max_size_bytes: int | None
    detail: str
    size: str
    size_bytes: int
    status: str
    status_label: str = field(metadata=LABEL)
    verified_at: str
    verified: str = field(metadata=LABEL)
    format: str
    first_seen: str
    added: str = field(metadata=LABEL)
    last_changed: str
    changed: str = field(metadata=LABEL)
    md5: str
    words: str  # what the search matches (`search_words`)
    text_words: str  # and in the description and front matter (`text_words`)
    lifecycle: str = "current"  # the lifecycle facets: site.lifecycle.lifecycle_columns
    lifecycle_label: str = field(default="Current", metadata=LABEL)
    kernel: str = ""
    min_ram: str = ""

    @property
    def data(self) -> list[tuple[str, str]]:
        """The row's `data-*` attributes: the same fields as search-index.json."""
        return [(name, _text(getattr(self, name))) for name in SEARCH_FIELDS]

    @property
    def name_data(self) -> list[tuple[str, str]]:
        """Rows the script does not read its data from (listing pages, a large catalog's first
        rows, which come with search-index.json) carry only the name."""
        return [("name", self.name)]


def _text(value: object) -> str:
    return "" if value is None else str(value)


# What the browser script gets of each row (attributes or search-index.json): not the labels.
SEARCH_FIELDS = tuple(f.name for f in fields(Row) if f.metadata.get("search", True))


@dataclass(frozen=True)
class Column:
    """A table column: `key` is the catalog.json field it sorts by (and its `sort=` value)."""

    key: str
    label: str
    numeric: bool = False
    legend: str = ""  # what the short heading means, shown beside the table


@dataclass(frozen=True)
class Facet:
    field: str
    title: str
    values: list[FacetValue]
    hide: str = ""  # a value the script leaves out until it is chosen, or `<field>=all` is given


@dataclass(frozen=True)
class Count:
    """A total that links to the inventory filtered on it."""

    key: str
    label: str
    count: int
    href: str


@dataclass(frozen=True)
class Totals:
    images: int
    vms: list[Count]
    statuses: list[Count]
    total_size: str
    last_verified: str
    last_verified_at: str
    problems: int
    errors: int
    warnings: int


@dataclass(frozen=True)
class IndexPage:
    nav: Nav
    totals: Totals
    facets: list[Facet]
    columns: list[Column]
    rows: list[Row]
    image_count: int
    show_format: bool
    data_url: str | None
    page_size: int
    listing: list[Link]
    text_url: str | None = None  # the descriptions' words, read after data_url (large catalogs)
    news: list[NewsItem] = field(default_factory=list)
    removed: list[NewsItem] = field(default_factory=list)
    embed: bool = False  # embed.html: no header or menu, links open in the parent page
    sort_options: tuple[tuple[str, str], ...] = SORT_OPTIONS
    sort_keys: str = SORT_KEYS


@dataclass(frozen=True)
class ListingPage:
    nav: Nav
    number: int
    page_count: int
    columns: list[Column]
    show_format: bool
    rows: list[Row]
    pages: list[Link]
    previous: str | None
    next: str | None


@dataclass(frozen=True)
class ContentView:
    nav: Nav
    page: ContentPage


def make_nav(
    depth: int, title: str, pages: list[ContentPage], current: str, generated_at: str
) -> Nav:
    """Header links relative to a page `depth` directories below the root."""
    root = "../" * depth
    links = [Link(f"{root}index.html", "Inventory", current == "index")]
    links += [Link(f"{root}{p.url}", p.title, current == p.slug) for p in pages]
    links.append(Link(f"{root}problems/", "Problems", current == "problems"))
    return Nav(root, title, links, generated_at, time_label(generated_at))


def filter_href(root: str, **facets: str) -> str:
    """A link to the inventory filtered on facets, e.g. `index.html?vm=xen`."""
    return f"{root}index.html?{urlencode(sorted(facets.items()))}"


def image_format(image: Image) -> str:
    """The detected disk format, or "" when the headers were not read."""
    return image.format or ""


def make_row(image: Image) -> Row:
    from generator.site.lifecycle import lifecycle_columns  # that module builds on this one

    return Row(
        url=image.url,
        name=image.name,
        vm=image.vm,
        vm_label=vm_label(image.vm),
        os=image.os or "",
        arch=image.arch or "",
        word_size="" if image.word_size is None else str(image.word_size),
        star_lib=image.star_lib or "",
        max_size=image.max_size or "",
        max_size_bytes=image.max_size_bytes,
        detail=image.detail or "",
        size=human_bytes(image.size_bytes),
        size_bytes=image.size_bytes,
        status=image.status,
        status_label=status_label(image.status),
        verified_at=image.verified_at or "",
        verified=date_label(image.verified_at),
        format=image_format(image),
        first_seen=image.first_seen or "",
        added=date_label(image.first_seen),
        last_changed=image.last_changed or "",
        changed=date_label(image.last_changed),
        md5=image.md5 or "",
        words=search_words(
            image, [facet_label(name, _text(getattr(image, name))) for name in LABELLED]
        ),
        text_words=text_words(image),
        **lifecycle_columns(image),
    )


LABELLED = ("vm", "os", "arch", "star_lib", "status", "format")  # their labels are searched too


def has_format(rows: list[Row]) -> bool:
    """True when any image's headers were read (not with an empty or unreadable repository)."""
    return any(row.format for row in rows)


def facet_fields(rows: list[Row]) -> list[str]:
    """The catalog's facets; the disk format and the lifecycle ones only when some image has one."""
    shown = [f for f in FACETS if f != "format" or has_format(rows)]
    present = {"lifecycle": any(r.lifecycle != "current" for r in rows)}
    present.update({f: any(getattr(r, f) for r in rows) for f in ("kernel", "min_ram")})
    return shown + [f for f in LIFECYCLE_FACETS if present[f]]


def columns(rows: list[Row]) -> list[Column]:
    """Few enough to fit 1280 px: the detail is in the name, the verification time under the
    status, first seen and last change share a cell."""
    cols = [
        Column("name", "Image", legend="the file or directory name, linked to its page"),
        Column("vm", "VM", legend="the virtual machine software (the directory)"),
        Column("os", "OS", legend="operating system and version"),
        Column("arch", "Arch", legend="instruction set"),
        Column("word_size", "Bits", True, "word size of the processor (32 or 64)"),
        Column("star_lib", "Library", legend="STAR software library release"),
        Column("max_size", "Max", True, "the largest size the virtual disk can grow to"),
        Column("size_bytes", "On disk", True, "what the files hold now"),
    ]
    if has_format(rows):
        cols.append(Column("format", "Format", legend="disk format read from the header"))
    return [
        *cols,
        Column("status", "Status", legend="checksum verdict, and the day it was read"),
        Column("last_changed", "Dates", legend="first seen, then last changed"),
    ]


def facets(rows: list[Row]) -> list[Facet]:
    """Facet values with counts, case variants as one, in each facet's order (`facet_order`);
    the lifecycle facet hides end-of-life images until chosen (or `lifecycle=all`)."""
    return [
        Facet(
            name,
            FACET_TITLES[name],
            facet_values(name, [getattr(row, name) for row in rows]),
            "end_of_life" if name == "lifecycle" else "",
        )
        for name in facet_fields(rows)
    ]


def totals(catalog: Catalog, rows: list[Row], shown: list[Facet] | None = None) -> Totals:
    """The index's summary; `shown`: the rows' `facets`, when the caller made them already."""
    facet_by_name = {f.field: f for f in (facets(rows) if shown is None else shown)}

    def counts(name: str) -> list[Count]:
        return [
            Count(v.value, v.label, v.count, filter_href("", **{name: v.value}))
            for v in facet_by_name[name].values
        ]

    verified = max((row.verified_at for row in rows), default="")
    errors = len(catalog.errors())
    return Totals(
        images=len(rows),
        vms=sorted(counts("vm"), key=lambda c: c.label.lower()),
        statuses=counts("status"),
        total_size=human_bytes(catalog.total_bytes),
        last_verified=time_label(verified),
        last_verified_at=verified,
        problems=len(catalog.problems),
        errors=errors,
        warnings=len(catalog.problems) - errors,
    )
