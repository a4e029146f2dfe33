"""The site in Debian's Chromium (driven by Playwright): search, facets, sorting, URLs, safety.

Every page is served over HTTP from 127.0.0.1 under a sub-path (`/demo/`, `/large/`, ...), as
the STAR web server would. CSP violations and script errors show up as console errors, so each
test asserts that none happened and that no dialog opened.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, expect

from generator.demo import demo_repository
from generator.site.listing import page_spans
from generator.site.render import Layout
from tests.conftest import FIXED_NS, FIXED_TIME, build_site, image_entries, run_cli, write_tree
from tests.export_helpers import CLEAN, MULTI, make_repository, publish_catalog
from tests.test_site_render import HOSTILE_NAMES, hostile_files

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SMALL_LARGE = Layout(table_limit=3, preview_rows=4, listing_page_size=4)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Four sites under one HTTP root: the demo, the demo as a large catalog, hostile twins."""
    tmp = tmp_path_factory.mktemp("served")
    root = tmp / "www"
    demo = demo_repository(tmp / "cache")
    hostile = write_tree(tmp / "hostile", hostile_files(), mtime_ns=FIXED_NS)
    build_site(demo, root / "demo", base_url="http://127.0.0.1/demo/")
    build_site(demo, root / "large", layout=SMALL_LARGE)
    build_site(hostile, root / "hostile")
    build_site(hostile, root / "hostile-large", layout=Layout(2, 2, 2))
    with serving(root) as url:
        yield url


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    """`root` served over HTTP on 127.0.0.1 (a free port) while the block runs."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join()


@dataclass
class Tab:
    """A page plus everything that went wrong in it."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def rows(self, attribute: str) -> list[str]:
        return self.page.locator("#inventory tbody tr").evaluate_all(
            f"rows => rows.map(r => r.getAttribute('data-{attribute}'))"
        )

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture
def open_tab(browser: Browser) -> Iterator[Callable[..., Tab]]:
    contexts = []

    def opener(
        url: str, javascript: bool = True, width: int = 1280, dark: bool = False, ready: bool = True
    ) -> Tab:
        context = browser.new_context(
            java_script_enabled=javascript,
            viewport={"width": width, "height": 900},
            color_scheme="dark" if dark else "light",
        )
        contexts.append(context)
        tab = Tab(context.new_page())
        tab.page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))
        tab.page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        tab.page.goto(url)
        if javascript and ready and "index.html" in url:
            tab.page.wait_for_selector("#catalog[data-ready]")
        return tab

    yield opener
    for context in contexts:
        context.close()


def test_typing_filters_rows_and_records_the_query(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{server}/demo/index.html")
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(10)
    tab.page.locator("#q").press_sequentially("ubuntu")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("a")).to_have_text("ubuntu9.10_x86_32_sl05c_10GB_ec2.img")
    expect(tab.page.locator("#result-count")).to_have_text("1 image matches (of 10)")
    assert tab.page.url.endswith("/demo/index.html?q=ubuntu")
    tab.page.locator("#q").fill("scientific linux 64")
    expect(rows).to_have_count(3)
    assert set(tab.rows("os")) == {"sl5.3", "sl6.2", "sl6.4"}
    tab.page.locator("#q").fill("no such image")
    expect(rows).to_have_count(0)
    expect(tab.page.locator("#no-results")).to_be_visible()
    tab.assert_clean()


def test_query_in_the_url_opens_a_filtered_view(server: str, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(f"{server}/demo/index.html?star_lib=sl05c&vm=xen")
    expect(tab.page.locator("#inventory tbody tr")).to_have_count(2)
    assert set(tab.rows("vm")) == {"xen"} and set(tab.rows("star_lib")) == {"sl05c"}
    expect(tab.page.locator("input[name=vm][value=xen]")).to_be_checked()
    expect(tab.page.locator("input[name=star_lib][value=sl05c]")).to_be_checked()
    expect(tab.page.locator("#result-count")).to_have_text("2 images match (of 10)")
    expect(tab.page.locator("#clear-filters")).to_be_visible()
    kvm = tab.page.locator("fieldset[data-facet=vm] label", has_text="KVM")
    expect(kvm.locator(".facet-count")).to_have_text("0")
    xen_lib = tab.page.locator("fieldset[data-facet=star_lib] label", has_text="SL08e")
    expect(xen_lib.locator(".facet-count")).to_have_text("1")
    tab.assert_clean()


def test_facets_filter_and_back_restores_each_view(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{server}/demo/index.html")
    rows = tab.page.locator("#inventory tbody tr")
    tab.page.get_by_label("KVM").check()
    expect(rows).to_have_count(3)
    assert tab.page.url.endswith("index.html?vm=kvm")
    tab.page.locator("[data-facet=vm]").get_by_label("Xen").check()  # not kernel "...el5xen"
    expect(rows).to_have_count(6)
    tab.page.get_by_label("32-bit").check()
    expect(rows).to_have_count(2)
    assert tab.page.url.endswith("index.html?vm=kvm&vm=xen&word_size=32")
    tab.page.go_back()
    expect(rows).to_have_count(6)
    expect(tab.page.get_by_label("32-bit")).not_to_be_checked()
    tab.page.go_back()
    tab.page.go_back()
    expect(rows).to_have_count(10)
    assert tab.page.url.endswith("/demo/index.html")
    tab.page.go_forward()
    expect(rows).to_have_count(3)
    tab.assert_clean()


def test_columns_sort_both_ways(server: str, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(f"{server}/demo/index.html")
    header = tab.page.locator("th[data-key=size_bytes]")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    sizes = [int(s) for s in tab.rows("size_bytes")]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert [int(s) for s in tab.rows("size_bytes")] == sorted(sizes, reverse=True)
    assert tab.page.url.endswith("?sort=-size_bytes")
    tab.page.locator("th[data-key=os] button").click()
    expected = [
        "centOS5",
        "fedora12",
        "sl4",
        "sl5.3",
        "sl5.3",
        "sl5.3",
        "sl6.2",
        "sl6.4",
        "ubuntu9.10",
    ]
    assert tab.rows("os") == [*expected, ""]  # unknown values sort last
    tab.page.go_back()
    expect(header).to_have_attribute("aria-sort", "descending")
    tab.assert_clean()


def test_without_javascript_every_row_shows(server: str, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(f"{server}/demo/index.html?vm=xen", javascript=False)
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(10)
    for index in range(10):
        expect(rows.nth(index).locator("a")).to_be_visible()
    expect(tab.page.locator("#q")).to_be_hidden()
    expect(tab.page.locator("#filters")).to_be_hidden()
    tab.page.locator("#inventory tbody a").first.click()
    expect(tab.page.locator("h1")).to_have_text("sl5.3_x86_64_sl09g_12GB_grid.img")
    tab.assert_clean()


def test_large_catalog_loads_rows_from_json_and_shows_more(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{server}/large/index.html")
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(4)
    expect(tab.page.locator("#result-count")).to_have_text("All 10 images, showing the first 4")
    tab.page.locator("#show-more").click()
    expect(rows).to_have_count(8)
    tab.page.locator("#show-more").click()
    expect(rows).to_have_count(10)
    expect(tab.page.locator("#show-more")).to_be_hidden()
    tab.page.locator("#q").fill("fedora")
    expect(rows).to_have_count(1)
    link = rows.first.locator("a")
    expect(link).to_have_text("fedora12_x86_64_sl10k_16GB_desktop.vdi")
    expect(rows.first.locator(".badge")).to_have_text("No checksum")
    link.click()
    expect(tab.page.locator("h1")).to_have_text("fedora12_x86_64_sl10k_16GB_desktop.vdi")
    tab.page.go_back()
    expect(rows).to_have_count(1)
    tab.assert_clean()


def test_large_catalog_url_filters_and_sorts_built_rows(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{server}/large/index.html?status=verified&sort=-max_size")
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(4)
    expect(tab.page.locator("#result-count")).to_have_text(
        "6 images match (of 10), showing the first 4"
    )
    names = rows.locator("th a").all_text_contents()
    assert names[0] == "centOS5_x86_64_sl10c_40GB_analysis"
    assert names[1] == "sl6.4_x86_64_sl11d_20GB_batch.qcow2"
    cells = rows.first.locator("th, td").all_text_contents()
    assert cells[1:8] == ["VMware", "centOS5", "x86", "64", "sl10c", "40GB", "6.0 MiB"]
    tab.assert_clean()


def test_large_catalog_without_javascript_links_the_listing(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    with urllib.request.urlopen(f"{server}/large/catalog.json") as answer:
        urls = [SimpleNamespace(url=image["url"]) for image in json.load(answer)["images"]]
    spans = page_spans(urls, SMALL_LARGE.listing_page_size)  # where the pages end
    assert len(spans) == 3  # the demo's ten images: enough for a last and a previous page
    tab = open_tab(f"{server}/large/index.html", javascript=False)
    expect(tab.page.locator("#inventory tbody tr")).to_have_count(4)
    tab.page.locator(".listing-link a", has_text="3").click()
    expect(tab.page.locator("h1")).to_contain_text("page 3 of 3")
    expect(tab.page.locator("tbody tr")).to_have_count(spans[2][1] - spans[2][0])
    tab.page.locator(".pager a[rel=prev]").first.click()
    expect(tab.page.locator("tbody tr")).to_have_count(spans[1][1] - spans[1][0])
    tab.assert_clean()


@pytest.mark.parametrize("site", ["hostile", "hostile-large"])
def test_hostile_names_and_descriptions_execute_nothing(
    server: str, open_tab: Callable[..., Tab], site: str
) -> None:
    tab = open_tab(f"{server}/{site}/index.html")
    tab.page.locator("#q").fill("alert")
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(6 if site == "hostile" else 2)  # every description says alert
    if site == "hostile-large":
        tab.page.locator("#show-more").click()
        tab.page.locator("#show-more").click()
        expect(rows).to_have_count(6)
    basenames = {name.split("/", 1)[1] for name in HOSTILE_NAMES}
    assert set(rows.locator("th a").all_text_contents()) <= basenames
    for href in rows.locator("th a").evaluate_all("links => links.map(a => a.href)"):
        page = tab.page.context.new_page()
        page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        page.goto(href)
        expect(page.locator("div.prose")).to_contain_text("click me")
        page.locator("div.prose").hover()
        page.locator("h1").hover()
        page.close()
    tab.page.goto(f"{server}/{site}/problems/")
    tab.assert_clean()


def test_every_page_loads_without_console_errors(server: str, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(f"{server}/demo/index.html")
    links = tab.page.locator("#inventory tbody a").evaluate_all("as => as.map(a => a.href)")
    links += tab.page.locator("nav[aria-label=Site] a").evaluate_all("as => as.map(a => a.href)")
    assert len(links) == 16
    for href in links:
        tab.page.goto(href)
        expect(tab.page.locator("h1")).not_to_be_empty()
    tab.assert_clean()


def test_copy_button_puts_the_path_on_the_clipboard(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{server}/demo/images/xen/sl5.3_x86_32_sl05c_8GB_ec2/")
    tab.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    button = tab.page.locator("button[data-copy-target=repo-path]")
    expect(button).to_have_text("Copy path")
    button.click()
    expect(button).to_have_text("Copied")
    path = tab.page.locator("#repo-path").text_content()
    assert tab.page.evaluate("navigator.clipboard.readText()") == path
    expect(button).to_have_text("Copy path", timeout=5000)
    tab.assert_clean()


def test_keyboard_reaches_search_filters_and_sorting(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{server}/demo/index.html")
    page = tab.page
    page.locator("body").press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("sl05c")
    expect(page.locator("#inventory tbody tr")).to_have_count(4)
    page.keyboard.press("Escape")
    expect(page.locator("#inventory tbody tr")).to_have_count(10)
    page.locator("input[name=vm][value=kvm]").focus()
    page.keyboard.press("Space")
    expect(page.locator("#inventory tbody tr")).to_have_count(3)
    page.locator("th[data-key=name] button").focus()
    page.keyboard.press("Enter")
    expect(page.locator("th[data-key=name]")).to_have_attribute("aria-sort", "ascending")
    tab.assert_clean()


def test_screenshots_for_review(server: str, open_tab: Callable[..., Tab]) -> None:
    """Saved in test-artifacts/ (not committed) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    image = f"{server}/demo/images/xen/sl5.3_x86_32_sl05c_8GB_ec2/"
    shots = [
        ("index.png", f"{server}/demo/index.html", {}),
        ("index-filtered-phone.png", f"{server}/demo/index.html?vm=xen", {"width": 390}),
        ("index-dark.png", f"{server}/demo/index.html", {"dark": True}),
        ("image.png", image, {}),
        ("image-phone-dark.png", image, {"width": 390, "dark": True}),
        ("problems.png", f"{server}/demo/problems/", {}),
    ]
    for name, url, options in shots:
        tab = open_tab(url, **options)
        tab.page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        assert (ARTIFACTS / name).stat().st_size > 10_000
        tab.assert_clean()


# ---------- image lifecycle: badges, the Lifecycle filter, end of life hidden unless asked ----------

CURRENT = "sl6.4_x86_64_sl12a_20GB_batch"
DEPRECATED = "sl6.2_x86_64_sl11d_20GB_batch"
RETIRED = "sl5.3_x86_64_sl09g_12GB_grid"


def lifecycle_files() -> dict:
    """Three images on the tests' clock (2024-03-01): current, deprecated, end of life."""
    return {
        **image_entries(f"kvm/{CURRENT}.img", b"current"),
        **image_entries(
            f"kvm/{DEPRECATED}.img", b"deprecated", f"---\nreplaced_by: kvm/{CURRENT}\n---\n"
        ),
        **image_entries(f"kvm/{RETIRED}.img", b"retired", "---\nend_of_life: 2024-01-31\n---\n"),
    }


@pytest.fixture(scope="module")
def lifecycle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`small` is built by the command line (aliases and redirects are made when publishing),
    `large` by the library with a small layout, so the script builds the rows itself."""
    tmp = tmp_path_factory.mktemp("lifecycle")
    repo = write_tree(tmp / "repo", lifecycle_files(), mtime_ns=FIXED_NS)
    built = run_cli(
        "build", "--repository", str(repo), "--output", str(tmp / "www" / "small"),
        "--state", str(tmp / "state"), env={"SOURCE_DATE_EPOCH": str(int(FIXED_TIME))},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    build_site(repo, tmp / "www" / "large", layout=Layout(table_limit=1, preview_rows=2))
    handler = functools.partial(_QuietHandler, directory=tmp / "www")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


@pytest.mark.parametrize("site", ["small", "large"])
def test_end_of_life_is_hidden_unless_asked_and_deprecated_has_a_badge(
    lifecycle_server: str, open_tab: Callable[..., Tab], site: str
) -> None:
    tab = open_tab(f"{lifecycle_server}/{site}/index.html")
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(2)
    assert sorted(tab.rows("name")) == [f"{DEPRECATED}.img", f"{CURRENT}.img"]
    expect(tab.page.locator("#result-count")).to_contain_text("1 end of life not shown")
    badge = rows.filter(has_text=DEPRECATED).locator(".badge.lifecycle-deprecated")
    expect(badge).to_have_text("Deprecated")
    tab.page.locator("fieldset[data-facet=lifecycle] input[value=end_of_life]").check()
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge.lifecycle-end_of_life")).to_have_text("End of life")
    assert tab.page.url.endswith("index.html?lifecycle=end_of_life")
    tab.page.go_back()
    expect(rows).to_have_count(2)
    tab.assert_clean()


@pytest.mark.parametrize("site", ["small", "large"])
def test_lifecycle_all_in_the_address_shows_every_image(
    lifecycle_server: str, open_tab: Callable[..., Tab], site: str
) -> None:
    tab = open_tab(f"{lifecycle_server}/{site}/index.html?lifecycle=all")
    count = tab.page.locator("#result-count")
    expect(count).to_contain_text("All 3 images")  # the large mode shows 2 rows at a time
    expect(count).not_to_contain_text("not shown")
    names = tab.page.locator("#inventory tbody tr a").all_text_contents()
    assert f"{RETIRED}.img" in names  # first in catalog order, so shown in both modes
    tab.page.locator("#q").fill("sl")
    assert "lifecycle=all" in tab.page.url  # kept while searching
    tab.assert_clean()


def test_redirect_and_alias_pages_load_the_image_page(
    lifecycle_server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{lifecycle_server}/small/latest/kvm/sl6-x86-64/")
    expect(tab.page).to_have_url(f"{lifecycle_server}/small/images/kvm/{CURRENT}/")
    expect(tab.page.locator("h1")).to_contain_text(CURRENT)
    tab.assert_clean()


# Downloads (issue 14 part B): the repository served over HTTP, the file downloaded whole.
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`work/repo` (the download base) and `work/vm-site` served from one local HTTP root."""
    work = tmp_path_factory.mktemp("downloads")
    make_repository(work / "repo")
    with serving(work) as root:
        publish_catalog(work, work / "repo", "--download-base-url", f"{root}/repo/")
        yield root, work


def test_the_download_button_downloads_the_image(
    served: tuple[str, Path], open_tab: Callable, tmp_path: Path
) -> None:
    root, work = served
    tab = open_tab(f"{root}/vm-site/images/xen/{CLEAN}/")
    button = tab.page.get_by_role("link", name="Download", exact=True)
    assert button.is_visible()
    with tab.page.expect_download() as started:
        button.click()
    saved = tmp_path / "downloaded.img"
    started.value.save_as(saved)
    assert saved.read_bytes() == (work / "repo" / "xen" / f"{CLEAN}.img").read_bytes()
    tab.assert_clean()


def test_each_file_of_a_directory_image_is_linked(
    served: tuple[str, Path], open_tab: Callable
) -> None:
    root, _ = served
    tab = open_tab(f"{root}/vm-site/images/kvm/{MULTI}/")
    assert tab.page.get_by_role("link", name="Download the files").is_visible()
    links = tab.page.locator("table.members a")
    hrefs = links.evaluate_all("links => links.map(a => a.href)")
    assert hrefs == [f"{root}/repo/kvm/{MULTI}/disk1.raw", f"{root}/repo/kvm/{MULTI}/disk2.raw"]
    tab.assert_clean()
