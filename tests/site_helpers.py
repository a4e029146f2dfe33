"""Helpers for the site tests: real repositories in tmp_path, real builds, parsed HTML."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from generator.build import build
from generator.catalog.model import Catalog
from generator.config import Config
from generator.publish.copies import publish
from generator.read.names import split_extension
from generator.resources import content_dir
from generator.site.content import load_content
from generator.site.render import Layout, render_site

FIXED_TIME = 1_709_300_000.0  # 2024-03-01T13:33:20Z: the clock of every test build
FIXED_NS = int(FIXED_TIME) * 10**9


@dataclass(frozen=True)
class Spec:
    """One image of a test repository: its bytes, whether md5sum wrote a sidecar, its text."""

    path: str
    data: bytes = b"STAR image bytes\n"
    checksum: bool = True
    description: str | None = None


def make_repository(root: Path, specs: list[Spec]) -> Path:
    """Write images and their sidecars; checksums come from the real `md5sum`."""
    for spec in specs:
        image = root / spec.path
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(spec.data)
        stem, _ = split_extension(image.name)
        if spec.checksum:
            result = subprocess.run(
                ["md5sum", image.name], cwd=image.parent, check=True, capture_output=True
            )
            (image.parent / f"{stem}.checksum").write_bytes(result.stdout)
        if spec.description is not None:
            (image.parent / f"{stem}.txt").write_text(spec.description, encoding="utf-8")
    for path in root.rglob("*"):
        os.utime(path, ns=(FIXED_NS, FIXED_NS))
    return root


def build_site(
    repository: Path,
    output: Path,
    base_url: str | None = None,
    layout: Layout | None = None,
) -> Catalog:
    """Scan, verify (fixed clock), render and publish, as `star-vm-catalog build` does."""
    config = Config(repository=repository, output=output, state=output.parent / "state", jobs=1)
    catalog = build(config, clock=lambda: FIXED_TIME, publish=False).catalog
    assert catalog is not None
    files = render_site(
        catalog, load_content(content_dir()), config.title, base_url, layout or Layout()
    )
    publish(files, output)
    return catalog


VOID_TAGS = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)


@dataclass
class Node:
    """An element of a parsed page, with the few queries the tests need."""

    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The text a reader sees, whitespace collapsed."""
        return " ".join("".join(self._strings()).split())

    def raw_text(self) -> str:
        """The text exactly as written, white space kept (a command to run)."""
        return "".join(self._strings())

    def _strings(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._strings()

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Descendants by tag and attributes; `cls` matches one class among several."""
        return [n for n in self.iter() if (tag is None or n.tag == tag) and n._has(attrs)]

    def find(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def _has(self, attrs: dict[str, str]) -> bool:
        for key, value in attrs.items():
            if key == "cls":
                if value not in (self.attrs.get("class") or "").split():
                    return False
            elif self.attrs.get(key.rstrip("_").replace("_", "-")) != value:
                return False
        return True

    def get(self, name: str) -> str:
        value = self.attrs.get(name)
        assert value is not None, f"<{self.tag}> has no {name}"
        return value


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def read_page(site: Path, relpath: str) -> Node:
    return parse_html((site / relpath).read_text(encoding="utf-8"))


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))
