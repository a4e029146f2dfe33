"""Parts of pages made once per build (issue 17): part macros bound as globals, and the head
links, header and footer rendered once per nav. The output must be what rendering each page
in full gave (the golden demo site proves the bytes); these prove the parts stay correct."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest
from markupsafe import Markup

from bench.bench_render import render_times
from generator.resources import content_dir, templates_dir
from generator.site.content import load_content
from generator.site.image_links import facet_href, repository_path
from generator.site.render import environment
from generator.site.template_parts import CHROME, PARTS
from generator.site.views import filter_href, make_nav
from tests.conftest import FIXED_NS, build_site, image_entries, write_tree
from tests.parsed_html import read_page

MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\(")
IMG = "sl6.4_x86_64_sl11d_20GB"


def macros_of(path: Path) -> list[str]:
    return MACRO.findall(path.read_text(encoding="utf-8"))


def test_every_macro_of_a_part_file_is_bound_for_every_template() -> None:
    files = {p.name: macros_of(p) for p in templates_dir().glob("_*.html") if macros_of(p)}
    assert set(files) - {CHROME} == set(PARTS), "a part file with macros must be in PARTS"
    bound = environment().globals
    for name in PARTS:
        assert files[name], f"{name} defines no macro"
        assert all(callable(bound.get(macro)) for macro in files[name]), name


def test_no_template_includes_or_imports_a_part_file() -> None:
    """Including a file of macros renders nothing, silently; importing one costs every page."""
    for template in templates_dir().glob("*.html"):
        text = template.read_text(encoding="utf-8")
        for part in (*PARTS, CHROME):
            assert not re.search(rf"\{{%-?\s*(include|import|from)\s+\"{part}\"", text), (
                f"{template.name} loads {part}: call its macro instead"
            )


def test_a_shared_part_is_made_once_per_nav_and_never_holds_a_page_address() -> None:
    shared_part = environment().globals["shared_part"]
    pages = load_content(content_dir())
    nav = make_nav(3, "STAR VM images", pages, "", "")
    first = replace(nav, canonical="https://example.org/vm/images/xen/first/")
    second = replace(nav, canonical="https://example.org/vm/images/xen/second/")
    for name in ("head_links", "site_header", "site_footer"):
        part = shared_part(name, first)
        assert shared_part(name, second) is part, f"{name} rendered again for an equal nav"
        assert "images/xen" not in part
    header = shared_part("site_header", first)
    assert 'href="../../../problems/"' in header and "aria-current" not in header
    # Navs that differ in any field but the canonical address get parts of their own.
    plain = make_nav(1, "STAR VM images", pages, "", "")
    assert "aria-current" not in shared_part("site_header", plain)
    current = shared_part("site_header", make_nav(1, "STAR VM images", pages, "problems", ""))
    assert '<a href="../problems/" aria-current="page">Problems</a>' in current
    assert "Catalog generated" not in shared_part("site_footer", plain)
    stamped = replace(plain, generated_at="2026-12-02T01:00:00Z", generated="2 Dec 2026")
    assert 'datetime="2026-12-02T01:00:00Z"' in shared_part("site_footer", stamped)
    assert "sitemap.xml" in shared_part("site_footer", stamped)
    assert "sitemap.xml" not in shared_part("site_footer", replace(stamped, private=True))
    assert "Other title" in shared_part("site_header", replace(plain, title="Other title"))


def test_each_image_page_names_only_its_own_canonical_address(tmp_path: Path) -> None:
    names = [f"xen/{IMG}_a.img", f"xen/{IMG}_b.img", f"kvm/{IMG}_a.img"]
    files = {k: v for n in names for k, v in image_entries(n, n.encode(), "Text.").items()}
    repository = write_tree(tmp_path / "repo", files, mtime_ns=FIXED_NS)
    build_site(repository, tmp_path / "site", base_url="https://example.org/vm/")
    for name in names:
        vm, stem = name.removesuffix(".img").split("/")
        page = read_page(tmp_path / "site", f"images/{vm}/{stem}/index.html")
        canonical = [n.get("href") for n in page.find_all("link", rel="canonical")]
        assert canonical == [f"https://example.org/vm/images/{vm}/{stem}/"]
        menu = [a.get("href") for a in page.find("header", cls="site-header").find_all("a")]
        assert menu[1] == "../../../index.html" and menu[-1] == "../../../problems/"


@pytest.mark.parametrize(
    ("repository", "relative"),
    [
        ("/star/data08/OSG/APP/vm", "xen/sl5_x86_32_sl05c_8GB.img"),
        ("/star/data08/OSG/APP/vm/", "xen/a.img"),
        ("/star//vm", "xen/a.img"),
        ("/", "xen/a.img"),
        ("relative/repo", "kvm/dir.img"),
        ("/star/vm", "xen"),
        ("/star/vm", "xen//a.img"),
        ("/star/vm", "./xen/a.img"),
        ("/star/vm", "xen/../a.img"),
        ("/star/vm", "xen/a.img/"),
        ("/star/vm", ""),
        ("/star/vm", "/elsewhere/a.img"),
        ("/star/vm", "xen/a b&<c>.img"),
    ],
)
def test_repository_path_is_the_pure_posix_join(repository: str, relative: str) -> None:
    assert repository_path(repository, relative) == str(PurePosixPath(repository) / relative)


def test_a_remembered_facet_link_is_the_filter_link() -> None:
    for value in ("xen", "sl6.4", "a b&c=d", "é"):
        assert facet_href("../../../", "os", value) == filter_href("../../../", os=value)


def test_the_render_benchmark_renders_every_page() -> None:
    walls, cpus, pages = render_times(1, 30)
    assert pages == 30 and len(walls) == len(cpus) == 1 and walls[0] > 0


def test_a_remembered_part_renders_as_its_macro_and_never_mixes_text_with_markup() -> None:
    bound = environment().globals
    badge, copy_button = bound["badge"], bound["copy_button"]
    assert badge("verified", "Verified") == '<span class="badge status-verified">Verified</span>\n'
    assert badge("verified", "Verified") is badge("verified", "Verified")
    text = badge("x", "<b>x</b>")
    assert text == '<span class="badge status-x">&lt;b&gt;x&lt;/b&gt;</span>\n'
    # Equal as strings, not as HTML: the Markup call must not be answered from the text one.
    assert badge("x", Markup("<b>x</b>")) == '<span class="badge status-x"><b>x</b></span>\n'
    labelled = copy_button("repo-path", "Copy path")
    assert 'aria-describedby="repo-path-label">Copy path</button>' in labelled
    short = copy_button("expected-md5", aria="Copy the expected MD5")
    assert 'aria-label="Copy the expected MD5"' in short and "aria-describedby" not in short
    assert copy_button("expected-md5", "Copy the expected MD5") != short
