"""Every layer a build keeps between runs (reads, image records, site pieces, page keys, reports,
the published site's facts, the site key) only ever saves time: after each change of a sequence
of every kind, the site an incremental build published is, byte for byte, the site a build of
the same moment makes with all of them dropped.

The reference build runs on copies of the state and of the published copies, from which every
kept thing is deleted but what the site shows of the past (first seen, changes, removals, moves,
when each file was last read and what it gave): it gets that, the same clock, and nothing
else."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from generator.demo import make_demo
from tests.conftest import (
    catalog_image,
    codes_of,
    image_entries,
    md5sum,
    read_catalog,
    run_cli,
    write_tree,
)
from tests.golden import site_files

# Tables of the state that only save work; the others hold what the site shows of the past: the
# images' history, and the digests with the time each file was last read (its "verified" date).
KEPT_TABLES = ("stored_reads", "kept_images", "image_pieces", "image_records", "snapshots")
HISTORY_TABLES = {"images", "events", "moves", "versions", "files", "file_digests"}
OUTPUTS = ("site", "members")  # the public site and the members-only copy
DAY = 86_400
START = 4_102_444_800  # 2100-01-01: far from the racy window of files written now
# The images the changes touch: the demo's, and the one added.
EDITED = "xen/sl5.3_x86_32_sl05c_8GB_ec2"
ADDED = "kvm/sl7.3_x86_64_sl20a_8GB_batch"
MOVED, MOVED_TO = "xen/sl4_x86_32_sl08e_8GB_ec2", "xen/sl4_x86_32_sl08e_8GB_grid"
REMOVED = "kvm/sl6.4_x86_64_sl11d_20GB_batch"
CORRUPTED = "virtualBox/ubuntu9.10_x86_32_sl05c_10GB_ec2"
SECRET = "virtualBox/fedora12_x86_64_sl10k_16GB_desktop"
DUPLICATED, COPIED = "xen/sl4_x86_32_sl08e_8GB_grid", "xen/sl4_x86_32_sl08e_8GB_copy"
BROKEN = "kvm/sl6.2_x86_64_sl12a_12GB_batch"
VARIANT = "xen/SL5.3_x86_32_sl05c_8GB_ec2"  # EDITED in other case
GROWN = "vmware/centOS5_x86_64_sl10c_40GB_analysis"
RETIRED = "kvm/sl5.3_x86_64_sl09g_12GB_grid"


def build(repo: Path, place: Path, day: int) -> str:
    """A build with every output a site can have: the public site (with its address, the
    repository's download links and the exports) and the members-only copy."""
    config = repo.parent / "exports.yml"
    config.write_text("exports: [csv, simplestreams]\n")
    done = run_cli("build", "--config", str(config), "--repository", str(repo),
                   "--state", str(place / "state"),
                   "--output", str(place / "site"), "--private-output", str(place / "members"),
                   "--base-url", "https://www.star.bnl.gov/vm/", "--download-base-url",
                   "https://www.star.bnl.gov/vm-files/",
                   env={"SOURCE_DATE_EPOCH": str(START + day * DAY)})  # fmt: skip
    assert done.returncode in (0, 1), done.stderr  # the demo has problems on purpose: exit 1
    return done.stderr


def without_kept(place: Path, copy: Path) -> None:
    """Into `copy`: the state and both outputs of `place` (each output's two site copies and
    the link between them), with everything kept between builds deleted but the history."""
    shutil.copytree(place / "state", copy / "state")
    with sqlite3.connect(copy / "state" / "state.sqlite") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {*KEPT_TABLES, *HISTORY_TABLES}, "a new table: is it kept or history?"
        for table in KEPT_TABLES:
            db.execute(f"DELETE FROM {table}")
    for output in OUTPUTS:
        builds = f".{output}.builds"
        shutil.copytree(place / builds, copy / builds, symlinks=True)
        (copy / output).symlink_to((place / output).readlink())
        for kept in (copy / builds).iterdir():  # page keys and site keys: rendered anew
            if kept.name.endswith((".key", ".pages.json")):
                kept.unlink()


def edit_description(repo: Path) -> None:
    path = repo / f"{EDITED}.txt"
    path.write_text(path.read_text() + "\nEdited: a *newer* kernel.\n")


def add_image(repo: Path) -> None:
    entries = image_entries(f"{ADDED}.img", b"added\n", "# Batch\n\nA new *image*.\n")
    write_tree(repo, entries)


def move_image(repo: Path) -> None:
    """The same bytes and description under another name: a move (its old page says where)."""
    for suffix in (".img", ".txt"):
        (repo / f"{MOVED}{suffix}").rename(repo / f"{MOVED_TO}{suffix}")
    (repo / f"{MOVED}.checksum").unlink()
    name = Path(MOVED_TO).name
    (repo / f"{MOVED_TO}.checksum").write_text(md5sum(repo / "xen", f"{name}.img"))


def remove_image(repo: Path) -> None:
    for path in (repo / "kvm").glob(f"{Path(REMOVED).name}.*"):
        path.unlink()


def corrupt_image(repo: Path) -> None:
    """Other bytes of the same size under the same checksum: an integrity failure."""
    with (repo / f"{CORRUPTED}.img").open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"bit rot")


def add_secret(repo: Path) -> None:
    path = repo / f"{SECRET}.txt"
    path.write_text(path.read_text() + "\nLog in as root, password: hunter2-secret\n")


def drop_description(repo: Path) -> None:
    (repo / f"{ADDED}.txt").unlink()


def new_checksum(repo: Path) -> None:
    """The corrupted image accepted as it now is: a new checksum, written by md5sum."""
    folder, name = repo / "virtualBox", Path(CORRUPTED).name
    (folder / f"{name}.checksum").write_text(md5sum(folder, f"{name}.img"))


def copy_image(repo: Path) -> None:
    """Another name for the bytes of an image already there: both get a duplicate warning, the
    first though none of its files changed."""
    folder, name = repo / "xen", Path(COPIED).name
    (folder / f"{name}.img").write_bytes((repo / f"{DUPLICATED}.img").read_bytes())
    (folder / f"{name}.checksum").write_text(md5sum(folder, f"{name}.img"))


def restore_image(repo: Path) -> None:
    """The demo's broken link replaced by the image: nothing is unreadable any more, so a build
    that finds nothing new may be answered by the last one (`publish.unchanged_run`)."""
    path = repo / f"{BROKEN}.img"
    path.unlink()
    path.write_bytes(b"restored\n")
    (repo / f"{BROKEN}.checksum").write_text(md5sum(path.parent, path.name))


def plan_end_of_life(repo: Path) -> None:
    """An end of life on the day `time_passes` builds: deprecated until then."""
    day = next(n for n, (change, _) in enumerate(CHANGES, start=1) if change is time_passes)
    date = dt.datetime.fromtimestamp(START + day * DAY, dt.UTC).date()
    path = repo / f"{RETIRED}.txt"
    path.write_text(f"---\nend_of_life: {date.isoformat()}\n---\n{path.read_text()}")


def time_passes(repo: Path) -> None:
    """No file changes; the end-of-life date comes, and the catalog changes with it."""


def add_case_variant(repo: Path) -> None:
    """A name that differs from one already there only in case (a warning, and a permalink
    that must not collide with the other's)."""
    write_tree(repo, image_entries(f"{VARIANT}.img", b"variant\n", "Same name, other case.\n"))


def grow_directory_image(repo: Path) -> None:
    """A member more in a directory image, and its checksum written again by md5sum."""
    folder = repo / GROWN
    (folder / "disk-s003.vmdk").write_bytes(b"third extent\n" * 100)
    members = sorted(f"{folder.name}/{m.name}" for m in folder.iterdir())
    (repo / f"{GROWN}.checksum").write_text(md5sum(folder.parent, *members))


def break_front_matter(repo: Path) -> None:
    path = repo / f"{MOVED_TO}.txt"
    path.write_text(f"---\nkernel: [2.6\n---\n{path.read_text()}")


def drop_checksum(repo: Path) -> None:
    (repo / f"{ADDED}.checksum").unlink()


# Each change, and what the published catalog shows of it (so no step passes by doing nothing).
CHANGES: list[tuple[Callable[[Path], None], Callable[[dict], bool]]] = [
    (edit_description, lambda c: "newer" in catalog_image(c, EDITED)["description"]),
    (add_image, lambda c: catalog_image(c, ADDED)["status"] == "verified"),
    (move_image, lambda c: {"id": MOVED, "moved_to": MOVED_TO}.items() <= c["removed"][-1].items()),
    (remove_image, lambda c: REMOVED in {t["id"] for t in c["removed"]}),
    (corrupt_image, lambda c: catalog_image(c, CORRUPTED)["status"] == "mismatch"),
    (add_secret, lambda c: "root" in catalog_image(c, SECRET)["description"]),
    (drop_description, lambda c: catalog_image(c, ADDED)["description"] == ""),
    (new_checksum, lambda c: catalog_image(c, CORRUPTED)["status"] == "verified"),
    (copy_image, lambda c: "duplicate_content" in codes_of(c, f"{DUPLICATED}.img")),
    (add_case_variant, lambda c: "case_variant" in codes_of(c, f"{VARIANT}.img")),
    (grow_directory_image, lambda c: [len(catalog_image(c, GROWN)["members"]), catalog_image(c, GROWN)["status"]] == [4, "verified"]),
    (break_front_matter, lambda c: "invalid_front_matter" in codes_of(c, f"{MOVED_TO}.txt")),
    (drop_checksum, lambda c: catalog_image(c, ADDED)["status"] == "missing_checksum"),
    (restore_image, lambda c: catalog_image(c, BROKEN)["status"] == "verified"),
    (plan_end_of_life, lambda c: catalog_image(c, RETIRED)["lifecycle"] == "deprecated"),
    (time_passes, lambda c: catalog_image(c, RETIRED)["lifecycle"] == "end_of_life"),
]  # fmt: skip


def test_each_incremental_build_publishes_what_a_build_without_kept_data_does(
    tmp_path: Path,
) -> None:
    repo, place = tmp_path / "repo", tmp_path / "builds"
    make_demo(repo)
    build(repo, place, day=0)
    for day, (change, shown) in enumerate(CHANGES, start=1):
        change(repo)
        build(repo, place, day)
        assert shown(read_catalog(place / "site")), f"{change.__name__} did not show"
        reference = tmp_path / f"reference-{day}"
        without_kept(place, reference)
        build(repo, reference, day)
        for output in OUTPUTS:
            published = site_files((place / output).resolve())
            expected = site_files((reference / output).resolve())
            assert published.keys() == expected.keys(), f"{output}, after {change.__name__}"
            differ = sorted(p for p in published if published[p] != expected[p])
            assert not differ, f"{output}, after {change.__name__}: {differ[:5]}"
    public = site_files((place / "site").resolve())
    assert not [p for p, data in public.items() if b"hunter2" in data]  # redacted everywhere
    members = (place / "members").resolve() / "images" / SECRET / "index.html"
    assert "hunter2" in members.read_text()  # as written, for members only
