"""The published site read as a user reads it: parsed pages, rows, links and labels."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pytest

from generator.catalog.model import Catalog
from generator.cli import main
from generator.demo import demo_repository
from tests.conftest import FIXED_NS, build_site, image_entries, write_tree
from tests.parsed_html import Node, html_pages, read_page

BASE_URL = "https://www.star.bnl.gov/public/vm/"
EC2 = "images/xen/sl5.3_x86_32_sl05c_8GB_ec2/index.html"
VMWARE_DIR = "images/vmware/centOS5_x86_64_sl10c_40GB_analysis/index.html"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Catalog]:
    tmp = tmp_path_factory.mktemp("demo")
    site = tmp / "site"
    catalog = build_site(demo_repository(tmp / "cache"), site, base_url=BASE_URL)
    return site, catalog


def body_rows(page: Node) -> list[Node]:
    return page.find("table", id="inventory").find("tbody").find_all("tr")


def resolve(page_path: str, href: str) -> str:
    """The site file a relative link from `page_path` opens (a directory means its index.html)."""
    parts = page_path.split("/")[:-1]
    path = unquote(urlsplit(href).path)
    for piece in path.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    target = "/".join(parts)
    return f"{target}/index.html".lstrip("/") if path.endswith("/") else target


def test_index_lists_every_image_with_a_link_to_its_page(demo: tuple[Path, Catalog]) -> None:
    site, catalog = demo
    rows = body_rows(read_page(site, "index.html"))
    assert len(rows) == len(catalog.images) == 10
    for row, image in zip(rows, catalog.images, strict=True):
        link = row.find("a")
        assert link.text() == image.name
        target = resolve("index.html", link.get("href"))
        assert target == f"images/{image.id}/index.html"
        assert (site / target).is_file()


def test_index_columns_cover_every_field_people_choose_by(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    page = read_page(site, "index.html")
    keys = [th.get("data-key") for th in page.find("thead").find_all("th")]
    assert keys == [
        "name",
        "vm",
        "os",
        "arch",
        "word_size",
        "star_lib",
        "max_size",
        "size_bytes",
        "format",
        "status",
        "last_changed",
    ]
    ec2 = next(r for r in body_rows(page) if "sl5.3_x86_32_sl05c_8GB_ec2" in r.text())
    cells = [c.text() for c in ec2.children if isinstance(c, Node)]
    assert cells == [
        "sl5.3_x86_32_sl05c_8GB_ec2.img",
        "Xen",
        "sl5.3",
        "x86",
        "32",
        "sl05c",
        "8GB",
        "24.0 MiB",
        "qcow2",
        "Verified 2024-03-01",
        "never · never",  # first seen and last changed: this build keeps no history
    ]


def test_status_is_a_badge_with_words_not_colour_alone(demo: tuple[Path, Catalog]) -> None:
    site, catalog = demo
    badges = [row.find("span", cls="badge") for row in body_rows(read_page(site, "index.html"))]
    labels = {b.get("class").split()[1]: b.text() for b in badges}
    assert labels["status-verified"] == "Verified"
    assert labels["status-mismatch"] == "Checksum mismatch"
    assert labels["status-missing_checksum"] == "No checksum"
    assert len(badges) == len(catalog.images)


def test_totals_count_vms_statuses_size_and_problems(demo: tuple[Path, Catalog]) -> None:
    site, catalog = demo
    page = read_page(site, "index.html")
    stats = {
        d.find("dt").text(): d.find("dd").text()
        for d in page.find("dl", cls="stats").find_all("div")
    }
    assert stats["Images"] == "10"
    assert stats["Size on disk"] == "86.0 MiB"
    assert stats["Last verification"] == "2024-03-01 13:33 UTC"
    assert stats["Problems"].startswith(f"{len(catalog.problems)} ")
    assert page.find("dl", cls="stats").find("a").get("href") == "problems/"
    chips = {
        a.text(): a.get("href")
        for a in page.find("section", cls="totals").find_all("a", cls="chip")
    }
    assert chips["Xen 3"] == "index.html?vm=xen"
    assert chips["VirtualBox 2"] == "index.html?vm=virtualBox"
    assert chips["Verified 6"] == "index.html?status=verified"


def test_facets_hold_every_value_with_labels_and_counts(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    page = read_page(site, "index.html")
    facets = {f.get("data-facet"): f for f in page.find_all("fieldset", cls="facet")}
    shown = ["vm", "os", "arch", "word_size", "star_lib", "status", "format", "kernel"]
    assert list(facets) == shown  # the demo gives a kernel in three descriptions
    os_values = {
        label.find("input").get("value"): (
            label.find("span", cls="facet-label").text(),
            label.find("span", cls="facet-count").text(),
        )
        for label in facets["os"].find_all("label")
    }
    assert os_values["sl5.3"] == ("Scientific Linux 5.3", "3")
    assert os_values["ubuntu9.10"] == ("Ubuntu 9.10", "1")
    assert os_values["centOS5"] == ("CentOS 5", "1")
    assert os_values[""] == ("Unknown", "1")
    search = page.find("input", id="q")
    assert search.get("type") == "search"
    assert page.find("label", for_="q").text() == "Search"
    assert page.find(id="result-count").get("aria-live") == "polite"


def test_image_page_shows_labels_path_sizes_and_checks(demo: tuple[Path, Catalog]) -> None:
    site, catalog = demo
    page = read_page(site, EC2)
    assert page.find("h1").text() == "sl5.3_x86_32_sl05c_8GB_ec2.img"
    facts = {dt.text(): dd.text() for dt, dd in _facts(page)}
    assert facts["Operating system"] == "Scientific Linux 5.3 (sl5.3)"
    assert facts["VM software"] == "Xen"
    assert facts["Word size"] == "32-bit"
    assert facts["STAR library"] == "SL05c (sl05c)"
    assert facts["Size on disk"] == "24.0 MiB (25,165,824 bytes)"
    assert facts["Maximum size"] == "8GB = 8.0 GiB (8,589,934,592 bytes)"
    assert "Allocated on disk" in facts
    image = catalog.get("xen/sl5.3_x86_32_sl05c_8GB_ec2")
    assert image is not None and image.md5
    md5s = [page.find("code", id=f"{which}-md5").text() for which in ("expected", "computed")]
    assert md5s == [image.md5, image.md5]
    assert facts["Expected MD5"] == facts["Computed MD5"] == image.md5
    copy = page.find("button", data_copy_target="computed-md5")
    assert copy.attrs["aria-label"] == "Copy the computed MD5" and copy.text() == ""
    assert facts["Checked"] == "2024-03-01 13:33 UTC"
    assert page.find("code", id="repo-path").text() == f"{catalog.repository}/{image.path}"
    assert page.find("button", data_copy_target="repo-path").text() == "Copy path"
    assert page.find("code", id="check-command").text() == (
        "md5sum -c -- sl5.3_x86_32_sl05c_8GB_ec2.checksum"
    )
    assert page.find("code", id="permalink").text() == BASE_URL + image.url


def _facts(page: Node) -> list[tuple[Node, Node]]:
    return [
        (d.find("dt"), d.find("dd"))
        for dl in page.find_all("dl", cls="facts")
        for d in dl.find_all("div")
    ]


def test_image_page_applies_the_space_rule(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    budget = read_page(site, EC2).find("table", cls="budget")
    rows = {r.find("th").text(): r.find("td").text() for r in budget.find_all("tr")}
    assert rows == {
        "Maximum size": "8.0 GiB",
        "− Operating system": "2.0 GiB",
        "− Swap space": "1.0 GiB",
        "− STAR software": "3.0 GiB",
        "Left for your data": "2.0 GiB",
    }
    assert not read_page(site, VMWARE_DIR).find_all("table", cls="budget")


def test_image_page_renders_description_and_front_matter(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    page = read_page(site, EC2)
    facts = {dt.text(): dd.text() for dt, dd in _facts(page)}
    assert facts["Kernel"] == "2.6.18-164.el5xen"
    assert facts["Maintainer"] == "STAR grid team"
    assert facts["Swap space"] == "1GB"
    prose = page.find("div", cls="prose")
    assert prose.find("strong").text() == "SL05c"
    assert "rotatingSeedValue" not in prose.text()


def test_image_page_links_related_filtered_views(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    links = read_page(site, EC2).find("ul", cls="related").find_all("a")
    found = {a.text(): a.get("href") for a in links}
    assert found == {
        "Same operating system: Scientific Linux 5.3": "../../../index.html?os=sl5.3",
        "Same STAR library: SL05c": "../../../index.html?star_lib=sl05c",
        "Same VM software: Xen": "../../../index.html?vm=xen",
    }


def test_multi_file_image_lists_its_members(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    members = read_page(site, VMWARE_DIR).find("table", cls="members").find("tbody").find_all("tr")
    names = [m.find("th").text() for m in members]
    assert names == ["centOS5.vmdk", "disk-s001.vmdk", "disk-s002.vmdk"]
    assert all(m.find("span", cls="badge").text() == "Verified" for m in members)


def test_problems_are_grouped_by_severity_then_code(demo: tuple[Path, Catalog]) -> None:
    site, catalog = demo
    page = read_page(site, "problems/index.html")
    sections = page.find_all("section", cls="severity")
    assert [s.find("h2").text() for s in sections] == ["Errors 5", "Warnings 4"]
    groups = page.find_all("section", cls="problem-group")
    codes = [g.get("id") for g in groups]
    assert codes[0].startswith("error-") and codes[-1].startswith("warning-")
    assert sum(len(g.find("ul").find_all("li")) for g in groups) == len(catalog.problems)
    mismatch = page.find("section", id="error-checksum_mismatch")
    item = mismatch.find("li")
    assert item.find("code").text() == "kvm/sl5.3_x86_64_sl09g_12GB_grid.img"
    assert resolve("problems/index.html", item.find("a").get("href")) == (
        "images/kvm/sl5.3_x86_64_sl09g_12GB_grid/index.html"
    )
    assert item.find("p", cls="hint").text().startswith("Fix: ")


def test_every_page_has_the_site_navigation(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    for path in html_pages(site):
        relpath = path.relative_to(site).as_posix()
        nav = read_page(site, relpath).find("nav", aria_label="Site")
        texts = [a.text() for a in nav.find_all("a")]
        assert texts == [
            "Inventory",
            "About the repository",
            "Naming convention",
            "Using an image",
            "Security policy",
            "Problems",
        ]
        for link in nav.find_all("a"):
            assert (site / resolve(relpath, link.get("href"))).is_file(), (relpath, link.attrs)


def test_every_relative_link_leads_to_a_file(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    for path in html_pages(site):
        relpath = path.relative_to(site).as_posix()
        page = read_page(site, relpath)
        for node in page.find_all("a") + page.find_all("link") + page.find_all("script"):
            href = node.attrs.get("href") or node.attrs.get("src") or ""
            if href and not urlsplit(href).scheme and not href.startswith("#"):
                assert (site / resolve(relpath, href)).is_file(), (relpath, href)


def test_content_pages_are_rendered_with_titles(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    for slug, title in (
        ("about", "About the repository"),
        ("naming", "Naming convention"),
        ("using", "Using an image"),
        ("security", "Security policy"),
    ):
        page = read_page(site, f"{slug}/index.html")
        assert page.find("h1").text() == title
        assert page.find("a", aria_current="page").text() == title
        assert len(page.find("article").text()) > 300


def test_every_page_has_a_strict_content_security_policy(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    for path in html_pages(site):
        page = read_page(site, path.relative_to(site).as_posix())
        csp = page.find("meta", http_equiv="Content-Security-Policy").get("content")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        for script in page.find_all("script"):
            assert script.get("src") and not script.text()
        for node in page.iter():
            assert "style" not in node.attrs
            assert not [a for a in node.attrs if a.startswith("on")]


def test_sitemap_lists_every_page_with_absolute_urls(demo: tuple[Path, Catalog]) -> None:
    site, catalog = demo
    tree = ElementTree.parse(site / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text or "" for loc in tree.getroot().findall("s:url/s:loc", ns)]
    assert locs[0] == BASE_URL
    assert all(loc.startswith(BASE_URL) for loc in locs)
    for image in catalog.images:
        assert BASE_URL + image.url in locs
    assert BASE_URL + "problems/" in locs and BASE_URL + "naming/" in locs
    assert len(locs) == len(set(locs)) == len(catalog.images) + 6


def test_image_page_names_its_canonical_url(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    link = read_page(site, EC2).find("link", rel="canonical")
    assert link.get("href") == BASE_URL + "images/xen/sl5.3_x86_32_sl05c_8GB_ec2/"


def test_catalog_json_is_published_beside_the_pages(demo: tuple[Path, Catalog]) -> None:
    site, catalog = demo
    data = json.loads((site / "catalog.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in data["images"]] == [i.id for i in catalog.images]
    assert not (site / "search-index.json").exists()
    assert not (site / "list").exists()


def test_catalog_json_has_an_image_per_line_and_image_json_is_that_line(
    demo: tuple[Path, Catalog],
) -> None:
    site, catalog = demo
    text = (site / "catalog.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == sorted(data)  # top-level keys sorted, one per line
    assert [line.partition(":")[0] for line in text.splitlines() if line.startswith('"')] == [
        json.dumps(key) for key in sorted(data)
    ]
    lines = [line.removesuffix(",") for line in text.splitlines()]
    for image, entry in zip(catalog.images, data["images"], strict=True):
        record = (site / "images" / image.id / "image.json").read_text(encoding="utf-8")
        assert record.count("\n") == 1 and record.endswith("\n")
        assert record.rstrip("\n") in lines  # the entry's own line of catalog.json
        assert json.loads(record) == entry
        assert list(entry) == sorted(entry)


def test_static_files_are_published(demo: tuple[Path, Catalog]) -> None:
    site, _ = demo
    names = sorted(p.name for p in (site / "static").iterdir())
    assert names == ["catalog.js", "copy.js", "embed.css", "favicon.svg", "nojs.css", "style.css"]
    css = (site / "static" / "style.css").read_text(encoding="utf-8")
    assert "prefers-color-scheme: dark" in css and "@media print" in css
    assert re.search(r"@media \(max-width: \d+rem\)", css)


def test_base_url_flag_reaches_the_sitemap(tmp_path: Path) -> None:
    repository = write_tree(
        tmp_path / "repo", image_entries("kvm/sl6.4_x86_64_sl11d_20GB_batch.img"), mtime_ns=FIXED_NS
    )
    args = ["build", "--repository", str(repository), "--output", str(tmp_path / "site")]
    args += ["--state", str(tmp_path / "state"), "--base-url", "https://example.org/vm/"]
    code = main([*args, "--quiet"])
    assert code == 0
    sitemap = (tmp_path / "site" / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://example.org/vm/images/kvm/sl6.4_x86_64_sl11d_20GB_batch/</loc>" in sitemap
