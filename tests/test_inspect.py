"""Header facts in the catalog: format, virtual size, compression, and where the name disagrees."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.build import check
from generator.catalog.model import Catalog
from generator.config import Config, read_config_file
from generator.demo import qcow2_header, vdi_header
from tests.conftest import write_tree

NAME = "sl6.4_x86_64_sl11d_{size}_{detail}"


def catalog_of(root: Path, tmp_path: Path, **options: object) -> Catalog:
    config = Config(repository=root, state=tmp_path / "state", **options)  # type: ignore[arg-type]
    return check(config).catalog


def problem_codes(catalog: Catalog) -> set[tuple[str, str, str]]:
    return {(p.path, p.code, p.severity) for p in catalog.problems}


@pytest.mark.skipif(
    shutil.which("qemu-img") is None,
    reason="!!! qemu-img not installed (apt-get install qemu-utils) !!!",
)
def test_catalog_agrees_with_qemu_img(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    made = {
        "kvm": ("qcow2", "qcow2", "20G"),
        "virtualBox": ("vdi", "vdi", "10G"),
        "vmware": ("vmdk", "vmdk", "8G"),
    }
    for vm, (fmt, ext, size) in made.items():
        path = root / vm / f"{NAME.format(size=size + 'B', detail='q')}.{ext}"
        path.parent.mkdir(parents=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), size], check=True)
    catalog = catalog_of(root, tmp_path)
    assert {(i.vm, i.format, i.virtual_size_bytes) for i in catalog.images} == {
        ("kvm", "qcow2", 20 << 30), ("virtualBox", "vdi", 10 << 30), ("vmware", "vmdk", 8 << 30),
    }  # fmt: skip
    assert not any(p.code in ("size_mismatch", "format_vm_mismatch") for p in catalog.problems)


def test_name_and_header_disagreements_are_problems(tmp_path: Path) -> None:
    big, vdi_as_qcow = NAME.format(size="20GB", detail="a"), NAME.format(size="8GB", detail="b")
    cut, packed = NAME.format(size="8GB", detail="c"), NAME.format(size="8GB", detail="d")
    root = write_tree(tmp_path / "repo", {
        f"kvm/{big}.qcow2": qcow2_header(10 << 30),
        f"virtualBox/{vdi_as_qcow}.vdi": qcow2_header(8 << 30),
        f"kvm/{cut}.qcow2": qcow2_header(8 << 30)[:20],
        f"kvm/{packed}.img.gz": gzip.compress(qcow2_header(8 << 30) + bytes(4096), mtime=0),
    })  # fmt: skip
    catalog = catalog_of(root, tmp_path)
    found = problem_codes(catalog)
    assert (f"kvm/{big}.qcow2", "size_mismatch", "warning") in found
    assert (f"virtualBox/{vdi_as_qcow}.vdi", "format_vm_mismatch", "warning") in found
    assert (f"virtualBox/{vdi_as_qcow}.vdi", "format_extension_mismatch", "warning") in found
    assert (f"kvm/{cut}.qcow2", "truncated_header", "error") in found
    packed_image = catalog.get(f"kvm/{packed}")
    assert (packed_image.format, packed_image.compression) == ("qcow2", "gzip")
    assert not catalog.ok


def test_format_tables_are_configurable(tmp_path: Path) -> None:
    name = NAME.format(size="8GB", detail="x")
    root = write_tree(
        tmp_path / "repo",
        {f"virtualBox/{name}.vdi": vdi_header(8 << 30), f"xen/{name}.vdi": vdi_header(8 << 30)},
    )
    (tmp_path / "c.yaml").write_text("vm-formats:\n  xen: [vdi]\n  virtualbox: [qcow2]\n")
    catalog = catalog_of(root, tmp_path, **read_config_file(tmp_path / "c.yaml"))
    formats = {(p.path, p.code) for p in catalog.problems if p.code.startswith("format_")}
    assert formats == {(f"virtualBox/{name}.vdi", "format_vm_mismatch")}
