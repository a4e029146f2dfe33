"""A build's memory stays bounded: image pages are made when they are written, one at a time,
catalog.json part by part, and the site they make is the one a render held whole in memory
would give, byte for byte."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from generator.build import build
from generator.catalog.model import Catalog
from generator.publish.copies import publish
from generator.publish.deploy import SiteTarget, deploy
from generator.publish.manifest import manifest_path
from generator.resources import content_dir
from generator.site.content import load_content
from generator.site.deferred import Deferred
from generator.site.render import render_site, write_files
from tests.conftest import FIXED_TIME, ROOT, config_for, image_entries, write_tree

COUNT = 700  # images: more than the index shows whole (500), as the slices measured below
SOME = 60  # images enough to compare whole sites


def star_like(tmp_path: Path, count: int = COUNT) -> Path:
    """Images as STAR keeps them: each with a checksum and a few lines of Markdown."""
    entries = {}
    for n in range(count):
        text = f"# Worker image {n}\n\nBuilt for **grid** jobs.\n\n- root 5.34.{n % 40}\n"
        path = f"{('xen', 'kvm', 'vmware')[n % 3]}/sl7.{n % 10}_x86_64_sl20a_8GB_n{n:04d}.img"
        entries.update(image_entries(path, f"image {n}\n", text))
    return write_tree(tmp_path / "repo", entries)


def catalog_of(tmp_path: Path, count: int = COUNT) -> Catalog:
    config = config_for(tmp_path, jobs=1)
    catalog = build(config, clock=lambda: FIXED_TIME, publish=False).catalog
    assert catalog is not None and len(catalog.images) == count
    return catalog


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def image_page_bytes(site: Path) -> int:
    """What the image pages and `image.json` files of a published site weigh together."""
    return sum(
        len(data)
        for path, data in files_of(site).items()
        if path.startswith("images/") and path.endswith(("/index.html", "/image.json"))
    )


FEW = 520  # the smaller catalog measured: above 500 images too, so the index is a preview


@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """This process held to one core, as `taskset -c 0` holds a build: pages are rendered here,
    a chunk at a time. Shared with a forked worker, when this process renders its first chunk
    (compiling the template, 2 MB for a moment) or the listing pages, and how many chunks
    wait to be taken meanwhile, changed from run to run, and so did the peak (what waits is
    bounded by the pool's window: `test_parallel_pages`)."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def deploy_peak(catalog: Catalog, output: Path, whole: bool = False) -> int:
    """The most memory a real `deploy` of `catalog` held at once on top of what it was given;
    `whole`: rendering every file first and publishing them after, the way it was done before.

    Garbage is collected first: cycles left by earlier work, and collections falling at other
    moments of the deploy, moved its peak by a quarter of a megabyte between identical runs.
    """
    gc.collect()
    tracemalloc.start()
    try:
        if whole:
            publish(render_site(catalog, load_content(content_dir()), "STAR VM images"), output)
        else:
            deploy(catalog, SiteTarget(output, "STAR VM images"), None)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_publishing_holds_not_the_image_pages_all_at_once(tmp_path: Path) -> None:
    """Each image adds to what `deploy` holds at its peak (rendering, catalog.json, writing)
    much less than when the whole site is rendered before it is written: by most of what its
    page and `image.json` weigh. Measured with tracemalloc over real deploys of 520 and of 700
    images (the difference drops what any deploy costs, such as compiled templates), each way."""
    star_like(tmp_path)
    catalog = catalog_of(tmp_path)
    few = replace(catalog, images=catalog.images[:FEW])
    held = {}
    with one_core():
        deploy_peak(catalog, tmp_path / "warm-up")  # modules imported, caches hold every image
        for whole in (False, True):
            sizes = enumerate((few, catalog))
            peaks = [deploy_peak(c, tmp_path / f"{whole}-{n}", whole) for n, c in sizes]
            held[whole] = (peaks[1] - peaks[0]) / (COUNT - FEW)
    pages = [image_page_bytes(tmp_path / f"False-{n}") for n in range(2)]
    per_image = (pages[1] - pages[0]) / (COUNT - FEW)
    assert per_image > 4000  # real pages, a few KB each
    # Not all of it: each page's deferred maker, key and manifest line stay until written.
    assert held[True] - held[False] > per_image * 0.5, (
        f"{held[False]:,.0f} B held per image, {held[True]:,.0f} B rendering the site whole; "
        f"its files weigh {per_image:,.0f} B"
    )


def test_deferred_pages_publish_the_bytes_of_a_render_held_in_memory(tmp_path: Path) -> None:
    """The site a build publishes equals, file for file, the one `render_site` gives whole and
    `write_files` writes; so does the members-only copy (descriptions as written)."""
    star_like(tmp_path, SOME)
    catalog = catalog_of(tmp_path, SOME)
    target = SiteTarget(tmp_path / "site", "STAR VM images", base_url="https://example.org/vm/")
    published, _ = deploy(catalog, target, None)
    whole = render_site(published, load_content(content_dir()), target.title, target.base_url)
    assert not any(isinstance(data, Deferred) for data in whole.values())
    write_files(whole, tmp_path / "whole")
    assert files_of(tmp_path / "site") == files_of(tmp_path / "whole")


def test_an_edit_publishes_reused_and_deferred_pages_as_a_whole_render(tmp_path: Path) -> None:
    """After one description is edited, the next publish mixes reused pages (by key) and one
    deferred page; the copy it leaves equals a whole render of the same catalog."""
    repo = star_like(tmp_path, SOME)
    target = SiteTarget(tmp_path / "site", "STAR VM images")
    deploy(catalog_of(tmp_path, SOME), target, None)
    (repo / "kvm/sl7.1_x86_64_sl20a_8GB_n0001.txt").write_text("# Edited\n\nNew text.\n")
    catalog = catalog_of(tmp_path, SOME)
    deploy(catalog, target, None)
    whole = render_site(catalog, load_content(content_dir()), target.title)
    write_files(whole, tmp_path / "whole")
    published = files_of(tmp_path / "site")
    assert b"New text." in published["images/kvm/sl7.1_x86_64_sl20a_8GB_n0001/index.html"]
    assert published == files_of(tmp_path / "whole")


def counted(data: bytes, reads: list[bytes]) -> Deferred:
    """A deferred file that notes each time its bytes are made."""

    def make() -> bytes:
        reads.append(data)
        return data

    return Deferred(make)


def test_a_deferred_file_is_made_once_and_recorded_with_its_digest(tmp_path: Path) -> None:
    reads: list[bytes] = []
    site = {"index.html": b"<p>a</p>", "images/xen/x/index.html": counted(b"x page", reads)}
    result = publish(site, tmp_path / "site")
    assert result.changed and result.written == 2 and reads == [b"x page"]
    assert (tmp_path / "site/images/xen/x/index.html").read_bytes() == b"x page"
    manifest = json.loads(manifest_path(result.build).read_bytes())
    assert manifest["images/xen/x/index.html"] == hashlib.sha256(b"x page").hexdigest()


def test_deferred_files_equal_to_the_live_copy_publish_nothing(tmp_path: Path) -> None:
    output = tmp_path / "site"
    publish({"index.html": b"a", "images/xen/x/index.html": b"x page"}, output)
    before = output.resolve()
    reads: list[bytes] = []
    same = {"index.html": b"a", "images/xen/x/index.html": counted(b"x page", reads)}
    assert not publish(same, output).changed
    assert output.resolve() == before and reads == [b"x page"]  # made to compare, not written
    other = {"index.html": b"a", "images/xen/x/index.html": counted(b"y page", reads)}
    changed = publish(other, output)
    assert changed.changed and changed.build != before
    assert (output / "images/xen/x/index.html").read_bytes() == b"y page"


def test_a_changed_plain_file_skips_making_deferred_ones_twice(tmp_path: Path) -> None:
    """When another file already differs from the live copy, deferred files are not made to be
    compared: each is made once, when written."""
    output = tmp_path / "site"
    publish({"index.html": b"a", "images/xen/x/index.html": b"x page"}, output)
    reads: list[bytes] = []
    publish({"index.html": b"b", "images/xen/x/index.html": counted(b"x page", reads)}, output)
    assert reads == [b"x page"]
    assert (output / "images/xen/x/index.html").read_bytes() == b"x page"


LONG = 460  # images with long descriptions: catalog.json of about 5 MB, one index of every row


def described(tmp_path: Path, count: int = LONG) -> Path:
    """Images whose descriptions (kept in catalog.json as written) are 9 KB each: catalog.json
    is several MB, while no other file of the site held in memory (the index, the problems
    page, SUMS files) comes near a quarter of it."""
    entries = {}
    for n in range(count):
        text = f"# Worker image {n}\n\n" + "Built for grid jobs on the farm. " * 280
        path = f"xen/sl7.{n % 10}_x86_64_sl20a_8GB_n{n:04d}.img"
        entries.update(image_entries(path, f"image {n}\n", text))
    return write_tree(tmp_path / "repo", entries)


_WATCHES: list[Callable[[tuple], None]] = []  # the watch now listening, if any


def _audited(event: str, args: tuple) -> None:
    if event == "open" and _WATCHES:
        _WATCHES[-1](args)


class WriteWatch:
    """What a build holds when it opens one file of the site to write it, and what making,
    digesting and writing that file add, seen through the `open` audit event that `os.open`
    raises (`sys.addaudithook`): the build's own code runs as it is, nothing is replaced.

    `opens`: for each file opened to be written, whether it is the watched one, the traced
    memory then, and the highest traced memory since the file opened before it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.opens: list[tuple[bool, int, int]] = []
        self.largest = 0  # bytes of the largest block alive when the file was opened

    def __call__(self, args: tuple) -> None:
        path, _mode, flags = args
        if not isinstance(path, str) or not flags & (os.O_WRONLY | os.O_RDWR):
            return
        watched = path.endswith(f"/{self.name}")
        self.opens.append((watched, *tracemalloc.get_traced_memory()))
        if watched and not self.largest:
            self.largest = max(trace.size for trace in tracemalloc.take_snapshot().traces)
        tracemalloc.reset_peak()

    def added(self) -> int:
        """How far traced memory rose, from the opening of the file written before the watched
        one to that of the file written after it, above what was held at the first: the
        watched file made, digested and written (whichever of those the build does there)."""
        first = next(n for n, (watched, _, _) in enumerate(self.opens) if watched)
        after = next(n for n in range(first, len(self.opens)) if not self.opens[n][0])
        return max(peak for _, _, peak in self.opens[first : after + 1]) - self.opens[first - 1][1]


@contextlib.contextmanager
def watching(name: str) -> Iterator[WriteWatch]:
    """A `WriteWatch` of the file `name` while traced; the audit hook, which cannot be removed,
    is added once and does nothing outside this block."""
    if not hasattr(sys, "_star_write_watch"):
        sys.addaudithook(_audited)
        sys._star_write_watch = True  # type: ignore[attr-defined]
    watch = WriteWatch(name)
    gc.collect()
    tracemalloc.start()
    _WATCHES.append(watch)
    try:
        yield watch
    finally:
        _WATCHES.remove(watch)
        tracemalloc.stop()


def catalog_json_write(tmp: str) -> tuple[int, int]:
    """The build of `described(tmp)` watched writing catalog.json: (largest, added), see
    `WriteWatch`. Run in an interpreter of its own (`python -c`): what a process holds, and
    when its tables grow (the interned strings', 1.9 MB after the publishing tests), depends on
    everything it ran before."""
    with one_core(), watching("catalog.json") as watch:
        build(config_for(Path(tmp), jobs=1), clock=lambda: FIXED_TIME)
    return watch.largest, watch.added()


def test_a_build_never_holds_catalog_json_whole(tmp_path: Path) -> None:
    """A real build of a catalog whose catalog.json is several MB: when it opens catalog.json to
    write it, no block as large as a quarter of the file is alive (the file was one bytes
    object, held from rendering to this moment), and making, digesting and writing it raise
    what the build holds by less than a quarter of its size (it was made by joining every line
    into one text, then encoding it: twice its size at once)."""
    described(tmp_path)
    measure = "import sys; from tests.test_bounded_memory import catalog_json_write as w; "
    measure += "print(*w(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", measure, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    largest, added = map(int, done.stdout.split()[-2:])
    written = tmp_path / "site/catalog.json"
    size = written.stat().st_size
    assert size > 4_000_000 and len(json.loads(written.read_bytes())["images"]) == LONG
    assert largest < size / 4, f"a block of {largest:,} B held; the file: {size:,} B"
    assert added < size / 4, f"{added:,} B more to write a file of {size:,} B"


MANY = 2_000  # images: SHA256SUMS of 210 KB, sitemap.xml of 130 KB, made in parts of PART
PART = 8_000  # characters: some 80 lines of SHA256SUMS, 120 of sitemap.xml


def shared_file_write(tmp: str, name: str) -> tuple[int, int]:
    """The build of `star_like(tmp, MANY)` watched writing `name`: (its `added`, its size).
    In an interpreter of its own, as `catalog_json_write`; parts of `PART` characters, so that
    the file is made of many."""
    import generator.site.deferred as deferred

    deferred.PART_SIZE = PART
    with one_core(), watching(name) as watch:
        build(config_for(Path(tmp), jobs=1), clock=lambda: FIXED_TIME)
    return watch.added(), (Path(tmp) / "site" / name).stat().st_size


@pytest.mark.parametrize(("name", "bound"), [("SHA256SUMS", 2.0), ("sitemap.xml", 0.5)])
def test_a_build_makes_its_sums_and_sitemap_in_parts(
    tmp_path: Path, name: str, bound: float
) -> None:
    """Making, digesting and writing a SUMS file raise what the build holds by less than twice
    its size (its lines, sorted, are held: they were 3.3 times its size with their text and
    bytes made whole), sitemap.xml by less than half (its lines were made all at once: 5 times
    its size)."""
    star_like(tmp_path, MANY)
    measure = "import sys; from tests.test_bounded_memory import shared_file_write as w; "
    measure += "print(*w(sys.argv[1], sys.argv[2]))"
    done = subprocess.run([sys.executable, "-c", measure, str(tmp_path), name], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    added, size = map(int, done.stdout.split()[-2:])
    assert size > 100_000
    assert added < bound * size, f"{added:,} B more to write a file of {size:,} B"
