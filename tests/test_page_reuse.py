"""Render only what changed: a one-image change renders and rewrites that image's page and the
shared pages whose content changed; every other file keeps its bytes and its mtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import generator.publish.deploy
import generator.publish.unchanged_run
import generator.site.page_memo
from generator.build import build as run_build
from generator.build import catalog_of, site_catalog
from generator.identity import program_identity
from generator.publish.copies import current_build
from generator.publish.page_reuse import page_memo
from generator.publish.published import published_catalog
from generator.resources import content_dir
from generator.session import BUILD, opened
from generator.site.content import load_content
from generator.site.page_memo import Reused, _template_digest, read_pages
from generator.site.render import render_site
from tests.conftest import Clock, config_for, image_entries, run_cli, write_tree

IMAGES = [f"{vm}/sl7.{n}_x86_64_sl20a_8GB_n{n:02d}" for n in range(6) for vm in ("xen", "kvm")]
SETTLED = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: far from the racy window


def repository(tmp_path: Path) -> Path:
    entries = {}
    for n, image in enumerate(IMAGES):
        entries.update(image_entries(f"{image}.img", f"bytes {n}\n", f"# Image {n}\n\nText.\n"))
    return write_tree(tmp_path / "repo", entries)


def build(repo: Path, tmp_path: Path) -> str:
    done = run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), env=SETTLED)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr


def snapshot(copy: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(copy).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in copy.rglob("*")
        if p.is_file()
    }


def changed_in_next_copy(repo: Path, tmp_path: Path, change) -> tuple[set[str], set[str]]:
    """Apply `change`, build, and compare the copy it published with what that copy held.

    Returns (files whose bytes changed, image pages among them); asserts every other file
    kept its bytes and mtime (it was neither rendered into nor written).
    """
    live = current_build(tmp_path / "site")
    next_copy = live.parent / ("b" if live.name == "a" else "a")
    before = snapshot(next_copy)
    change()
    build(repo, tmp_path)
    assert current_build(tmp_path / "site") == next_copy
    after = snapshot(next_copy)
    changed = {p for p in after if p not in before or after[p][0] != before[p][0]}
    for path in set(after) - changed:
        assert after[path][1] == before[path][1], f"{path} was rewritten with the same bytes"
    pages = {p for p in changed if p.startswith("images/")}
    return changed, pages


def image_files(*image_ids: str) -> set[str]:
    """What the site holds of each image: its page and its catalog record (image.json)."""
    return {f"images/{i}/{name}" for i in image_ids for name in ("index.html", "image.json")}


def test_an_edit_rewrites_its_page_and_the_shared_pages_whose_content_changed(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    first, second = IMAGES[0], IMAGES[5]
    (repo / f"{first}.txt").write_text("# Image 0\n\nFirst edit.\n")
    build(repo, tmp_path)  # the other copy, written whole for the first time
    changed, pages = changed_in_next_copy(
        repo, tmp_path, lambda: (repo / f"{second}.txt").write_text("# Image 5\n\nEdited.\n")
    )
    # This copy was one build behind: it also takes the first edit, and nothing else.
    assert pages == image_files(first, second)
    assert "Edited." in (tmp_path / "site" / "images" / second / "index.html").read_text()
    assert changed - pages <= {"catalog.json", "index.html", "embed.html", "feed.xml"}
    assert "catalog.json" in changed


def test_an_added_image_writes_its_page_and_the_shared_pages_it_appears_on(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    (repo / f"{IMAGES[0]}.txt").write_text("# Image 0\n\nFirst edit.\n")
    build(repo, tmp_path)
    # The OS and library of every other image (in no image's group of siblings): their pages
    # link the same filtered inventories and stay as they were.
    added = "vmware/sl7.1_x86_64_sl20a_8GB_added"
    changed, pages = changed_in_next_copy(
        repo,
        tmp_path,
        lambda: write_tree(repo, image_entries(f"{added}.img", b"new\n", "# Added\n")),
    )
    assert pages == image_files(IMAGES[0], added)
    # Its size warning (8 GB named, 4 bytes held) puts it on the problems page too; verified,
    # it is a line of each SUMS file.
    shared = {"catalog.json", "index.html", "feed.xml", "sitemap.xml", "problems/index.html"}
    shared |= {"MD5SUMS", "SHA256SUMS", "embed.html", "latest/vmware/sl7-x86-64/index.html"}
    assert changed - pages <= shared
    assert {"catalog.json", "index.html", "sitemap.xml", "problems/index.html"} <= changed


def test_unchanged_pages_are_not_rendered_again(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    (repo / f"{IMAGES[3]}.txt").write_text("# Image 3\n\nEdited.\n")
    clock.advance(1)
    with opened(config, clock, state=True, output=True) as session:  # as `build` publishes
        read = catalog_of(session, BUILD).catalog
        catalog = site_catalog(read, session, published_catalog(config.output))
    memo = page_memo(config.output)
    files = render_site(catalog, load_content(content_dir()), config.title, memo=memo)
    rendered = {
        p for p, data in files.items() if p.endswith(".html") and not isinstance(data, Reused)
    }
    assert f"images/{IMAGES[3]}/index.html" in rendered
    assert not {p for p in rendered if p.startswith("images/")} - {f"images/{IMAGES[3]}/index.html"}
    assert memo.reused >= len(IMAGES) - 1 and memo.rendered == len(rendered)
    assert isinstance(files["problems/index.html"], Reused)  # keyed by its problems and links
    # What a reused page stands for are exactly the bytes a full render gives.
    fresh = render_site(catalog, load_content(content_dir()), config.title)
    for path, data in files.items():
        assert (data.read() if isinstance(data, Reused) else data) == fresh[path], path


def test_a_page_is_rendered_again_when_another_image_changes_what_it_shows(
    tmp_path: Path,
) -> None:
    """Image pages are keyed by their inputs, not their views: those include the statuses of
    the image's siblings; an image of the same OS added beside it changes nothing on them."""
    repo = repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    (repo / f"{IMAGES[3]}.img").write_bytes(b"damaged\n")  # its xen sibling shows its status
    added = "vmware/sl7.2_x86_64_sl21b_8GB_more"  # one more sl7.2 image, in no sibling group
    write_tree(repo, image_entries(f"{added}.img", b"more\n", "# More\n"))
    clock.advance(1)
    with opened(config, clock, state=True, output=True) as session:
        read = catalog_of(session, BUILD).catalog
        catalog = site_catalog(read, session, published_catalog(config.output))
    files = render_site(
        catalog, load_content(content_dir()), config.title, memo=page_memo(config.output)
    )
    rendered = {
        p for p, data in files.items() if p.startswith("images/") and p.endswith("index.html")
        and not isinstance(data, Reused)
    }  # fmt: skip
    expected = {f"images/{i}/index.html" for i in (*IMAGES[2:4], added)}
    assert rendered == expected
    fresh = render_site(catalog, load_content(content_dir()), config.title)
    for path, data in files.items():
        assert (data.read() if isinstance(data, Reused) else data) == fresh[path], path


def test_a_kept_read_gives_the_page_keys_of_a_fresh_read(tmp_path: Path) -> None:
    """The first build reads every file; the next takes unchanged images from kept reads.

    Their pages must keep their keys, or every later build renders them again: here images
    whose format warning repeats their path (a string a fresh read shares between fields) and
    whose front matter nests lists and maps.
    """
    front = "---\nkernel: 3.10\nusers: [alice, bob]\nbuilt: {by: starvm, on: 2020-01-02}\n---\n"
    entries = {}
    for n, vm in enumerate(("xen", "virtualbox", "vmware", "kvm")):
        text = f"{front if n % 2 else ''}# Image {n}\n\nSee [the twiki](https://example.org/{n}).\n"
        entries.update(image_entries(f"{vm}/sl7.{n}_x86_64_sl20a_8GB_k{n}.img", f"{n}\n", text))
    repo = write_tree(tmp_path / "repo", entries)
    build(repo, tmp_path)  # fresh reads, into one copy
    builds = tmp_path / ".site.builds"
    first = read_pages(current_build(tmp_path / "site"))
    (repo / "xen/sl7.0_x86_64_sl20a_8GB_k0.txt").write_text("# Image 0\n\nEdited.\n")
    build(repo, tmp_path)  # kept reads but the edited one, into the other copy
    second = read_pages(current_build(tmp_path / "site"))
    assert {p.name for p in builds.iterdir() if p.name.endswith(".pages.json")} == {
        "a.pages.json",
        "b.pages.json",
    }
    pages = {p for p in first if p.startswith("images/") and p.endswith("/index.html")}
    assert len(pages) == 4
    differ = {p for p in pages if first[p] != second.get(p)}
    assert differ == {"images/xen/sl7.0_x86_64_sl20a_8GB_k0/index.html"}


@pytest.fixture
def versions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """`install(name)`: as once version `name` is installed: its program identity in the site's
    key, every page's key and the key of an unchanged build (templates alike, so the pages it
    renders are the same)."""

    def install(name: str) -> None:
        identity = f"{program_identity()} {name}"
        modules = (
            generator.site.page_memo,
            generator.publish.unchanged_run,
            generator.publish.deploy,
        )
        for module in modules:
            monkeypatch.setattr(module, "program_identity", lambda: identity)
        _template_digest.cache_clear()

    yield install
    monkeypatch.undo()
    _template_digest.cache_clear()


def rendered_image_pages(config, clock: Clock) -> set[str]:
    """The image pages a build now would render (the others are reused by key)."""
    with opened(config, clock, state=True, output=True) as session:  # as `build` publishes
        read = catalog_of(session, BUILD).catalog
        catalog = site_catalog(read, session, published_catalog(config.output))
    files = render_site(
        catalog, load_content(content_dir()), config.title, memo=page_memo(config.output)
    )
    return {
        p for p, data in files.items() if p.startswith("images/") and p.endswith("index.html")
        and not isinstance(data, Reused)
    }  # fmt: skip


def test_after_an_upgrade_that_changes_no_page_an_edit_renders_one_page(
    tmp_path: Path, versions: Callable[[str], None]
) -> None:
    """The first build of a new version renders every page (new keys) to compare it with the
    live copy; finding every page as it was, it publishes nothing but records the new keys
    for that copy, so the next build renders the edited page only, not every page again."""
    repo = repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    versions("1.0")
    run_build(config, clock)
    live = current_build(config.output)
    old_keys = read_pages(live)
    versions("1.1")
    result = run_build(config, clock)
    assert result.published is not None and not result.published.changed
    assert current_build(config.output) == live
    new_keys = read_pages(live)
    assert new_keys.keys() == old_keys.keys()
    assert not set(new_keys.values()) & set(old_keys.values())
    (repo / f"{IMAGES[3]}.txt").write_text("# Image 3\n\nEdited.\n")
    clock.advance(1)
    assert rendered_image_pages(config, clock) == {f"images/{IMAGES[3]}/index.html"}


def test_a_copy_whose_keys_another_program_made_is_not_read(
    tmp_path: Path, versions: Callable[[str], None]
) -> None:
    """Every page key holds the program's identity: after an upgrade neither copy's keys can be
    found again, so neither copy's page keys nor manifest are read for the memo (at 100,000
    images, 200,000 files' worth of each); the version that wrote them finds them."""
    repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    versions("1.0")
    run_build(config, clock)
    live = current_build(config.output)
    memo = page_memo(config.output)
    assert len(memo.known) >= len(IMAGES)
    assert read_pages(live, this_program=True) == read_pages(live)
    versions("1.1")
    assert page_memo(config.output).known == {}
    assert read_pages(live, this_program=True) == {} != read_pages(live)
    versions("1.0")
    assert page_memo(config.output).known == memo.known


def test_a_patched_program_of_the_same_version_publishes_its_site_at_once(
    tmp_path: Path, versions: Callable[[str], None]
) -> None:
    """A patched renderer or an upgraded Markdown library, with no new version number, may show
    a page otherwise: the next build renders the site with it and publishes, rather than
    keeping the last program's site until the repository changes (and then rendering every
    page at once); the edit after that renders its one page."""
    repo = repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    versions("1.0")
    run_build(config, clock)
    live = current_build(config.output)
    versions("1.0, patched")
    clock.advance(60)
    result = run_build(config, clock)
    assert result.published is not None and result.published.changed
    assert current_build(config.output) != live
    (repo / f"{IMAGES[3]}.txt").write_text("# Image 3\n\nEdited.\n")
    clock.advance(1)
    assert rendered_image_pages(config, clock) == {f"images/{IMAGES[3]}/index.html"}
