"""The bundled demo repository, made on first use from a recipe: no image bytes live in git.

Each demo image starts with a real header of its format (qcow2, VDI, VMDK) giving the virtual
size its name promises, followed by filler: the catalog reads only headers, so it sees real
images, while `qemu-img` cannot open them (they have no allocation tables).

It shows every VM directory, every status a static tree can have, a multi-file image and
typical problems, so `star-vm-catalog build` with no arguments shows a realistic catalog.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

DEMO_VERSION = "3"
# Fixed timestamps (2024-03-01) so the demo tree, and so the demo site, is identical every time.
DEMO_MTIME_NS = 1_709_251_200 * 10**9


@dataclass(frozen=True)
class DemoFile:
    """One demo file: `data_seed` bytes of pseudo-random data, then a sparse tail up to `size`."""

    path: str
    size: int = 0
    data: int = 0
    header: str | None = None
    virtual_size: int = 0


def pseudo_random(seed: str, length: int) -> bytes:
    """Deterministic bytes (SHA-256 in counter mode): the same demo on every machine."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:length])


def qcow2_header(virtual_size: int) -> bytes:
    """A qcow2 version 2 header (64 KiB clusters, no backing file) for `virtual_size` bytes."""
    header = struct.pack(
        ">4sIQIIQIIQQIIQ", b"QFI\xfb", 2, 0, 0, 16, virtual_size, 0, 1, 3 << 16, 1 << 16, 1, 0, 0
    )
    return header


def vdi_header(virtual_size: int) -> bytes:
    """A VirtualBox VDI 1.1 header: banner, signature, version, header size, then disk size."""
    banner = b"<<< Oracle VM VirtualBox Disk Image >>>\n".ljust(0x40, b"\0")
    header = bytearray(banner + struct.pack("<III", 0xBEDA107F, 0x00010001, 0x190))
    header += bytes(0x170 - len(header)) + struct.pack("<Q", virtual_size)
    return bytes(header.ljust(0x200, b"\0"))


def vmdk_sparse_header(virtual_size: int) -> bytes:
    """A VMware sparse extent header ("KDMV", version 1) whose capacity is in 512-byte sectors."""
    return struct.pack("<4sIIQQQQI", b"KDMV", 1, 3, virtual_size // 512, 128, 1, 20, 512).ljust(
        512, b"\0"
    )


def vmdk_descriptor(extents: list[tuple[int, str]]) -> bytes:
    """A VMware text descriptor naming its sparse extents as (size in bytes, file name)."""
    lines = [
        "# Disk DescriptorFile",
        "version=1",
        "CID=fffffffe",
        "parentCID=ffffffff",
        'createType="twoGbMaxExtentSparse"',
        "",
    ]
    lines += [f'RW {size // 512} SPARSE "{name}"' for size, name in extents]
    return ("\n".join(lines) + '\n\nddb.virtualHWVersion = "7"\n').encode()


HEADERS = {"qcow2": qcow2_header, "vdi": vdi_header, "vmdk": vmdk_sparse_header}


def image_bytes(spec: DemoFile) -> bytes:
    """A real-looking header for the image's format, then deterministic filler."""
    header = HEADERS[spec.header](spec.virtual_size) if spec.header else b""
    return header + pseudo_random(spec.path, spec.data - len(header))


def md5_line(name: str, spec: DemoFile, mode: str = " ") -> str:
    digest = hashlib.md5(image_bytes(spec) + bytes(spec.size - spec.data), usedforsecurity=False)
    return f"{digest.hexdigest()} {mode}{name}\n"


KIB, MIB, GIB = 1024, 1024 * 1024, 1024 * 1024 * 1024

XEN_EC2 = DemoFile("xen/sl5.3_x86_32_sl05c_8GB_ec2.img", 24 * MIB, 192 * KIB, "qcow2", 8 * GIB)
XEN_SL4 = DemoFile("xen/sl4_x86_32_sl08e_8GB_ec2.img", 16 * MIB, 128 * KIB, "qcow2", 8 * GIB)
KVM_OK = DemoFile("kvm/sl6.4_x86_64_sl11d_20GB_batch.qcow2", 8 * MIB, 256 * KIB, "qcow2", 20 * GIB)
KVM_BAD = DemoFile("kvm/sl5.3_x86_64_sl09g_12GB_grid.img", 12 * MIB, 96 * KIB, "qcow2", 10 * GIB)
VBOX_UBUNTU = DemoFile(
    "virtualBox/ubuntu9.10_x86_32_sl05c_10GB_ec2.img", 10 * MIB, 160 * KIB, "vdi", 10 * GIB
)
VBOX_NOSUM = DemoFile(
    "virtualBox/fedora12_x86_64_sl10k_16GB_desktop.vdi", 6 * MIB, 64 * KIB, "vdi", 16 * GIB
)
VMWARE_PARTS = (
    DemoFile(
        "vmware/centOS5_x86_64_sl10c_40GB_analysis/disk-s001.vmdk",
        4 * MIB,
        128 * KIB,
        "vmdk",
        20 * GIB,
    ),
    DemoFile(
        "vmware/centOS5_x86_64_sl10c_40GB_analysis/disk-s002.vmdk",
        2 * MIB,
        64 * KIB,
        "vmdk",
        20 * GIB,
    ),
)
VMWARE_GARBAGE = DemoFile(
    "vmware/sl5.3_x86_32_sl05c_8GB_desktop.vmdk", 3 * MIB, 32 * KIB, "vmdk", 8 * GIB
)
BAD_NAME = DemoFile(
    "xen/scientific-linux_x86_thirtytwo_sl05c_8GB.img", 1 * MIB, 16 * KIB, "qcow2", 8 * GIB
)

DESCRIPTION_EC2 = """---
kernel: 2.6.18-164.el5xen
maintainer: STAR grid team
swap: 1GB
os_size: 2GB
software_size: 3GB
---
Scientific Linux 5.3 with the **SL05c** STAR library, built for Amazon EC2.

Log in as `star` to run jobs. The root password changes every month; compute it with:

    date '+%y%m SEED=rotatingSeedValue' | md5sum | base64 | sed 's|\\(...........\\).*|\\1|'
"""

DESCRIPTION_VMWARE = """---
kernel: 2.6.18-274.el5
maintainer: STAR software group
---
CentOS 5 desktop image split into two 2 GB extents for VMware Workstation.
Open `centOS5.vmx` to start it.
"""


def demo_files() -> list[tuple[str, bytes, int]]:
    """Every file of the demo as (path, leading bytes, apparent size)."""
    return [
        *_image_files(),
        *_texts(_image_sidecars()),
        *_vmware_set(),
        *_texts(_stray_sidecars()),
    ]


def _image_files() -> list[tuple[str, bytes, int]]:
    """The images themselves: the leading bytes of each and the size it claims."""
    specs = (
        XEN_EC2,
        XEN_SL4,
        KVM_OK,
        KVM_BAD,
        VBOX_UBUNTU,
        VBOX_NOSUM,
        *VMWARE_PARTS,
        VMWARE_GARBAGE,
        BAD_NAME,
    )
    return [(spec.path, image_bytes(spec), spec.size) for spec in specs]


def _texts(texts: list[tuple[str, str]]) -> list[tuple[str, bytes, int]]:
    """Text files as demo files: their bytes are all there is."""
    return [(path, content.encode(), len(content.encode())) for path, content in texts]


def _stem(spec: DemoFile) -> str:
    return spec.path.rsplit(".", 1)[0]


def _image_sidecars() -> list[tuple[str, str]]:
    """Checksums in each form the spec allows, and descriptions, for the single-file images."""
    ok_name = KVM_OK.path.split("/")[1]
    name = VBOX_UBUNTU.path.split("/")[1]
    digest = md5_line(name, VBOX_UBUNTU).split()[0]
    return [
        (_stem(XEN_EC2) + ".checksum", md5_line(XEN_EC2.path.split("/")[1], XEN_EC2)),
        (_stem(XEN_EC2) + ".txt", DESCRIPTION_EC2),
        (_stem(XEN_SL4) + ".checksum", md5_line(XEN_SL4.path.split("/")[1], XEN_SL4, "*")),
        (
            _stem(XEN_SL4) + ".txt",
            "Scientific Linux 4 image with STAR library SL08e, for Xen hosts.\n",
        ),
        (
            _stem(KVM_OK) + ".checksum",
            f"{md5_line(ok_name, KVM_OK).split()[0].upper()}  {ok_name}\r\n",
        ),
        (_stem(KVM_BAD) + ".checksum", f"{'0' * 32}  {KVM_BAD.path.split('/')[1]}\n"),
        (
            _stem(KVM_BAD) + ".txt",
            "Grid worker image. Its checksum no longer matches: being re-copied.\n",
        ),
        (_stem(VBOX_UBUNTU) + ".checksum", f"MD5 ({name}) = {digest}\n"),
        (
            _stem(VBOX_UBUNTU) + ".txt",
            "---\nkernel: 2.6.31-14-generic\n---\nUbuntu 9.10 for VirtualBox.\n",
        ),
        (_stem(VBOX_NOSUM) + ".txt", "Fedora 12 desktop; nobody has written its checksum yet.\n"),
    ]


def _vmware_set() -> list[tuple[str, bytes, int]]:
    """The split VMware image: its descriptor, one checksum file for all parts, a description."""
    image_dir = VMWARE_PARTS[0].path.rsplit("/", 1)[0]
    extents = [(p.virtual_size, p.path.rsplit("/", 1)[1]) for p in VMWARE_PARTS]
    descriptor = vmdk_descriptor(extents)
    lines = "".join(
        md5_line(f"{image_dir.split('/')[1]}/{p.path.rsplit('/', 1)[1]}", p) for p in VMWARE_PARTS
    )
    descriptor_md5 = hashlib.md5(descriptor, usedforsecurity=False).hexdigest()
    lines += f"{descriptor_md5}  {image_dir.split('/')[1]}/centOS5.vmdk\n"
    texts = [(image_dir + ".checksum", lines), (image_dir + ".txt", DESCRIPTION_VMWARE)]
    return [(f"{image_dir}/centOS5.vmdk", descriptor, len(descriptor)), *_texts(texts)]


def _stray_sidecars() -> list[tuple[str, str]]:
    """Sidecars the demo gets wrong on purpose: a note for a checksum, an orphan, a bad name."""
    return [
        (_stem(VMWARE_GARBAGE) + ".checksum", "checksum to be added after the copy\n"),
        (
            "kvm/sl5.3_x86_64_sl09g_12GB_old.txt",
            "Description of an image that was deleted long ago.\n",
        ),
        (_stem(BAD_NAME) + ".checksum", md5_line(BAD_NAME.path.split("/")[1], BAD_NAME)),
    ]


def demo_repository(cache: Path | None = None) -> Path:
    """Return the demo repository, creating it once per demo version."""
    base = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = base / "star-vm-catalog" / f"demo-v{DEMO_VERSION}"
    root = home / "repository"
    if (home / "complete").exists():
        return root
    shutil.rmtree(home, ignore_errors=True)
    make_demo(root)
    (home / "complete").write_text("demo repository complete\n")
    return root


def make_demo(root: Path) -> None:
    """Write the demo tree under `root` with fixed timestamps."""
    for relpath, data, size in demo_files():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.write(data)
            handle.truncate(size)
    (root / "kvm" / "sl6.2_x86_64_sl12a_12GB_batch.img").symlink_to(
        ".incoming/sl6.2_x86_64_sl12a_12GB_batch.img"
    )
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, ns=(DEMO_MTIME_NS, DEMO_MTIME_NS), follow_symlinks=False)
