"""A realistic repository for the inventory tests: ~30 images across four VM directories.

Mixed-case names (`SL6.4` beside `sl6.4`, `SL13b` beside `sl13b`), thirteen operating system
versions (more than a facet shows at first), STAR libraries of many releases, a damaged image,
a multi-file image, descriptions with front matter. Built twice by the real CLI with the clock
ten days apart, so images have different "first seen" and "last changed" dates.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import Entry, directory_image, image_entries, run_cli, write_tree

FIRST_EPOCH = 1_709_300_000  # 2024-03-01
SECOND_EPOCH = FIRST_EPOCH + 10 * 86400  # 2024-03-11

IMAGES = [
    "xen/sl5.3_x86_32_sl05c_8GB_ec2.img",
    "xen/sl5.3_x86_64_sl09g_12GB_grid.img",
    "xen/sl5.10_x86_64_sl10k_16GB_batch.img",
    "xen/sl4_x86_32_sl08e_8GB_ec2.img",
    "xen/sl6.2_x86_64_sl12a_20GB_analysis.img",
    "xen/sl6.4_x86_64_SL13b_8GB_mini.img",
    "xen/centos7_x86_64_sl19b_40GB_batch.img",
    "kvm/sl6.4_x86_64_sl13b_20GB_batch.qcow2",
    "kvm/SL6.4_x86_64_SL13b_20GB_test.qcow2",
    "kvm/sl6.2_x86_64_sl11d_12GB_grid.qcow2",
    "kvm/slc6_x86_64_sl14a_20GB_grid.qcow2",
    "kvm/sl7.9_x86_64_sl16d_40GB_desktop.qcow2",
    "kvm/fedora12_x86_64_sl10k_16GB_desktop.qcow2",
    "kvm/ubuntu9.10_x86_32_sl05c_10GB_ec2.qcow2",
    "virtualBox/sl5.3_x86_32_sl05c_8GB_desktop.vdi",
    "virtualBox/sl6.4_x86_64_sl13b_20GB_desktop.vdi",
    "virtualBox/ubuntu9.10_x86_32_sl05c_10GB_desktop.vdi",
    "virtualBox/sl5.10_x86_32_sl10k_8GB_lite.vdi",
    "vmware/sl5.3_x86_32_sl05c_8GB_desktop.vmdk",
    "vmware/centOS5_x86_64_sl10c_40GB_analysis.vmdk",
    "vmware/sl6.2_x86_64_sl12a_20GB_batch.vmdk",
]
# Added by the second build, ten days later.
NEWER = [
    "xen/sl7.9_x86_64_sl16d_40GB_worker.img",
    "kvm/alma8_x86_64_sl21c_40GB_batch.qcow2",
    "vmware/rhel7_x86_64_sl18a_40GB_worker.vmdk",
]
DAMAGED = "kvm/sl5.3_x86_64_sl09g_12GB_damaged.img"
SPLIT = "vmware/sl6.4_x86_64_sl13b_20GB_split"
DESCRIBED = "xen/sl6.2_x86_64_sl12a_20GB_analysis.img"
DESCRIPTION = """---
kernel: 2.6.32-754
maintainer: Jerome Lauret
---
Analysis node with Geant4 and ROOT6 preinstalled; the `star` account is ready to use.
"""


def first_files() -> dict[str, Entry]:
    files: dict[str, Entry] = {}
    for relpath in IMAGES:
        text = DESCRIPTION if relpath == DESCRIBED else None
        files.update(image_entries(relpath, f"bytes of {relpath}\n", text))
    stem = DAMAGED.rsplit(".", 1)[0]
    files[DAMAGED] = b"damaged bytes\n"
    files[f"{stem}.checksum"] = f"{'0' * 32}  {DAMAGED.split('/')[1]}\n"
    files.update(directory_image(SPLIT, {"disk-a.vmdk": "first half\n", "disk-b.vmdk": "second\n"}))
    return files


def newer_files() -> dict[str, Entry]:
    files: dict[str, Entry] = {}
    for relpath in NEWER:
        files.update(image_entries(relpath, f"bytes of {relpath}\n"))
    return files


def build_realistic(tmp: Path) -> tuple[Path, Path]:
    """The repository and its site, built by the CLI on 2024-03-01 and again on 2024-03-11."""
    repository = write_tree(tmp / "vm", first_files(), mtime_ns=FIRST_EPOCH * 10**9)
    site = tmp / "site"
    _build(repository, site, tmp / "state", FIRST_EPOCH)
    write_tree(repository, newer_files(), mtime_ns=SECOND_EPOCH * 10**9)
    _build(repository, site, tmp / "state", SECOND_EPOCH)
    return repository, site


def _build(repository: Path, site: Path, state: Path, epoch: int) -> None:
    done = run_cli(
        "build",
        "--repository",
        str(repository),
        "--output",
        str(site),
        "--state",
        str(state),
        "--quiet",
        env={"SOURCE_DATE_EPOCH": str(epoch), "TZ": os.environ.get("TZ", "UTC")},
    )
    assert done.returncode == 1, done.stderr  # 1: the damaged image is an integrity failure
