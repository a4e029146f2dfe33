"""Render the catalog model into site files held in memory: {relative path: bytes}.

Templates hold no logic: every page gets a dataclass (see `views`, `image_view`) of exactly
what it shows. Small catalogs get the whole inventory table in `index.html`; large ones get a
preview there, `search-index.json` for the browser script and paginated no-JS listing pages,
because laying out tens of thousands of table rows takes the browser seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from generator.catalog.model import Catalog, Image
from generator.resources import templates_dir
from generator.site.catalog_file import catalog_parts
from generator.site.content import ContentPage
from generator.site.deferred import Chunked, Deferred, Digested, deferred_page, parts_of
from generator.site.feed import render_feed
from generator.site.history_pages import news_items, recently_removed, removed_page
from generator.site.image_inputs import page_inputs
from generator.site.image_memo import ImageMemo, Pieces, site_pieces
from generator.site.image_page import (
    PUBLIC,
    Audience,
    ImagePage,
    image_page,
    shared,
)
from generator.site.lifecycle import history_rows, lifecycle_files, notice
from generator.site.listing import listing_pages
from generator.site.page_memo import PageMemo, view_bytes
from generator.site.problems_page import problem_links, problems_inputs, problems_page
from generator.site.record_lines import RecordLines
from generator.site.records import record_file
from generator.site.search_index import (
    SEARCH_INDEX,
    SEARCH_TEXT,
    search_index_file,
    search_text_parts,
)
from generator.site.sitemap import page_url, sitemap
from generator.site.sums import SUMS_NAMES, sums_parts
from generator.site.template_cache import template_cache
from generator.site.template_parts import bind_parts
from generator.site.views import (
    ContentView,
    IndexPage,
    Link,
    ListingPage,
    Nav,
    Row,
    columns,
    facets,
    has_format,
    make_nav,
    totals,
)


@dataclass(frozen=True)
class Layout:
    """How the inventory is split once it is large (tests use small numbers)."""

    table_limit: int = 500  # up to this many images, index.html holds every row
    preview_rows: int = 50  # above it: rows in index.html, and rows the script adds per step
    listing_page_size: int = 500  # rows per no-JS listing page (`list/<n>/`)


# The environment's options; compiled templates are cached for exactly these (`template_cache`).
OPTIONS: dict[str, Any] = {
    "autoescape": True,
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "auto_reload": False,  # one build, one process: no template changes under it to look for
}


def environment() -> jinja2.Environment:
    """Autoescaping everywhere: every repository string is untrusted."""
    templates = templates_dir()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        bytecode_cache=template_cache(templates, repr(sorted(OPTIONS.items()))),
        **OPTIONS,
    )
    env.filters["breakable"] = breakable
    bind_parts(env)
    return env


def breakable(name: str) -> Markup:
    """Escape a file name and let it wrap after each `_` (long names in narrow columns)."""
    return Markup(str(escape(name)).replace("_", "_<wbr>"))


def render_site(
    catalog: Catalog,
    pages: list[ContentPage],
    title: str,
    base_url: str | None = None,
    layout: Layout = Layout(),
    audience: Audience = PUBLIC,
    memo: PageMemo | None = None,
    images: ImageMemo | None = None,
    defer: bool = False,
) -> dict[str, bytes]:
    """Every file of the site, keyed by its path relative to the site root.

    With a `memo` of the pages already published, unchanged pages are `Reused`, not rendered.
    `images`: the images' rows, catalog.json lines and words, kept by image (`image_memo`).
    `defer`: image and listing pages are `Deferred`, made as they are written, and catalog.json
    is `Chunked`, made part by part as it is written (`site.deferred`).
    For the members-only copy (`audience.private`): pages marked noindex, image pages with
    descriptions as written, and no sitemap.
    """
    env = environment()
    env.page_memo = memo  # read by `_render`: every templated page is keyed, whoever adds it
    env.defer_pages = defer  # read where image and listing pages are rendered
    pieces = site_pieces(catalog.images, images, memo)
    rows = [p.row for p in pieces]

    def nav(depth: int, current: str = "") -> Nav:
        # Only the index shows when the catalog was made: a page that does not change keeps
        # its bytes, so publishing can reuse it instead of rewriting every page on every change.
        generated_at = catalog.generated_at if current == "index" else ""
        made = make_nav(depth, title, pages, current, generated_at)
        return replace(made, private=True) if audience.private else made

    large = len(rows) > layout.table_limit
    listing = listing_pages(rows, nav, layout.listing_page_size) if large else {}
    records, digests = RecordLines(catalog.images, images), _record_digests(catalog, pieces)
    files = {"catalog.json": _catalog_file(env, catalog, records, pieces)}
    index = index_page(catalog, rows, nav(0, "index"), listing, layout.preview_rows)
    index = replace(index, news=news_items(catalog.events), removed=recently_removed(catalog))
    files["index.html"] = _render(env, "index.html", index)
    files["embed.html"] = _render(env, "embed.html", replace(index, embed=True))
    if listing:
        files.update(_search_files(env, rows, pieces))
    files.update({path: _render_deferred(env, "listing.html", p) for path, p in listing.items()})
    files["problems/index.html"] = _problems_file(env, catalog, nav(1, "problems"))
    files.update(image_files(env, catalog, nav(3), base_url, audience, records, digests))
    files.update(lifecycle_files(catalog, nav(3), lambda name, page: _render(env, name, page)))
    files.update(removed_files(env, catalog, nav(3)))
    files["feed.xml"] = render_feed(
        catalog.events, title, catalog.generated_at, base_url, catalog.repository
    )
    for page in pages:
        files[f"{page.slug}/index.html"] = _render(
            env, "page.html", ContentView(nav(1, page.slug), page)
        )
    if not audience.private:
        files["sitemap.xml"] = _in_parts(env, partial(sitemap, catalog, pages, listing, base_url))
    files.update(_sums_files(env, catalog))
    files.update(static_files())
    return files


def _search_files(env: jinja2.Environment, rows: list[Row], pieces: list[Pieces]) -> dict:
    """search-index.json and search-text.json, for the browser script of a large catalog."""
    extras = [p.extra for p in pieces]
    return {
        SEARCH_INDEX: _made_later(env, partial(search_index_file, rows, extras)),
        SEARCH_TEXT: _in_parts(env, partial(search_text_parts, rows)),  # 29 MB at 100,000
    }


def _sums_files(env: jinja2.Environment, catalog: Catalog) -> dict:
    """One SUMS file per algorithm of the catalog's digest set (`site.sums`)."""
    return {
        SUMS_NAMES[algorithm]: _in_parts(env, partial(sums_parts, catalog, algorithm))
        for algorithm in catalog.digests
    }


def image_files(
    env: jinja2.Environment,
    catalog: Catalog,
    nav: Nav,
    base_url: str | None,
    audience: Audience = PUBLIC,
    records: RecordLines | None = None,
    digests: dict[str, str] | None = None,
) -> dict[str, bytes]:
    """One permalink page per image, and its catalog.json entry (`image.json`); with a base URL
    each page names its canonical address. `records`: where the entries come from;
    `digests`: each `image.json`'s, when known."""
    records = RecordLines(catalog.images) if records is None else records
    context = shared(catalog, base_url, audience)
    nav_values = view_bytes(nav)  # shared by every page: pickled once, not once per page
    files = {}
    for image in catalog.images:
        canonical = page_url(image.url, base_url) if base_url else None
        made = _ImageFiles(env, image, context, nav, canonical, records)
        inputs = page_inputs(image, context, nav if nav_values is None else nav_values, canonical)
        page = _render_lazily(env, "image.html", inputs, made.view, made.page)
        files[f"{image.output_dir}/index.html"] = page
        digest = digests.get(image.id) if digests is not None else None
        files[f"{image.output_dir}/image.json"] = _record_file(env, made, digest)
    return files


class _ImageFiles:
    """What an image's page and `image.json` are made from when they are written: one small
    object for both, kept per image until then (the three partials it replaces took 0.7 KB)."""

    __slots__ = ("canonical", "context", "env", "image", "nav", "records")

    def __init__(self, env: jinja2.Environment, image: Image, context: Any, nav: Nav,
                 canonical: str | None, records: RecordLines) -> None:  # fmt: skip
        self.env, self.image, self.context, self.nav = env, image, context, nav
        self.canonical, self.records = canonical, records

    def view(self) -> ImagePage:
        return _image_view(self.image, self.context, self.nav, self.canonical)

    def page(self) -> bytes:
        return _draw(self.env, "image.html", self.view())

    def json(self) -> bytes:
        return record_file(self.records.line(self.image))


def _record_digests(catalog: Catalog, pieces: list[Pieces]) -> dict[str, str]:
    """Each `image.json`'s digest, by image id: its line is read back only to be written."""
    return {i.id: p.record_sha256 for i, p in zip(catalog.images, pieces, strict=True)}


def _catalog_file(
    env: jinja2.Environment, catalog: Catalog, records: RecordLines, pieces: list[Pieces]
) -> bytes | Chunked:
    """catalog.json; with deferred pages, made part by part as it is written: whole, it would
    be held at the build's fullest point."""
    return _in_parts(env, partial(catalog_parts, catalog, records, pieces))


def _problems_file(env: jinja2.Environment, catalog: Catalog, nav: Nav) -> bytes:
    """The problems page, keyed by what it is made from: the view of 15,000 problems costs
    more than its inputs' key, and an unchanged page's view is then never built. Made now
    when it changed, never deferred: rendered while publishing holds the most, one page the
    size of hundreds would raise the peak (`tests/test_bounded_memory.py`)."""
    links = problem_links(catalog)
    view = partial(problems_page, catalog, nav, links)
    inputs = problems_inputs(catalog, nav, links)
    return _render_lazily(env, "problems.html", inputs, view, defer=False)


def _image_view(image: Image, context: Any, nav: Nav, canonical: str | None) -> ImagePage:
    """An image page's view; with a base URL its navigation names the `canonical` address."""
    lifecycle, history = notice(image, nav.root), history_rows(image)
    return image_page(image, context, replace(nav, canonical=canonical), lifecycle, history)


def _record_file(env: jinja2.Environment, made: _ImageFiles, sha256: str | None) -> bytes:
    """An image's `image.json`: its catalog.json line, read back and encoded when written if
    pages are (and then digested only if its digest is not known already)."""
    if not getattr(env, "defer_pages", False):
        return made.json()
    if sha256 is not None:
        return Digested(made.json, sha256)
    return Deferred(made.json)


def removed_files(env: jinja2.Environment, catalog: Catalog, nav: Nav) -> dict[str, bytes]:
    """The page of each image gone from the repository (a moved one's page is a redirect)."""
    files = {}
    for tombstone in (t for t in catalog.removed if not t.moved_to):
        page = removed_page(tombstone, nav)
        files[f"{tombstone.output_dir}/index.html"] = _render(env, "removed.html", page)
    return files


def _render_lazily(
    env: jinja2.Environment,
    template: str,
    inputs: object,
    view: Callable[[], Any],
    draw: Callable[[], bytes] | None = None,
    defer: bool = True,
) -> bytes:
    """A page keyed by what its view is made from (`inputs`): an unchanged page's view is
    not even built. `inputs` must hold everything `view` reads. `defer`: made when written
    (by `draw`, if given), with `render_site(defer=True)` (`False` for one large page, made
    now, as `_render` does)."""

    memo = getattr(env, "page_memo", None)
    if defer and getattr(env, "defer_pages", False):  # rendered when written, then dropped
        draw_later = draw or partial(_draw_view, env, template, view)  # kept until then
        return deferred_page(memo, template, ("inputs", inputs), draw_later)

    def draw() -> bytes:
        return env.get_template(template).render(page=view()).encode("utf-8")

    return memo.page(template, ("inputs", inputs), draw) if memo is not None else draw()


def _made_later(env: jinja2.Environment, make: Callable[[], bytes]) -> bytes:
    """A shared file of the large ones (search data, SUMS, sitemap: 50 MB at 100,000 images):
    with deferred pages, made when it is written and let go (`Deferred`), else made now."""
    return Deferred(make) if getattr(env, "defer_pages", False) else make()


def _in_parts(env: jinja2.Environment, parts: Callable[[], Iterable[bytes]]) -> bytes:
    """A file too large to be held whole (catalog.json, search-text.json): with deferred
    pages, made part by part each time it is read (`Chunked`), else joined now."""
    return Chunked(parts) if getattr(env, "defer_pages", False) else b"".join(parts())


def _render_deferred(env: jinja2.Environment, template: str, page: Any) -> bytes:
    """`_render`, or with `render_site(defer=True)` a page made when it is written (a listing
    page holds 500 rows: their HTML would be kept beside the rows themselves)."""
    if not getattr(env, "defer_pages", False):
        return _render(env, template, page)
    memo = getattr(env, "page_memo", None)
    return deferred_page(memo, template, page, lambda: _draw(env, template, page))


def _draw(env: jinja2.Environment, template: str, page: Any) -> bytes:
    return env.get_template(template).render(page=page).encode("utf-8")


def _draw_view(env: jinja2.Environment, template: str, view: Callable[[], Any]) -> bytes:
    return _draw(env, template, view())


def _render(env: jinja2.Environment, template: str, page: Any) -> bytes:
    """The page's bytes; with a memo (`render_site(memo=...)`) maybe a `Reused` file instead."""

    def draw() -> bytes:
        return env.get_template(template).render(page=page).encode("utf-8")

    memo = getattr(env, "page_memo", None)
    return memo.page(template, page, draw) if memo is not None else draw()


def static_files() -> dict[str, bytes]:
    static = templates_dir() / "static"
    return {f"static/{p.name}": p.read_bytes() for p in sorted(static.iterdir()) if p.is_file()}


def index_page(
    catalog: Catalog,
    rows: list[Row],
    nav: Nav,
    listing: dict[str, ListingPage],
    preview_rows: int,
) -> IndexPage:
    """The whole table for a small catalog; a preview, the data URL and listing links otherwise."""
    shown = rows if not listing else rows[:preview_rows]
    links = [Link(path.removesuffix("index.html"), str(p.number)) for path, p in listing.items()]
    facet_list = facets(rows)
    return IndexPage(
        nav=nav,
        totals=totals(catalog, rows, facet_list),
        facets=facet_list,
        columns=columns(rows),
        rows=shown,
        image_count=len(rows),
        show_format=has_format(rows),
        data_url=SEARCH_INDEX if listing else None,
        text_url=SEARCH_TEXT if listing else None,
        page_size=preview_rows,
        listing=links,
    )


def write_files(files: dict[str, bytes], directory: Path) -> None:
    """Write the in-memory site under `directory` (which must be new and empty); a deferred or
    reused file is made as it is written, a chunked one part by part."""
    for relpath, data in sorted(files.items()):
        path = directory / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.writelines(parts_of(data))
