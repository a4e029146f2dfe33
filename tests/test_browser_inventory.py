"""The inventory in Chromium at 1280, 1366 and 390 px, on a realistic repository (issue 12).

The repository (`tests/inventory_repo.py`) is built twice by the real CLI, ten days apart, and
served under a deep sub-path; the same site is also opened from the file system. Expected rows
are computed from the published catalog.json, never written down by hand.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from generator.case_fold import fold
from generator.site.labels import facet_label
from generator.site.render import Layout
from generator.site.search_words import tokens
from tests.conftest import build_site
from tests.inventory_repo import DESCRIBED, NEWER, build_realistic
from tests.test_browser import Tab, _QuietHandler, open_tab  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

WIDTHS = [1280, 1366, 390]
SUB = "deep/sub/path"


@pytest.fixture
def opener(open_tab: Callable[..., Tab]) -> Callable[..., Tab]:  # noqa: F811
    """`open_tab` of tests/test_browser.py: a fresh context per page, errors collected."""
    return open_tab


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("inventory")
    repository, site = build_realistic(tmp / "real")
    www = tmp / "www" / SUB
    www.mkdir(parents=True)
    (www / "real").symlink_to(site)
    build_site(
        repository,
        www / "large",
        layout=Layout(table_limit=5, preview_rows=6, listing_page_size=10),
    )
    (www / "frame.html").write_text(
        '<!DOCTYPE html><title>Drupal</title><link rel="icon" href="data:,"><h1>STAR</h1>'
        '<iframe id="vm" src="real/embed.html?vm=kvm&amp;star_lib=sl13b" width="1200" '
        'height="700" title="images"></iframe>\n'
    )
    return {"www": tmp / "www", "real": site, "large": www / "large"}


@pytest.fixture(scope="module")
def base(sites: dict[str, Path]) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=sites["www"])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/{SUB}"
    httpd.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def catalog(sites: dict[str, Path]) -> list[dict]:
    return json.loads((sites["real"] / "catalog.json").read_text())["images"]


def shown(tab: Tab) -> list[str]:
    return tab.rows("name")


def names(images: list[dict], keep: Callable[[dict], bool]) -> set[str]:
    return {image["name"] for image in images if keep(image)}


def words(image: dict) -> list[str]:
    """The tokens an image is searched by, from catalog.json: its name, fields, their labels,
    front matter and description."""
    labels = [facet_label(f, str(image[f] or "")) for f in ("vm", "os", "arch", "status", "format")]
    text = " ".join(str(image.get(k) or "") for k in ("name", "vm", "description", "kernel"))
    return tokens(" ".join([text, *labels, f"{image['word_size']}-bit", image["max_size"] or ""]))


# ---------- columns, names, legend ----------


@pytest.mark.parametrize("width", WIDTHS)
def test_every_column_fits_without_horizontal_scroll(
    base: str, opener: Callable[..., Tab], width: int
) -> None:
    tab = opener(f"{base}/real/index.html", width=width)
    page = tab.page
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")
    if width >= 1280:
        for header in page.locator("#inventory thead th").all():
            box = header.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width, header.text_content()
        row_height = page.locator("#inventory tbody tr").first.bounding_box()["height"]
        assert row_height < 80  # compact: a name wraps to two lines at most
        sizes = page.locator("#inventory tbody th.name a").evaluate_all(
            "as => as.map(a => parseFloat(getComputedStyle(a).fontSize))"
        )
        assert min(sizes) >= 12  # text is not shrunk to fit
    tab.assert_clean()


def test_names_are_monospace_keep_underscores_and_wrap_after_them(
    base: str, opener: Callable[..., Tab]
) -> None:
    tab = opener(f"{base}/real/index.html")
    link = tab.page.locator("#inventory tbody th.name a").first
    style = link.evaluate(
        "a => [getComputedStyle(a).fontFamily, getComputedStyle(a).textDecorationLine]"
    )
    assert "mono" in style[0].lower() and style[1] == "none"
    assert link.evaluate("a => a.querySelectorAll('wbr').length") == link.inner_text().count("_")
    lines = link.evaluate(
        "a => { const r = document.createRange(); r.selectNodeContents(a); "
        "return Array.from(r.getClientRects()).length }"
    )
    assert lines >= 1
    for text in tab.page.locator("#inventory tbody th.name a").all_inner_texts():
        for line in text.split("\n")[:-1]:
            assert line.endswith("_"), text  # every break is after an underscore
    tab.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_legend_explains_bits_and_max_in_place(
    base: str, opener: Callable[..., Tab], width: int
) -> None:
    tab = opener(f"{base}/real/index.html", width=width)
    legend = tab.page.locator("details.legend")
    legend.locator("summary").click()
    bits = legend.locator("div", has=tab.page.locator("dt", has_text="Bits"))
    expect(bits.locator("dd")).to_contain_text("word size")
    expect(legend.locator("div", has_text="Max").locator("dd")).to_contain_text("virtual disk")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= width
    tab.assert_clean()


# ---------- facets ----------


@pytest.mark.parametrize("width", WIDTHS)
def test_every_os_value_is_reachable_with_show_more(
    base: str, opener: Callable[..., Tab], catalog: list[dict], width: int
) -> None:
    tab = opener(f"{base}/real/index.html", width=width)
    if width < 800:
        tab.page.locator("#filters > summary").click()
    facet = tab.page.locator("fieldset[data-facet=os]")
    boxes = facet.locator("input[type=checkbox]")
    distinct = {fold(i["os"] or "") for i in catalog}
    expect(boxes).to_have_count(len(distinct))
    visible = [b for b in boxes.all() if b.is_visible()]
    assert len(visible) < len(distinct)
    more = facet.get_by_role("button", name=f"Show {len(distinct) - len(visible)} more")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.click()
    assert all(b.is_visible() for b in boxes.all())
    expect(facet.get_by_role("button", name="Show fewer")).to_have_attribute(
        "aria-expanded", "true"
    )
    tab.assert_clean()


def test_case_variants_are_one_value_and_urls_keep_their_spelling(
    base: str, opener: Callable[..., Tab], catalog: list[dict], sites: dict[str, Path]
) -> None:
    tab = opener(f"{base}/real/index.html")
    facet = tab.page.locator("fieldset[data-facet=os]")
    expect(facet.locator("input[value='sl6.4' i]")).to_have_count(1)
    expect(facet.locator("input[value='sl6.4']")).to_have_count(1)
    expected = names(catalog, lambda i: fold(i["os"] or "") == "sl6.4")
    assert len({i["os"] for i in catalog if fold(i["os"] or "") == "sl6.4"}) == 2
    label = facet.locator("label", has=tab.page.locator("input[value='sl6.4']"))
    expect(label.locator(".facet-count")).to_have_text(str(len(expected)))
    for spelling in ("sl6.4", "SL6.4"):
        tab.page.goto(f"{base}/real/index.html?os={spelling}")
        tab.page.wait_for_selector("#catalog[data-ready]")
        assert set(shown(tab)) == expected
        expect(facet.locator("input[value='sl6.4']")).to_be_checked()
        assert tab.page.url.endswith(f"?os={spelling}")
    libraries = facet_labels(tab, "star_lib")
    assert libraries.count("SL13b") == 1
    published = json.loads((sites["real"] / "catalog.json").read_text())
    variants = [p for p in published["problems"] if p["code"] == "case_variant"]
    assert {p["path"] for p in variants} == {
        "kvm/SL6.4_x86_64_SL13b_20GB_test.qcow2",
        "xen/sl6.4_x86_64_SL13b_8GB_mini.img",
    }
    assert all(p["severity"] == "warning" for p in variants)
    assert "SL6.4" in {i["os"] for i in published["images"]}  # catalog.json keeps the spelling
    tab.assert_clean()


def facet_labels(tab: Tab, facet: str) -> list[str]:
    return tab.page.locator(f"fieldset[data-facet={facet}] .facet-label").all_text_contents()


def test_os_grouped_by_family_in_version_order_and_libraries_by_release(
    base: str, opener: Callable[..., Tab]
) -> None:
    tab = opener(f"{base}/real/index.html")
    oses = facet_labels(tab, "os")
    scientific = [label for label in oses if re.match(r"Scientific Linux \d", label)]
    assert scientific == [
        "Scientific Linux 4",
        "Scientific Linux 5.3",
        "Scientific Linux 5.10",
        "Scientific Linux 6.2",
        "Scientific Linux 6.4",
        "Scientific Linux 7.9",
    ]
    first = oses.index(scientific[0])
    assert oses[first : first + len(scientific)] == scientific  # one family, together
    groups = tab.page.locator("fieldset[data-facet=os] .facet-group").all_text_contents()
    assert "Scientific Linux" in groups and "CentOS" in groups
    libraries = facet_labels(tab, "star_lib")
    releases = [int(re.sub(r"\D", "", label)) for label in libraries if label != "Unknown"]
    assert releases == sorted(releases) and len(releases) > 8
    tab.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_active_filters_are_chips_removed_one_by_one_or_all(
    base: str, opener: Callable[..., Tab], catalog: list[dict], width: int
) -> None:
    tab = opener(f"{base}/real/index.html?vm=kvm&word_size=64&q=batch", width=width)
    chips = tab.page.locator("#filter-chips button")
    expect(chips).to_have_text(["Search: batch", "VM software: KVM", "Word size: 64-bit"])
    chips.nth(1).click()
    expect(chips).to_have_count(2)
    assert tab.page.url.endswith("?q=batch&word_size=64")
    batch = names(catalog, lambda i: i["word_size"] == 64 and "batch" in words(i))
    assert set(shown(tab)) == batch
    tab.page.locator("#clear-filters").click()
    expect(tab.page.locator("#active-filters")).to_be_hidden()
    expect(tab.page.locator("#inventory tbody tr")).to_have_count(len(catalog))
    assert tab.page.url.endswith("/real/index.html")
    tab.assert_clean()


def test_on_a_phone_filters_open_from_a_button_counting_active_ones(
    base: str, opener: Callable[..., Tab]
) -> None:
    tab = opener(f"{base}/real/index.html?vm=kvm&os=sl6.4", width=390)
    summary = tab.page.locator("#filters > summary")
    expect(summary).to_have_text("Filters (2 active)")
    expect(tab.page.locator("fieldset[data-facet=vm]")).to_be_hidden()
    assert summary.bounding_box()["y"] < tab.page.locator("#inventory").bounding_box()["y"]
    summary.click()
    expect(tab.page.locator("fieldset[data-facet=vm]")).to_be_visible()
    tab.page.locator("input[name=vm][value=kvm]").uncheck()
    expect(summary).to_have_text("Filters (1 active)")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 390
    tab.assert_clean()


# ---------- search ----------


def search(tab: Tab, query: str) -> set[str]:
    tab.page.locator("#q").fill(query)
    tab.page.wait_for_function(
        "q => new URLSearchParams(location.search).get('q') === q", arg=query
    )
    return set(shown(tab))


@pytest.mark.parametrize("width", WIDTHS)
def test_search_words_numbers_hex_and_bits(
    base: str, opener: Callable[..., Tab], catalog: list[dict], width: int
) -> None:
    tab = opener(f"{base}/real/index.html", width=width)
    sixty_four = names(catalog, lambda i: i["word_size"] == 64)
    for query in ("64bit", "64-bit", "x86_64"):
        assert search(tab, query) == sixty_four, query
    assert search(tab, "6") == names(catalog, lambda i: "6" in words(i))
    assert not search(tab, "6") & names(catalog, lambda i: "6" not in words(i))
    assert "sl5.3_x86_64_sl09g_12GB_grid.img" not in search(tab, "6")  # 64 is not 6
    target = next(i for i in catalog if i["md5"])
    assert search(tab, target["md5"][:8]) == {target["name"]}
    assert search(tab, target["md5"].upper()) == {target["name"]}
    assert search(tab, target["md5"][:7]) == set()  # under 8 hex digits: no digest match
    assert search(tab, "geant4 root6") == {DESCRIBED.split("/")[1]}  # the description
    assert search(tab, "754") == {DESCRIBED.split("/")[1]}  # front matter: kernel 2.6.32-754
    assert search(tab, "lauret") == {DESCRIBED.split("/")[1]}
    assert search(tab, "scien 5.10") == names(catalog, lambda i: i["os"] == "sl5.10")
    tab.assert_clean()


def test_the_page_splits_words_as_the_index_does(base: str, opener: Callable[..., Tab]) -> None:
    samples = ["sl6.4_x86_64_SL13b", "64-bit", "Geant4, ROOT6 (v2.6.32-754)", "Jérôme  ünï_ÇODE"]
    tab = opener(f"{base}/real/index.html")
    for text in samples:
        assert tab.page.evaluate("t => window.StarCatalog.tokens(t)", text) == tokens(text)
    tab.assert_clean()


def test_the_using_page_documents_the_search_words(base: str, opener: Callable[..., Tab]) -> None:
    tab = opener(f"{base}/real/index.html")
    tab.page.get_by_role("link", name="How search works").click()
    prose = tab.page.locator("main")
    expect(prose).to_contain_text("A number matches whole numbers only")
    expect(prose).to_contain_text("8 or more hexadecimal digits")
    expect(prose).to_contain_text("64bit")
    tab.assert_clean()


# ---------- dates ----------


@pytest.mark.parametrize("width", WIDTHS)
def test_newest_first_from_the_sort_menu(
    base: str, opener: Callable[..., Tab], catalog: list[dict], width: int
) -> None:
    tab = opener(f"{base}/real/index.html", width=width)
    tab.page.locator("#sort").select_option(label="Newest first")
    assert tab.page.url.endswith("?sort=-first_seen")
    newest = {relpath.split("/")[1] for relpath in NEWER}
    assert set(shown(tab)[: len(newest)]) == newest
    firsts = tab.rows("first_seen")
    assert firsts == sorted(firsts, reverse=True) and firsts[0] > firsts[-1]
    dates = tab.page.locator("#inventory tbody tr").first.locator("td.dates")
    expect(dates).to_contain_text("2024-03-11")
    tab.page.locator("#sort").select_option(label="Recently changed")
    changed = tab.rows("last_changed")
    assert changed == sorted(changed, reverse=True)
    tab.page.go_back()
    expect(tab.page.locator("#sort")).to_have_value("-first_seen")
    tab.assert_clean()


def test_without_javascript_the_listing_shows_first_seen_and_last_changed(
    base: str, opener: Callable[..., Tab], catalog: list[dict]
) -> None:
    tab = opener(f"{base}/real/index.html", javascript=False)
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(len(catalog))
    by_name = {i["name"]: i for i in catalog}
    for row in rows.all():
        image = by_name[row.get_attribute("data-name")]
        times = row.locator("td.dates time").evaluate_all(
            "ts => ts.map(t => t.getAttribute('datetime'))"
        )
        assert times == [image["first_seen"], image["last_changed"]]
        assert row.locator("td.dates").is_visible()
    tab.assert_clean()


# ---------- export ----------


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_export_downloads_the_filtered_rows(
    base: str, opener: Callable[..., Tab], catalog: list[dict], kind: str
) -> None:
    tab = opener(f"{base}/real/index.html?vm=xen&sort=-size_bytes")
    with tab.page.expect_download() as info:
        tab.page.locator(f"button[data-export={kind}]").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text))) if kind == "csv" else json.loads(text)
    assert info.value.suggested_filename == f"star-vm-images.{kind}"
    assert [r["name"] for r in rows] == shown(tab)
    by_name = {i["name"]: i for i in catalog}
    assert {r["name"] for r in rows} == names(catalog, lambda i: i["vm"] == "xen")
    for row in rows:
        image = by_name[row["name"]]
        for key in ("md5", "os", "first_seen", "url"):
            assert row[key] == (image[key] or "")
        assert str(row["size_bytes"]) == str(image["size_bytes"])
    tab.assert_clean()


# ---------- from disk, sub-paths ----------


@pytest.mark.parametrize("width", WIDTHS)
def test_from_the_file_system_an_image_link_opens_its_page(
    sites: dict[str, Path], opener: Callable[..., Tab], width: int
) -> None:
    tab = opener((sites["real"] / "index.html").as_uri() + "?vm=kvm", width=width)
    link = tab.page.locator("#inventory tbody th.name a").first
    name = link.inner_text().replace("\n", "")
    assert link.get_attribute("href").endswith("/index.html")
    link.click()
    expect(tab.page.locator("h1")).to_contain_text(name)
    assert tab.page.url.startswith("file://") and tab.page.url.endswith("/index.html")
    tab.assert_clean()


def test_large_catalog_from_the_file_system_says_search_needs_a_server(
    sites: dict[str, Path], opener: Callable[..., Tab]
) -> None:
    tab = opener((sites["large"] / "index.html").as_uri(), ready=False)
    expect(tab.page.locator("#result-count")).to_contain_text("Search needs the site served")
    tab.page.locator(".listing-link a", has_text="2").click()
    expect(tab.page.locator("h1")).to_contain_text("page 2 of")
    tab.page.locator("tbody th a").first.click()
    expect(tab.page.locator("h1")).not_to_be_empty()
    assert tab.page.url.endswith("/index.html")
    # The browser's own refusal of search-index.json from a file, and nothing else:
    assert tab.errors and all("search-index.json" in e or "ERR_FAILED" in e for e in tab.errors)
    tab.errors.clear()
    tab.assert_clean()


def test_large_catalog_under_a_sub_path_searches_the_index(
    base: str, opener: Callable[..., Tab]
) -> None:
    tab = opener(f"{base}/large/index.html?q=64bit")
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows.first).to_be_visible()
    link = rows.first.locator("th a")
    assert link.get_attribute("href").endswith("/index.html")
    name = link.inner_text().replace("\n", "")
    link.click()
    expect(tab.page.locator("h1")).to_contain_text(name)
    tab.assert_clean()


# ---------- URL parameters the README documents ----------


FACET_CASES = [
    ("vm", "kvm", lambda i: i["vm"] == "kvm"),
    ("os", "sl6.4", lambda i: fold(i["os"] or "") == "sl6.4"),
    ("arch", "x86", lambda i: i["arch"] == "x86"),
    ("word_size", "32", lambda i: i["word_size"] == 32),
    ("star_lib", "sl13b", lambda i: fold(i["star_lib"] or "") == "sl13b"),
    ("status", "mismatch", lambda i: i["status"] == "mismatch"),
    ("format", "raw", lambda i: i["format"] == "raw"),
    ("q", "ec2", lambda i: "ec2" in words(i)),
]


@pytest.mark.parametrize(("name", "value", "keep"), FACET_CASES, ids=[c[0] for c in FACET_CASES])
def test_documented_url_parameters_keep_their_meaning(
    base: str,
    opener: Callable[..., Tab],
    catalog: list[dict],
    name: str,
    value: str,
    keep: Callable[[dict], bool],
) -> None:
    tab = opener(f"{base}/real/index.html?{name}={value}")
    expected = names(catalog, keep)
    assert expected and set(shown(tab)) == expected
    tab.assert_clean()


@pytest.mark.parametrize("sort", ["-size_bytes", "size_bytes", "detail", "-verified_at", "arch"])
def test_documented_sort_keys_keep_their_meaning(
    base: str, opener: Callable[..., Tab], catalog: list[dict], sort: str
) -> None:
    tab = opener(f"{base}/real/index.html?sort={sort}")
    key = sort.lstrip("-")
    by_name = {i["name"]: i for i in catalog}
    values = [by_name[n][key] for n in shown(tab)]
    present = [v for v in values if v not in (None, "")]
    assert present == sorted(present, reverse=sort.startswith("-"))
    assert values[: len(present)] == present  # unknown values last
    expect(tab.page.locator("#sort")).to_have_value(sort)
    tab.assert_clean()


# ---------- embed.html ----------


@pytest.mark.parametrize("width", WIDTHS)
def test_embed_shows_the_filtered_inventory_without_site_navigation(
    base: str, opener: Callable[..., Tab], catalog: list[dict], width: int
) -> None:
    tab = opener(f"{base}/real/embed.html?vm=kvm&star_lib=sl13b", width=width, ready=False)
    tab.page.wait_for_selector("#catalog[data-ready]")
    expected = names(catalog, lambda i: i["vm"] == "kvm" and fold(i["star_lib"] or "") == "sl13b")
    assert set(shown(tab)) == expected and len(expected) == 2
    expect(tab.page.locator(".site-header")).to_be_hidden()
    expect(tab.page.locator(".site-footer")).to_be_hidden()
    targets = tab.page.locator("#inventory tbody a").evaluate_all("as => as.map(a => a.target)")
    assert set(targets) == {"_parent"}
    full = tab.page.locator("#full-view")
    expect(full).to_have_attribute("target", "_parent")
    assert full.get_attribute("href") == "index.html?vm=kvm&star_lib=sl13b"
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= width
    tab.assert_clean()


def test_embedded_in_a_frame_links_open_in_the_parent_page(
    base: str, opener: Callable[..., Tab]
) -> None:
    tab = opener(f"{base}/frame.html")
    frame = tab.page.frame_locator("#vm")
    link = frame.locator("#inventory tbody th.name a").first
    expect(link).to_be_visible()
    name = link.inner_text().replace("\n", "")
    link.click()
    tab.page.wait_for_url("**/images/**/index.html")
    expect(tab.page.locator("h1")).to_contain_text(name)
    tab.assert_clean()
