"""Every status an image can have, from real files and real md5sum output."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from generator import build as run
from generator.catalog.model import Catalog
from generator.config import Config
from generator.read.scan import FileStat
from generator.verify.hashing import hash_file
from tests.conftest import (
    as_unprivileged,
    image_entries,
    image_files,
    md5sum,
    open_to_everyone,
    sums,
    write_tree,
)

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"


def verify(root: Path, tmp_path: Path, **options: object) -> Catalog:
    config = Config(repository=root, state=tmp_path / "state", jobs=2, **options)  # type: ignore[arg-type]
    return run.verify(config).catalog


def statuses(catalog: Catalog) -> dict[str, str]:
    return {image.id: image.status for image in catalog.images}


def test_statuses_of_single_file_images(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {
        **image_files({f"xen/{IMG}_ok.img": b"good" * 1000, f"xen/{IMG}_bad.img": b"bad" * 1000}),
        f"xen/{IMG}_none.img": b"n", f"xen/{IMG}_junk.img": b"j", f"xen/{IMG}_junk.checksum": "later\n",
    })  # fmt: skip
    with (root / f"xen/{IMG}_bad.img").open("r+b") as handle:  # one flipped byte after md5sum ran
        handle.write(b"B")
    catalog = verify(root, tmp_path)
    assert statuses(catalog) == {
        f"xen/{IMG}_ok": "verified", f"xen/{IMG}_bad": "mismatch",
        f"xen/{IMG}_none": "missing_checksum", f"xen/{IMG}_junk": "invalid_checksum",
    }  # fmt: skip
    ok = catalog.get(f"xen/{IMG}_ok")
    assert ok.md5 == ok.expected_md5 == md5sum(root / "xen", f"{IMG}_ok.img").split()[0]
    assert ok.verified_at and ok.verified_at.endswith("Z")
    codes = {(p.path, p.code) for p in catalog.problems}
    assert (f"xen/{IMG}_bad.img", "checksum_mismatch") in codes
    assert (f"xen/{IMG}_junk.checksum", "invalid_checksum") in codes
    assert (f"xen/{IMG}_none.checksum", "missing_checksum") in codes
    assert not catalog.ok


def test_every_checksum_form_verifies(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for index, flags in enumerate([(), ("--binary",), ("--tag",)]):
        name = f"{IMG}_{index}.img"
        write_tree(
            root,
            {
                f"kvm/{name}": f"image {index}" * 999,
                f"kvm/{IMG}_{index}.checksum": sums(name, flags=flags),
            },
        )
    upper = root / f"kvm/{IMG}_9.img"
    upper.write_bytes(b"upper")
    digest = md5sum(root / "kvm", upper.name).split()[0].upper()
    (root / f"kvm/{IMG}_9.checksum").write_bytes(f"{digest}  {upper.name}\r\n".encode())
    catalog = verify(root, tmp_path)
    assert set(statuses(catalog).values()) == {"verified"}
    assert catalog.ok


def test_multi_file_image_members(tmp_path: Path) -> None:
    name = "centOS5_x86_64_sl10c_40GB_analysis"
    root = write_tree(
        tmp_path / "repo",
        {
            f"vmware/{name}/a.vmdk": b"a" * 5000,
            f"vmware/{name}/b.vmdk": b"b" * 7000,
            f"vmware/{name}.checksum": sums(f"{name}/a.vmdk", f"{name}/b.vmdk"),
        },
    )
    catalog = verify(root, tmp_path)
    image = catalog.get(f"vmware/{name}")
    assert image.status == "verified" and image.multi_file and image.size_bytes == 12000
    assert [(m.name, m.status) for m in image.members] == [
        ("a.vmdk", "verified"),
        ("b.vmdk", "verified"),
    ]
    (root / f"vmware/{name}/c.vmdk").write_bytes(b"c")
    (root / f"vmware/{name}/b.vmdk").unlink()
    catalog = verify(root, tmp_path)
    image = catalog.get(f"vmware/{name}")
    assert image.status == "mismatch"  # a listed file is gone: md5sum -c fails too
    codes = {(p.path, p.code) for p in catalog.problems}
    assert (f"vmware/{name}/b.vmdk", "member_missing") in codes
    assert (f"vmware/{name}/c.vmdk", "member_not_in_checksum") in codes
    assert not catalog.ok


def test_checksum_naming_another_file_is_a_warning(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {f"xen/{IMG}.img": b"data"})
    elsewhere = write_tree(tmp_path / "elsewhere", {"copy.img": b"data"})
    (root / f"xen/{IMG}.checksum").write_text(md5sum(elsewhere, "copy.img"))
    catalog = verify(root, tmp_path)
    assert statuses(catalog) == {f"xen/{IMG}": "verified"}
    assert ("checksum_name_mismatch", "warning") in {(p.code, p.severity) for p in catalog.problems}


def test_no_verify_hashes_nothing(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", image_entries(f"xen/{IMG}.img", b"data"))
    config = Config(repository=root, state=tmp_path / "state", verify=False)
    result = run.verify(config)
    assert statuses(result.catalog) == {f"xen/{IMG}": "unverified"}
    assert result.stats.files_hashed == 0 and result.catalog.get(f"xen/{IMG}").md5 is None


def test_unreadable_image(tmp_path: Path) -> None:
    """Permission bits only stop a non-root reader, so the check runs as an unprivileged user."""
    root = write_tree(tmp_path / "repo", image_entries(f"xen/{IMG}.img", b"secret bytes"))
    (root / f"xen/{IMG}.img").chmod(0)
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    open_to_everyone(root)

    def check() -> list[object]:
        catalog = verify(root, tmp_path)
        return [catalog.images[0].status, sorted(p.code for p in catalog.problems)]

    assert as_unprivileged(check) == ["unreadable", ["unreadable"]]


def test_file_changing_while_read_is_reported_changing(tmp_path: Path) -> None:
    path = tmp_path / "growing.img"
    path.write_bytes(os.urandom(1 << 20) * 48)
    stop = threading.Event()
    started = threading.Event()

    def append() -> None:
        with path.open("ab", buffering=0) as handle:
            while not stop.is_set():
                handle.write(b"x")
                started.set()

    writer = threading.Thread(target=append)
    writer.start()
    started.wait()
    try:
        result = hash_file(tmp_path, FileStat.of("growing.img", path.stat()))
    finally:
        stop.set()
        writer.join()
    assert result.changing and result.digests == ()


def test_vanished_file_is_reported_not_a_crash(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"gone.img": b"x"}) / "gone.img"
    member = FileStat.of("gone.img", path.stat())
    path.unlink()
    result = hash_file(tmp_path, member)
    assert result.vanished and result.changing and result.digests == ()
