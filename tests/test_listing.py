"""The scan takes the directories the signing walk listed: same result, the tree as signed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from generator.read.scan import scan
from generator.verify.report import signed_tree
from tests.conftest import (
    Clock,
    Fifo,
    Folder,
    Link,
    as_unprivileged,
    directory_image,
    image_entries,
    open_to_everyone,
    write_tree,
)

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"
IGNORE = (".*",)


def odd_tree(root: Path, outside: Path) -> Path:
    """Every kind of entry the scan reports, but a symlinked directory (no signature then)."""
    write_tree(outside, {"secret.img": b"s"})
    write_tree(root, {
        **image_entries(f"xen/{IMG}.img", description="hi"),
        **directory_image(f"vmware/{IMG}_dir", {"d1.vmdk": b"1", f"{IMG}_dir.txt": "inside"}),
        f"vmware/{IMG}_dir.txt": "beside", "stray.img": b"x", f"kvm/{IMG}.txt": "orphan",
        f"kvm/{IMG}_c/nested/deep.img": b"x", f"kvm/{IMG}_c/top.img": b"x",
        f"kvm/{IMG}_d.img": b"1", f"kvm/{IMG}_d.qcow2": b"2", f"kvm/{IMG}_e": Folder(),
        f"kvm/{IMG}_fifo.img": Fifo(), f"xen/.{IMG}.img.swp": "", ".snapshot/x": "",
        f"xen/{IMG}_out.img": Link(str(outside / "secret.img")),
        f"xen/{IMG}_self.img": Link(f"{IMG}_self.img"), f"xen/{IMG}_gone.img": Link("missing"),
        f"xen/{IMG}_alias.img": Link(f"{IMG}.img"), f"xen/{IMG}_gone.txt": Link("missing.txt"),
    })  # fmt: skip
    (root / f"kvm/{IMG}_d.img").chmod(0o666)  # world-writable: a trust problem
    return root


def test_scan_of_the_signed_listing_equals_a_fresh_scan(tmp_path: Path) -> None:
    root = odd_tree(tmp_path / "repo", tmp_path / "outside")
    signature, listing = signed_tree(root, IGNORE, Clock())
    assert signature is not None and listing is not None
    fresh = scan(root, IGNORE)
    assert {p.code for p in fresh.problems} >= {"symlink_outside", "world_writable"}
    assert scan(root, IGNORE, listing=listing) == fresh
    assert listing.directories == {}  # each directory taken once, then let go


def test_the_scan_sees_the_tree_as_signed_and_the_next_signature_sees_the_change(
    tmp_path: Path,
) -> None:
    """Why reuse is sound: what the scan reports is what the signature vouches for, and a
    change after the walk changes the next signature, so it is never remembered as unchanged."""
    root = write_tree(tmp_path / "repo", image_entries(f"xen/{IMG}.img", description="one"))
    signature, listing = signed_tree(root, IGNORE, Clock())
    with open(root / f"xen/{IMG}.txt", "a") as description:
        description.write("edited after the walk\n")
    write_tree(root, image_entries(f"xen/{IMG}_new.img"))
    (image,) = scan(root, IGNORE, listing=listing).images
    assert image.description is not None and image.description.size == len("one")
    assert len(scan(root, IGNORE).images) == 2
    again, _ = signed_tree(root, IGNORE, Clock())
    assert signature is not None and again is not None and again.digest != signature.digest


def test_a_listing_of_another_root_is_not_used(tmp_path: Path) -> None:
    first = write_tree(tmp_path / "first", image_entries(f"xen/{IMG}.img"))
    second = tmp_path / "second"
    shutil.copytree(first, second)
    write_tree(second, image_entries(f"kvm/{IMG}_b.img"))
    _, listing = signed_tree(first, IGNORE, Clock())
    assert scan(second, IGNORE, listing=listing) == scan(second, IGNORE)


def test_a_directory_the_walk_could_not_list_is_listed_and_reported_by_the_scan(
    tmp_path: Path,
) -> None:
    root = write_tree(tmp_path / "repo", image_entries(f"xen/{IMG}.img"))
    write_tree(root, image_entries(f"kvm/{IMG}.img"))
    open_to_everyone(root)
    for path in root.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    (root / "kvm").chmod(0)

    def both() -> tuple[object, object]:
        _, listing = signed_tree(root, IGNORE, Clock())
        assert listing is not None and "kvm" not in listing.directories
        kept, fresh = scan(root, IGNORE, listing=listing), scan(root, IGNORE)
        return [[p.path, p.code] for p in kept.problems], kept == fresh

    problems, same = as_unprivileged(both)
    assert problems == [["kvm", "unreadable_directory"]] and same


def test_a_walk_keeps_no_more_than_its_bound_and_the_scan_lists_the_rest(tmp_path: Path) -> None:
    """Past `keep` entries the walk keeps none: a build that finds nothing new must not hold
    the whole tree's entries (460 MiB at 100,000 images); the scan then lists it itself."""
    files = {}
    for n in range(4):
        files |= image_entries(f"xen/{IMG}_{n}.img", description=f"image {n}")
    root = write_tree(tmp_path / "repo", files)
    _, kept = signed_tree(root, IGNORE, Clock())
    assert kept is not None and set(kept.directories) == {"", "xen"}
    signature, listing = signed_tree(root, IGNORE, Clock(), keep=5)
    assert signature is not None and listing is not None and listing.directories == {}
    assert scan(root, IGNORE, listing=listing) == scan(root, IGNORE)
