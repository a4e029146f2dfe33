"""The walk: images, sidecars and everything odd in the layout, reported and never fatal."""

from __future__ import annotations

import os
from pathlib import Path

from generator.read.scan import scan
from tests.conftest import Folder, Link, as_unprivileged, open_to_everyone, write_tree

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"


def codes(result) -> dict[str, str]:
    return {p.path: p.code for p in result.problems}


def test_images_are_grouped_with_their_sidecars(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        f"xen/{IMG}.img": b"x" * 10, f"xen/{IMG}.checksum": "", f"xen/{IMG}.txt": "hi",
        "vmware/centOS5_x86_64_sl10c_40GB_a/d1.vmdk": b"1", "vmware/centOS5_x86_64_sl10c_40GB_a/d2.vmdk": b"22",
        "vmware/centOS5_x86_64_sl10c_40GB_a.checksum": "",
    })  # fmt: skip
    result = scan(tmp_path)
    assert result.problems == []
    assert result.vms == ["vmware", "xen"]
    by_id = {image.id: image for image in result.images}
    single = by_id[f"xen/{IMG}"]
    assert (single.checksum.relpath, single.description.relpath) == (
        f"xen/{IMG}.checksum",
        f"xen/{IMG}.txt",
    )
    assert [m.size for m in single.members] == [10]
    multi = by_id["vmware/centOS5_x86_64_sl10c_40GB_a"]
    assert multi.is_dir and [m.relpath.rsplit("/", 1)[1] for m in multi.members] == [
        "d1.vmdk",
        "d2.vmdk",
    ]
    assert multi.description is None


def test_layout_problems_are_reported_not_dropped(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "stray.img": b"x", f"kvm/{IMG}.txt": "orphan", f"kvm/{IMG}_b.checksum": "",
        f"kvm/{IMG}_c/nested/deep.img": b"x", f"kvm/{IMG}_c/top.img": b"x",
        f"kvm/{IMG}_d.img": b"1", f"kvm/{IMG}_d.qcow2": b"2", f"kvm/{IMG}_e": Folder(),
    })  # fmt: skip
    found = codes(scan(tmp_path))
    assert found == {
        "stray.img": "file_at_root",
        f"kvm/{IMG}.txt": "orphan_description",
        f"kvm/{IMG}_b.checksum": "orphan_checksum",
        f"kvm/{IMG}_c/nested": "nested_directory",
        f"kvm/{IMG}_d.qcow2": "duplicate_stem",
        f"kvm/{IMG}_e": "empty_image_directory",
    }


def test_symlinks_stay_inside_and_never_loop(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.img": b"s"})
    root = tmp_path / "repo"
    write_tree(root, {
        f"xen/{IMG}.img": b"x",
        f"xen/{IMG}_out.img": Link(str(outside / "secret.img")),
        f"xen/{IMG}_loop": Link(str(root / "xen")),
        f"xen/{IMG}_self.img": Link(f"{IMG}_self.img"),
        f"xen/{IMG}_gone.img": Link("missing.img"),
        f"xen/{IMG}_alias.img": Link(f"{IMG}.img"),
        "escape": Link(str(outside)),
        f"xen/{IMG}_gone.txt": Link("missing.txt"),
        "dangling": Link("nowhere"),
    })  # fmt: skip
    result = scan(root)
    assert (
        codes(result)
        == {
            f"xen/{IMG}_out.img": "symlink_outside",
            f"xen/{IMG}_loop": "symlink_loop",
            f"xen/{IMG}_self.img": "symlink_loop",
            "escape": "symlink_outside",
            f"xen/{IMG}_gone.txt": "broken_symlink",
            "dangling": "broken_symlink",
        }
    )  # the broken image link is reported by verification, as unreadable link is an image: verification reports it as unreadable
    ids = sorted(image.id for image in result.images)
    assert ids == [f"xen/{IMG}", f"xen/{IMG}_alias", f"xen/{IMG}_gone"]
    gone = next(i for i in result.images if i.id == f"xen/{IMG}_gone")
    assert gone.unreadable and gone.members == ()


def test_non_utf8_names_are_reported_with_escapes(tmp_path: Path) -> None:
    (tmp_path / "xen").mkdir()
    bad = os.fsencode(tmp_path / "xen") + b"/sl5_x86_32_sl05c_8GB_\xff.img"
    with open(bad, "wb") as handle:
        handle.write(b"x")
    result = scan(tmp_path)
    assert [(p.path, p.code, p.severity) for p in result.problems] == [
        ("xen/sl5_x86_32_sl05c_8GB_\\xff.img", "invalid_utf8_name", "error")
    ]
    assert result.images == []


def test_ignore_patterns_skip_hidden_entries(tmp_path: Path) -> None:
    write_tree(tmp_path, {".snapshot/x": "", f"xen/.{IMG}.img.swp": "", f"xen/{IMG}.img": ""})
    result = scan(tmp_path, ignore=(".*",))
    assert result.problems == [] and [i.id for i in result.images] == [f"xen/{IMG}"]


def test_scan_reads_no_file_contents(tmp_path: Path) -> None:
    """As an unprivileged user, over images nobody may read: stat alone must suffice."""
    root = write_tree(
        tmp_path / "repo", {f"xen/{IMG}.img": b"x" * 4096, f"xen/{IMG}.checksum": "c"}
    )
    open_to_everyone(root)
    for path in (root / "xen").iterdir():
        path.chmod(0)

    def walk() -> list[object]:
        result = scan(root)
        return [len(result.images), len(result.problems), result.images[0].members[0].size]

    assert as_unprivileged(walk) == [1, 0, 4096]


def test_directory_sidecars_beside_or_inside_the_directory(tmp_path: Path) -> None:
    d = "centOS5_x86_64_sl10c_40GB_a"
    write_tree(tmp_path, {
        f"vmware/{d}/d1.vmdk": b"1", f"vmware/{d}/README.txt": "notes",
        f"vmware/{d}/{d}.checksum": "", f"vmware/{d}/{d}.txt": "inside",
        f"vmware/{d}.txt": "beside",
    })  # fmt: skip
    result = scan(tmp_path)
    (image,) = result.images
    assert [m.relpath for m in image.members] == [f"vmware/{d}/README.txt", f"vmware/{d}/d1.vmdk"]
    assert image.checksum.relpath == f"vmware/{d}/{d}.checksum"  # only inside: used
    assert image.description.relpath == f"vmware/{d}.txt"  # both: the one beside wins
    assert codes(result) == {f"vmware/{d}/{d}.txt": "duplicate_sidecar"}
