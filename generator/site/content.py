"""Hand-written site pages: `content/*.md` with YAML front matter (title, order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import CatalogError
from generator.markup import FrontMatterError, render_markdown, split_front_matter


@dataclass(frozen=True)
class ContentPage:
    """One content page: its slug is the file name and its URL `<slug>/`."""

    slug: str
    title: str
    order: int
    html: str

    @property
    def url(self) -> str:
        return f"{self.slug}/"


def load_content(directory: Path) -> list[ContentPage]:
    """Read every Markdown page, ordered by `order` then title; bad pages are our bug: raise."""
    pages = [_load(path) for path in sorted(directory.glob("*.md"))]
    return sorted(pages, key=lambda p: (p.order, p.title))


def _load(path: Path) -> ContentPage:
    try:
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, FrontMatterError) as exc:
        raise CatalogError(f"'{path}': content page cannot be read: {exc}") from exc
    title = str(meta.get("title") or path.stem.replace("-", " ").capitalize())
    order = meta.get("order", 100)
    if not isinstance(order, int):
        raise CatalogError(f"'{path}': front matter 'order' must be a whole number, got {order!r}")
    return ContentPage(path.stem, title, order, render_markdown(body))
