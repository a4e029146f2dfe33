"""Rendering beyond the demo: hostile repositories, large catalogs, newer fields, determinism."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from generator.build import build
from generator.config import Config
from generator.demo import demo_repository
from generator.resources import content_dir
from generator.site.content import load_content
from generator.site.render import Layout, render_site
from generator.site.search_index import column
from tests.conftest import FIXED_NS, FIXED_TIME, Entry, build_site, image_entries, write_tree
from tests.parsed_html import Node, html_pages, parse_html, read_page
from tests.search_index_reader import decode, index_rows

HOSTILE_DESCRIPTION = """---
kernel: "<script>alert('fm')</script>"
maintainer: "<img src=x onerror=alert('fm2')>"
---
Intro <script>alert('body')</script>

<img src=x onerror=alert('img')>

[click me](javascript:alert('link'))

<a href="javascript:alert('raw')">raw link</a>
<iframe src="javascript:alert('frame')"></iframe>
<div style="background:red" onclick="alert('div')">styled</div>
<svg onload=alert('svg')></svg>
"""

HOSTILE_NAMES = [
    "xen/sl5_x86_32_sl05c_8GB_<img src=x onerror=alert(1)>.img",
    "xen/sl5_x86_32_sl05c_8GB_<script>alert(2)<\\script>.img",
    'kvm/sl6_x86_64_sl06a_4GB_"onmouseover="alert(3).img',
    "kvm/sl6_x86_64_sl06a_4GB_javascript:alert(4).img",
    "kvm/sl6_x86_64_sl06a_4GB_a&amp;b'c.img",
    'x"><svg onload=alert(5)>/sl6_x86_64_sl06a_4GB_vmdir.img',
]


def hostile_files() -> dict[str, Entry]:
    """Every hostile name as an image with its md5sum sidecar and the hostile description."""
    return {
        relpath: entry
        for name in HOSTILE_NAMES
        for relpath, entry in image_entries(name, name.encode(), HOSTILE_DESCRIPTION).items()
    }


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    repository = write_tree(tmp / "repository", hostile_files(), mtime_ns=FIXED_NS)
    build_site(repository, tmp / "site")
    return tmp / "site"


def test_hostile_names_are_catalogued_and_shown_as_text(hostile_site: Path) -> None:
    rows = read_page(hostile_site, "index.html").find("tbody").find_all("tr")
    names = sorted(row.find("a").text() for row in rows)
    assert names == sorted(name.split("/", 1)[1] for name in HOSTILE_NAMES)
    for row in rows:
        assert row.get("data-name") == row.find("a").text()


def test_hostile_strings_never_become_markup(hostile_site: Path) -> None:
    pages = html_pages(hostile_site)
    assert len(pages) >= len(HOSTILE_NAMES) + 6
    for path in pages:
        page = read_page(hostile_site, path.relative_to(hostile_site).as_posix())
        assert not page.find_all("img") and not page.find_all("svg")
        assert not page.find_all("iframe") and not page.find_all("style")
        for script in page.find_all("script"):
            assert script.get("src").endswith(("static/catalog.js", "static/copy.js"))
            assert not script.text()
        for node in page.iter():
            assert not [a for a in node.attrs if a.startswith("on") or a == "style"], node
            for name in ("href", "src", "action", "formaction"):
                url = (node.attrs.get(name) or "").strip().lower()
                assert not url.startswith(("javascript:", "data:")), node


def test_hostile_description_keeps_its_text_without_its_code(hostile_site: Path) -> None:
    image = next(p for p in html_pages(hostile_site) if "alert(1)" in str(p))
    page = read_page(hostile_site, image.relative_to(hostile_site).as_posix())
    prose = page.find("div", cls="prose")
    assert "Intro" in prose.text() and "click me" in prose.text()
    assert all(not a.attrs.get("href") for a in prose.find_all("a"))
    facts = {
        d.find("dt").text(): d.find("dd").text()
        for d in page.find("section", aria_labelledby="description").find_all("div")
        if d.find_all("dt")
    }
    assert facts["Kernel"] == "<script>alert('fm')</script>"


def test_hostile_image_page_lives_at_its_encoded_permalink(hostile_site: Path) -> None:
    index = read_page(hostile_site, "index.html")
    hrefs = [a.get("href") for a in index.find("tbody").find_all("a")]
    assert (
        "images/xen/sl5_x86_32_sl05c_8GB_%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/index.html"
        in hrefs
    )
    assert (hostile_site / "images/xen/sl5_x86_32_sl05c_8GB_<img src=x onerror=alert(1)>").is_dir()
    command = read_page(hostile_site, "images/kvm/sl6_x86_64_sl06a_4GB_a&amp;b'c/index.html")
    assert command.find("code", id="check-command").text() == (
        "md5sum -c -- 'sl6_x86_64_sl06a_4GB_a&amp;b'\"'\"'c.checksum'"
    )


@pytest.fixture(scope="module")
def large_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built as if it were large: 3 rows make a table, 4 per preview and page."""
    tmp = tmp_path_factory.mktemp("large")
    build_site(demo_repository(tmp / "cache"), tmp / "site", layout=Layout(3, 4, 4))
    return tmp / "site"


def test_large_index_holds_a_preview_and_points_to_the_data(large_site: Path) -> None:
    page = read_page(large_site, "index.html")
    assert len(page.find("tbody").find_all("tr")) == 4
    app = page.find(id="catalog")
    assert app.get("data-index") == "search-index.json"
    assert app.get("data-page-size") == "4"
    listing = page.find("p", cls="listing-link")
    assert [a.get("href") for a in listing.find_all("a")] == [
        f"list/{n}/index.html" for n in (1, 2, 3)
    ]


def test_search_index_holds_every_image_compactly(large_site: Path) -> None:
    catalog = json.loads((large_site / "catalog.json").read_text(encoding="utf-8"))
    rows = index_rows(large_site)
    assert [r["url"] for r in rows] == [i["url"] for i in catalog["images"]]
    ec2 = next(r for r in rows if r["name"] == "sl5.3_x86_32_sl05c_8GB_ec2.img")
    assert ec2["word_size"] == "32" and ec2["max_size_bytes"] == str(8 << 30)
    assert ec2["status"] == "verified" and ec2["size"] == "24.0 MiB"
    data = json.loads((large_site / "search-index.json").read_text(encoding="utf-8"))
    assert data["columns"]["url"]["values"] == [""]  # every permalink is the derived one
    statuses = data["columns"]["status"]  # a facet: its distinct values once, a number per image
    assert set(statuses["values"]) == {i["status"] for i in catalog["images"]}
    assert len(statuses["codes"]) == len(rows) > len(statuses["values"])


@pytest.mark.parametrize("distinct", [1, 91, 92, 91 * 91 + 1])
def test_a_coded_column_reads_back_whatever_its_width(distinct: int) -> None:
    """Past 91 values a number takes two base-91 digits, past 91² three."""
    values = [f"v{n % distinct}" for n in range(2 * distinct + 7)]
    coded = column("status", values)  # a facet: always coded
    assert decode(coded, len(values)) == values
    assert coded["width"] == 1 + (distinct > 91) + (distinct > 91 * 91)


@pytest.mark.parametrize(
    ("values", "separator"),
    [(["a", "b"], "|"), (["a|1", "b"], "\n"), (["a|1", "b\n2"], "\0"), (["a|\n\0", "b"], None)],
)
def test_a_packed_column_is_joined_by_a_separator_none_of_its_values_holds(
    values: list[str], separator: str | None
) -> None:
    packed = column("name", values)  # two distinct values of two: packed when it can be
    if separator is None:  # every separator taken: coded instead
        assert "codes" in packed
    else:
        assert packed["separator"] == separator
    assert decode(packed, len(values)) == values


def test_listing_pages_list_every_image_once_without_script(large_site: Path) -> None:
    catalog = json.loads((large_site / "catalog.json").read_text(encoding="utf-8"))
    seen = []
    for number in (1, 2, 3):
        page = read_page(large_site, f"list/{number}/index.html")
        seen += [a.get("href") for a in page.find("tbody").find_all("a")]
        current = page.find("nav", cls="pager").find("a", aria_current="page")
        assert current.text() == str(number)
    assert seen == [f"../../{i['url']}index.html" for i in catalog["images"]]
    assert not (large_site / "list/4").exists()
    sitemap = (large_site / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>list/3/</loc>" in sitemap


def test_sitemap_without_base_url_is_relative(large_site: Path) -> None:
    sitemap = (large_site / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>./</loc>" in sitemap
    assert "<loc>images/xen/sl5.3_x86_32_sl05c_8GB_ec2/</loc>" in sitemap
    assert "http" not in sitemap.replace("http://www.sitemaps.org", "")


def test_same_repository_and_clock_give_identical_sites(tmp_path: Path) -> None:
    repository = write_tree(tmp_path / "repository", hostile_files(), mtime_ns=FIXED_NS)
    build_site(repository, tmp_path / "one")
    build_site(repository, tmp_path / "two")
    one = {
        p.relative_to(tmp_path / "one"): p.read_bytes()
        for p in (tmp_path / "one").rglob("*")
        if p.is_file()
    }
    two = {
        p.relative_to(tmp_path / "two"): p.read_bytes()
        for p in (tmp_path / "two").rglob("*")
        if p.is_file()
    }
    assert one == two


def render_with_formats(tmp_path: Path) -> dict[str, Node]:
    """Images carrying the detected-format fields another part of the catalog adds."""
    repository = write_tree(
        tmp_path / "repository",
        {
            **image_entries("kvm/sl6.4_x86_64_sl11d_20GB_batch.qcow2"),
            **image_entries("xen/sl5.3_x86_32_sl05c_8GB_ec2.img.gz"),
        },
        mtime_ns=FIXED_NS,
    )
    config = Config(repository=repository, state=tmp_path / "state", jobs=1)
    catalog = build(config, clock=lambda: FIXED_TIME, publish=False).catalog
    assert catalog is not None
    images = [
        replace(image, format=fmt, compression=compression, virtual_size_bytes=20 << 30)
        for image, fmt, compression in zip(
            catalog.images, ("qcow2", "raw"), (None, "gzip"), strict=True
        )
    ]
    files = render_site(replace(catalog, images=images), load_content(content_dir()), "T")
    return {
        path: parse_html(data.decode()) for path, data in files.items() if path.endswith(".html")
    }


def test_detected_format_becomes_a_column_facet_and_fact(tmp_path: Path) -> None:
    pages = render_with_formats(tmp_path)
    index = pages["index.html"]
    assert "format" in [f.get("data-facet") for f in index.find_all("fieldset", cls="facet")]
    labels = [
        s.text()
        for s in index.find("fieldset", data_facet="format").find_all("span", cls="facet-label")
    ]
    assert sorted(labels) == ["QCOW2", "Raw disk"]
    assert "format" in [th.get("data-key") for th in index.find("thead").find_all("th")]
    assert [r.get("data-format") for r in index.find("tbody").find_all("tr")] == ["qcow2", "raw"]
    page = pages["images/xen/sl5.3_x86_32_sl05c_8GB_ec2/index.html"]
    facts = {
        d.find("dt").text(): d.find("dd").text() for d in page.find_all("div") if d.find_all("dt")
    }
    assert facts["Disk format"] == "Raw disk"
    assert facts["Compression"] == "gzip"
    assert facts["Virtual disk size"] == "20.0 GiB (21,474,836,480 bytes)"


def test_an_empty_repository_still_gives_a_whole_site(tmp_path: Path) -> None:
    (tmp_path / "repository" / "xen").mkdir(parents=True)
    build_site(tmp_path / "repository", tmp_path / "site")
    index = read_page(tmp_path / "site", "index.html")
    assert index.find("tbody").find_all("tr") == []
    assert index.find("p", cls="empty").text() == "The repository holds no images yet."
    stats = {
        d.find("dt").text(): d.find("dd").text()
        for d in index.find("dl", cls="stats").find_all("div")
    }
    assert stats["Images"] == "0" and stats["Last verification"] == "never"
    problems = read_page(tmp_path / "site", "problems/index.html")
    assert problems.find("p", cls="lead").text().startswith("No problems")
