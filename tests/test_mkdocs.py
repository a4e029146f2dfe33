"""The `star-vm-catalog` plugin in real MkDocs, ProperDocs and Material builds (`--strict`).

Each test builds a docs project in tmp_path around a catalog.json that the real CLI published
from a real repository, runs the documentation tool as a user would (a subprocess), and reads
what it wrote: the pages, the search index and the nav.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import ROOT, write_tree
from tests.export_helpers import active_content, image_ids, publish_catalog

# MkDocs 1.6, ProperDocs and Material print notices about MkDocs 2.0 unless told not to.
QUIET = {"DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
PLUGIN = "  - star-vm-catalog:\n      catalog: vm-site/catalog.json\n      prefix: vm/\n"


def need(module: str) -> None:
    """Skip, saying so loudly, when a documentation tool of the test extra is missing."""
    pytest.importorskip(
        module,
        reason=f"{module} is not installed: `pip install -e '.[test]'` installs it; "
        "the MkDocs plugin is NOT tested here",
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog.json published by `star-vm-catalog build` from a three-image repository."""
    return publish_catalog(tmp_path_factory.mktemp("published"))


def docs_project(root: Path, catalog: Path, config_name: str, extra: str = "") -> Path:
    """A docs project: docs/index.md, the catalog beside the config, the plugin configured."""
    write_tree(root, {
        "docs/index.md": "# Computing at STAR\n\nSee the [list of virtual machines](vm/index.md).\n",
        config_name: f"site_name: Computing at STAR\n{extra}plugins:\n  - search\n{PLUGIN}",
    })  # fmt: skip
    (root / "vm-site").mkdir()
    (root / "vm-site" / "catalog.json").write_bytes(catalog.read_bytes())
    return root


def run_tool(tool: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=root,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=300,
    )


def search_locations(site: Path) -> set[str]:
    """Page locations in the search index, percent-decoded (pages only, not their sections)."""
    index = json.loads((site / "search" / "search_index.json").read_text())
    return {unquote(doc["location"]) for doc in index["docs"] if "#" not in doc["location"]}


def page_location(image_id: str, directory_urls: bool) -> str:
    """Where the tool puts an image page (its address relative to the site root)."""
    return f"vm/images/{image_id}/" if directory_urls else f"vm/images/{image_id}.html"


def html_file(site: Path, location: str) -> Path:
    return site / (location + "index.html" if location.endswith("/") else location)


def assert_every_image_built_and_indexed(site: Path, catalog: Path, directory_urls: bool) -> None:
    """Each image has a page and a search entry; the inventory too; no page carries a script."""
    locations = search_locations(site)
    for image_id in image_ids(catalog):
        location = page_location(image_id, directory_urls)
        assert html_file(site, location).is_file(), image_id
        assert location in locations, image_id
    inventory = "vm/" if directory_urls else "vm/index.html"
    assert inventory in locations
    assert "Scientific Linux 5.3" in html_file(site, inventory).read_text()
    for page in site.rglob("*.html"):  # nothing runs and nothing leaks, whatever the theme
        assert active_content(page.read_text()) == [], page


@pytest.mark.parametrize("directory_urls", [True, False])
def test_mkdocs_strict_build_has_every_image_page_and_search_entry(
    published: Path, tmp_path: Path, directory_urls: bool
) -> None:
    need("mkdocs")
    extra = "" if directory_urls else "use_directory_urls: false\n"
    root = docs_project(tmp_path, published, "mkdocs.yml", extra)
    done = run_tool("mkdocs", root, "build", "--strict")
    assert done.returncode == 0, done.stderr
    site = root / "site"
    assert_every_image_built_and_indexed(site, published, directory_urls)
    home = (site / "index.html").read_text()
    nav_href = "vm/" if directory_urls else "vm/index.html"
    assert re.search(
        rf'href="(\./)?{re.escape(nav_href)}"[^>]*>\s*STAR virtual machine images', home
    )
    assert home.count("VM images") == 1  # the nav section, once


def test_properdocs_strict_build(published: Path, tmp_path: Path) -> None:
    need("properdocs")
    root = docs_project(tmp_path, published, "properdocs.yml")
    done = run_tool("properdocs", root, "build", "--strict")
    assert done.returncode == 0, done.stderr
    assert_every_image_built_and_indexed(root / "site", published, directory_urls=True)


def test_material_theme_strict_build(published: Path, tmp_path: Path) -> None:
    need("mkdocs")
    need("material")
    root = docs_project(tmp_path, published, "mkdocs.yml", "theme:\n  name: material\n")
    done = run_tool("mkdocs", root, "build", "--strict")
    assert done.returncode == 0, done.stderr
    assert_every_image_built_and_indexed(root / "site", published, directory_urls=True)
    assert "VM images" in (root / "site" / "index.html").read_text()


def test_a_bad_catalog_stops_the_build_naming_the_file(published: Path, tmp_path: Path) -> None:
    need("mkdocs")
    root = docs_project(tmp_path, published, "mkdocs.yml")
    (root / "vm-site" / "catalog.json").write_text('{"schema_version": 7}')
    done = run_tool("mkdocs", root, "build", "--strict")
    assert done.returncode != 0
    assert "catalog.json': has schema_version 7" in done.stderr


def test_a_page_of_the_docs_at_the_prefix_is_never_replaced(
    published: Path, tmp_path: Path
) -> None:
    need("mkdocs")
    root = docs_project(tmp_path, published, "mkdocs.yml")
    write_tree(root, {"docs/vm/index.md": "# Our own VM notes\n"})
    done = run_tool("mkdocs", root, "build", "--strict")
    assert done.returncode != 0
    assert "'vm/index.md' is already in docs_dir; choose another prefix" in done.stderr


def test_own_nav_listing_the_inventory_gets_no_second_entry(
    published: Path, tmp_path: Path
) -> None:
    need("mkdocs")
    extra = "nav:\n  - Home: index.md\n  - Virtual machines: vm/index.md\n"
    root = docs_project(tmp_path, published, "mkdocs.yml", extra)
    done = run_tool("mkdocs", root, "build", "--strict")
    assert done.returncode == 0, done.stderr
    home = (root / "site" / "index.html").read_text()
    assert "Virtual machines" in home and "VM images" not in home


def readme_block(heading: str, language: str) -> str:
    """The first fenced block of `language` under `heading` in the README."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"\n{heading}\n", 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no {language} block under {heading}"
    return match[1]


def test_the_readme_mkdocs_yml_builds_as_written(published: Path, tmp_path: Path) -> None:
    need("mkdocs")
    config = readme_block("## Use with MkDocs", "yaml")
    root = write_tree(tmp_path, {"mkdocs.yml": config, "docs/index.md": "# Computing\n"})
    catalog = re.search(r"catalog: (\S+)", config)[1]
    (root / catalog).parent.mkdir(parents=True)
    (root / catalog).write_bytes(published.read_bytes())
    done = run_tool("mkdocs", root, "build", "--strict")
    assert done.returncode == 0, done.stderr
    assert_every_image_built_and_indexed(root / "site", published, directory_urls=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def wait_for(url: str, text: str, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in fetch(url):
            return True
        time.sleep(0.5)
    return False


def test_mkdocs_serve_rebuilds_when_a_build_publishes_a_new_catalog(tmp_path: Path) -> None:
    """`build` swaps the output link; `serve` must notice and show the new image."""
    need("mkdocs")
    project = tmp_path / "project"
    catalog = publish_catalog(project)  # project/vm-site, a link to a copy of the site
    write_tree(project, {
        "docs/index.md": "# Computing\n",
        "mkdocs.yml": f"site_name: Computing\nplugins:\n  - search\n{PLUGIN}",
    })  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}/vm/"
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
            cwd=project,
            env={**os.environ, **QUIET},
            stdout=log,
            stderr=log,
        )
    try:
        assert wait_for(url, "sl5.3_x86_32"), "mkdocs serve did not come up"
        newcomer = "ubuntu22_x86_64_sl24a_30GB_fresh"
        write_tree(project / "repo", {f"xen/{newcomer}.img": b"new image"})
        publish_catalog(project, project / "repo")
        assert newcomer in catalog.read_text()
        served = wait_for(url, newcomer)
        assert served, (tmp_path / "serve.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
