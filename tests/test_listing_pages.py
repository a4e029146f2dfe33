"""Listing pages (`list/<n>/`) end where their rows say: an added or removed image changes the
page it is on, and every other listing page keeps its rows and its bytes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from generator.resources import content_dir
from generator.site.content import load_content
from generator.site.listing import LEAST_SHARE, MOST_TIMES, long_rate, page_spans, picks
from generator.site.render import Layout, render_site
from tests.conftest import build_site, image_entries, write_tree

SIZE = 100


def rows_of(urls: list[str]) -> list[SimpleNamespace]:
    return [SimpleNamespace(url=url) for url in urls]


def pages(urls: list[str], size: int = SIZE) -> list[list[str]]:
    return [urls[start:end] for start, end in page_spans(rows_of(urls), size)]


def catalog_urls(count: int) -> list[str]:
    return [f"images/xen/sl7.{n % 10}_x86_64_sl20a_8GB_n{n:06d}/" for n in range(count)]


def test_every_row_is_on_one_page_in_order_and_pages_keep_their_bounds() -> None:
    urls = catalog_urls(20_000)
    found = pages(urls)
    assert [url for page in found for url in page] == urls
    sizes = [len(page) for page in found[:-1]]
    assert min(sizes) >= SIZE // LEAST_SHARE and max(sizes) <= MOST_TIMES * SIZE
    assert 0.5 * SIZE < len(urls) / len(found) < 2 * SIZE  # about `SIZE` rows a page
    assert pages([]) == [[]] and pages(urls[:3]) == [urls[:3]]


def ends_none(url: str, size: int) -> bool:
    """Whether the row of `url` ends no page of `size`, at either rate (most rows end none)."""
    return not picks(url, size) and not picks(url, long_rate(size))


def unpicked(url: str, size: int) -> str:
    """A permalink beside `url` that ends no page of `size`."""
    return next(f"{url[:-1]}-{k}/" for k in range(1000) if ends_none(f"{url[:-1]}-{k}/", size))


def test_an_added_or_removed_row_changes_its_own_page_or_at_most_the_next() -> None:
    """Images added one at a time across 5,000, and as many removed: each changes the page it
    is (or was) on; one near a page's edge (an end moves past a threshold) the next page too,
    and no more. Most change one page only, and the number of pages stays."""
    urls = sorted(catalog_urls(5_000))
    before = pages(urls)
    counts: list[int] = []
    for n in range(0, len(urls), 25):
        changes = [sorted([*urls, unpicked(urls[n], SIZE)])]
        if ends_none(urls[n], SIZE):
            changes.append(urls[:n] + urls[n + 1 :])
        for changed in changes:
            after = pages(changed)
            counts.append(sum(page not in before for page in after))
            assert len(after) == len(before)
    assert set(counts) <= {1, 2} and counts.count(1) >= 0.9 * len(counts)


def test_an_added_image_rewrites_one_listing_page_of_a_built_site(tmp_path: Path) -> None:
    """The whole site rendered before and after an image is added (a real repository, read,
    verified and rendered): of its listing pages only the one showing the new image changes."""
    layout = Layout(table_limit=5, preview_rows=2, listing_page_size=6)
    entries = {}
    for n in range(60):
        entries |= image_entries(
            f"kvm/sl7.{n % 7}_x86_64_sl20a_8GB_n{n:03d}.img", f"{n}\n", "# VM\n"
        )
    repo = write_tree(tmp_path / "repo", entries)
    stem = unpicked("images/kvm/sl7.3_x86_64_sl20a_8GB_n010/", 6).split("/")[2]
    listing = {}
    for when in ("before", "after"):
        if when == "after":
            write_tree(repo, image_entries(f"kvm/{stem}.img", b"added\n", "# Added\n"))
        catalog = build_site(repo, tmp_path / when / "site", layout=layout)
        files = render_site(catalog, load_content(content_dir()), "STAR", None, layout)
        listing[when] = {path: data for path, data in files.items() if path.startswith("list/")}
    assert len(listing["before"]) == len(listing["after"]) >= 4
    changed = [p for p, data in listing["after"].items() if listing["before"][p] != data]
    assert len(changed) == 1
    assert stem.encode() in listing["after"][changed[0]]
