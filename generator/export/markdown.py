"""The catalog as Markdown pages with YAML front matter: one renderer for the export and MkDocs.

Every string from the catalog is escaped before it enters Markdown, so a name or a field can
never become a link, an emphasis or raw HTML; descriptions are the one place with HTML, and
that HTML comes from the project's own sanitiser (`generator.markup.render_markdown`), exactly
as on the site. The pages therefore carry no script, whatever renders them.
"""

from __future__ import annotations

import html
import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from generator.catalog.model import CATALOG_FIELDS
from generator.markup import render_markdown
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
from generator.units import human_bytes

TITLE = "STAR virtual machine images"
INDEX = "index.md"
# Characters with a meaning inside a line of Markdown (links, emphasis, code, tables, headings,
# attribute lists) that every CommonMark and Python-Markdown reader lets a backslash escape.
MARKDOWN_PUNCTUATION = "\\`*_{}[]()#!|"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_CHARACTERS = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
# Punctuation gets a backslash; a control character becomes a visible `\u000a` (one line).
MARKDOWN_ESCAPES = str.maketrans(
    {
        **{char: "\\" + char for char in MARKDOWN_PUNCTUATION},
        **{chr(code): f"\\\\u{code:04x}" for code in CONTROL_CHARACTERS},
    }
)
NEEDS_ESCAPE = re.compile(r"[\\`*_{}\[\]()#!|<>&\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What YAML does not allow unescaped in a one-line scalar (lone surrogates never get here).
YAML_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
HEX_DIGEST = re.compile(r"[0-9a-f]{32,128}")
INVENTORY_COLUMNS = (
    "Image",
    "VM",
    "OS",
    "Architecture",
    "Word size",
    "STAR library",
    "Maximum size",
    "Size on disk",
    "Status",
    "Verified",
)


@dataclass(frozen=True)
class Page:
    """One generated page: where it goes (relative, `/`-separated) and its Markdown text."""

    path: str
    text: str


def markdown_pages(catalog: dict[str, Any], title: str = TITLE) -> list[Page]:
    """The inventory page first, then one page per image, in the catalog's order."""
    repository = catalog.get("repository") or ""
    images = catalog.get("images", [])
    pages = [index_page(catalog, title)]
    pages.extend(image_page(image, repository) for image in images)
    return pages


def image_path(image_id: str) -> str:
    """`images/<vm>/<stem>.md`: the site's permalink layout, one Markdown file per image."""
    vm, _, stem = image_id.partition("/")
    return f"images/{vm}/{stem}.md"


def md_text(value: Any) -> str:
    """Any value as inert Markdown text: no HTML, no markup, one line."""
    text = str(value)
    if not NEEDS_ESCAPE.search(text):
        return text
    return html.escape(text, quote=False).translate(MARKDOWN_ESCAPES)


def md_digest(value: str | None, missing: str) -> str:
    """A hex digest in code; anything else (a damaged catalog) as escaped text."""
    if value and HEX_DIGEST.fullmatch(value):
        return f"`{value}`"
    return md_text(value or missing)


def front_matter(fields: dict[str, str]) -> str:
    """YAML front matter (as MkDocs, ProperDocs, Zensical and Hugo read it), HTML-escaped.

    MkDocs themes put `title` and `description` into the page unescaped (in `<title>`, the
    nav, a `<meta>` attribute), so each value is escaped here, quotes included.
    """
    lines = [f"{key}: {yaml_string(html.escape(value))}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n"


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar on one line (PyYAML's dumper costs 4 ms a page)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A Markdown table; the cells must already be Markdown (escaped with `md_text`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def facts_table(facts: list[tuple[str, str]]) -> str:
    return table(("Field", "Value"), facts)


def index_page(catalog: dict[str, Any], title: str) -> Page:
    """The inventory: totals, then one row per image linking to its page."""
    images = catalog.get("images", [])
    parts = [
        front_matter({"title": title, "description": f"{len(images)} virtual machine images"}),
        f"# {md_text(title)}\n\n",
        totals(catalog),
        table(INVENTORY_COLUMNS, [inventory_row(image) for image in images]),
    ]
    removed = catalog.get("removed") or []
    if removed:
        parts.append("\n## Removed images\n\n")
        parts.extend(f"- {_removed_line(entry)}\n" for entry in removed if isinstance(entry, dict))
    return Page(INDEX, "".join(parts))


def totals(catalog: dict[str, Any]) -> str:
    """One paragraph: how many images, in which states, how large, from where, when."""
    images = catalog.get("images", [])
    statuses = Counter(image["status"] for image in images)
    counts = ", ".join(
        f"{n} {md_text(status_label(s).lower())}" for s, n in sorted(statuses.items())
    )
    size = human_bytes(sum(image.get("size_bytes") or 0 for image in images))
    noun = "image" if len(images) == 1 else "images"
    lines = [
        f"{len(images)} {noun}" + (f" ({counts})" if counts else "") + f", {md_text(size)} on disk."
    ]
    if catalog.get("repository"):
        lines.append(f"Repository: {md_text(catalog['repository'])}.")
    if catalog.get("generated_at"):
        lines.append(f"Catalog of {md_text(time_label(str(catalog['generated_at'])))}.")
    return " ".join(lines) + "\n\n"


def inventory_row(image: dict[str, Any]) -> tuple[str, ...]:
    link = quote(image_path(image["id"]))
    return (
        f"[{md_text(image['name'])}]({link})",
        md_text(vm_label(image["vm"])),
        md_text(os_label(image.get("os"))),
        md_text(arch_label(image.get("arch"))),
        md_text(word_size_label(image.get("word_size"))),
        md_text(star_lib_label(image.get("star_lib"))),
        md_text(image.get("max_size") or "unknown"),
        md_text(human_bytes(image.get("size_bytes"))),
        f"**{md_text(status_label(image['status']))}**",
        md_text(time_label(image.get("verified_at"))),
    )


def _removed_line(entry: dict[str, Any]) -> str:
    name = entry.get("name") or entry.get("id") or "unknown"
    return f"{md_text(name)}, removed {md_text(time_label(_text(entry.get('removed_at'))))}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def image_page(image: dict[str, Any], repository: str) -> Page:
    """Everything the site's image page says, as Markdown: fields, sizes, digests, description."""
    name = image["name"]
    parts = [
        front_matter(_image_front_matter(image)),
        f"# {md_text(name)}\n\n",
        f"{md_text(summary(image))}\n\n",
        f"**Status: {md_text(status_label(image['status']))}.** "
        f"{md_text(STATUS_EXPLANATIONS.get(image['status'], ''))}\n\n",
        "## Fields\n\n",
        facts_table(facts(image, repository)),
        "\n## Sizes\n\n",
        facts_table(sizes(image)),
        "\n## Integrity\n\n",
        facts_table(integrity(image)),
        check_section(image),
        members_section(image),
        description_section(image),
        f"\n[Back to the inventory](../../{INDEX})\n",
    ]
    return Page(image_path(image["id"]), "".join(parts))


def _image_front_matter(image: dict[str, Any]) -> dict[str, str]:
    data = {"title": image["name"], "description": summary(image), "status": image["status"]}
    if isinstance(image.get("last_changed"), str):
        data["date"] = image["last_changed"]
    return data


def summary(image: dict[str, Any]) -> str:
    """`Scientific Linux 5.3 · x86 32-bit · STAR library SL05c · for Xen`, unknown parts left out."""
    machine = " ".join(
        label
        for value, label in (
            (image.get("arch"), arch_label(image.get("arch"))),
            (image.get("word_size"), word_size_label(image.get("word_size"))),
        )
        if value is not None
    )
    star_lib = image.get("star_lib")
    parts = [
        os_label(image.get("os")) if image.get("os") else "",
        machine,
        f"STAR library {star_lib_label(star_lib)}" if star_lib else "",
        f"for {vm_label(image['vm'])}",
    ]
    return " · ".join(part for part in parts if part)


def facts(image: dict[str, Any], repository: str) -> list[tuple[str, str]]:
    rows = [
        ("VM software", vm_label(image["vm"])),
        ("Operating system", _with_raw(os_label(image.get("os")), image.get("os"))),
        ("Architecture", _with_raw(arch_label(image.get("arch")), image.get("arch"))),
        ("Word size", word_size_label(image.get("word_size"))),
        ("STAR library", _with_raw(star_lib_label(image.get("star_lib")), image.get("star_lib"))),
        ("Detail", image.get("detail") or "none"),
        ("Extension", image.get("extension") or "none"),
        ("Layout", "a directory of files" if image["multi_file"] else "a single file"),
        ("Disk format", format_label(image.get("format"))),
    ]
    if image.get("compression"):
        rows.append(("Compression", image["compression"]))
    rows.append(("Repository path", str(PurePosixPath(repository or "/") / image["path"])))
    rows.append(("First seen", time_label(image.get("first_seen"))))
    rows.append(("Last changed", time_label(image.get("last_changed"))))
    return [(md_text(label), md_text(value)) for label, value in rows]


def _with_raw(label: str, raw: str | None) -> str:
    return f"{label} ({raw})" if raw and raw != label else label


def _bytes(count: int | None) -> str:
    exact = f" ({count:,} bytes)" if count is not None and count >= 1024 else ""
    return human_bytes(count) + exact


def sizes(image: dict[str, Any]) -> list[tuple[str, str]]:
    maximum = _bytes(image.get("max_size_bytes"))
    if image.get("max_size"):
        maximum = f"{image['max_size']} = {maximum}"
    rows = [
        ("Size on disk", _bytes(image.get("size_bytes"))),
        ("Allocated on disk", _bytes(image.get("allocated_bytes"))),
        ("Maximum size", maximum),
    ]
    if image.get("virtual_size_bytes") is not None:
        rows.append(("Virtual disk size", _bytes(image["virtual_size_bytes"])))
    return [(md_text(label), md_text(value)) for label, value in rows]


def integrity(image: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Expected MD5", md_digest(image.get("expected_md5"), "none (no usable .checksum)")),
        ("Computed MD5", md_digest(image.get("md5"), "not computed")),
        ("Status", md_text(status_label(image["status"]))),
        ("Checked", md_text(time_label(image.get("verified_at")))),
    ]


def check_command(image: dict[str, Any]) -> str:
    """`md5sum -c <stem>.checksum` as one shell line, whatever characters the name holds."""
    stem = image["id"].partition("/")[2]
    return f"md5sum -c {shell_word(stem + '.checksum')}"


def shell_word(text: str) -> str:
    """Quote for a POSIX shell on one line: bash's `$'...'` when the text has control characters."""
    if not CONTROL.search(text):
        return shlex.quote(text)
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return "$'" + CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", escaped) + "'"


def check_section(image: dict[str, Any]) -> str:
    where = "image directory" if image["multi_file"] else "image"
    return (
        f"\n### Check your copy\n\nCopy the {where} and its `.checksum` file into one directory, "
        f"then run there:\n\n```sh\n{check_command(image)}\n```\n\n"
        "Every line must end in `OK`. Anything else means the copy is damaged: copy it again.\n"
    )


def members_section(image: dict[str, Any]) -> str:
    members = image.get("members") or []
    if not image["multi_file"] or not members:
        return ""
    rows = [
        (
            md_text(member["name"]),
            md_text(human_bytes(member.get("size"))),
            md_digest(member.get("md5"), "not computed"),
            md_text(status_label(member["status"])),
        )
        for member in members
    ]
    return "\n## Files\n\n" + table(("File", "Size", "MD5", "Status"), rows)


def description_section(image: dict[str, Any]) -> str:
    """The description as the site shows it: sanitised HTML, then its front-matter fields."""
    text = image.get("description") or ""
    fields = {k: v for k, v in image.items() if k not in CATALOG_FIELDS}
    parts = []
    if text.strip():
        body = render_markdown(text)
        parts.append(f'\n## Description\n\n<div class="star-vm-description">\n{body}\n</div>\n')
    if fields:
        rows = [
            (md_text(field_label(k)), md_text(field_value(v))) for k, v in sorted(fields.items())
        ]
        parts.append("\n## Description fields\n\n" + facts_table(rows))
    return "".join(parts)
