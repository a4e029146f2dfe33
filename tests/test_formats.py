"""detect_format must agree with qemu-img on real images and never raise on broken ones."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import shutil
import struct
import subprocess
import uuid
from pathlib import Path

import pytest

from generator.read.disk_formats import check_consistency, detect_format
from generator.read.format_tables import DEFAULT_EXTENSION_FORMATS, DEFAULT_VM_FORMATS
from generator.read.header_reader import (
    MAX_READ_BYTES,
    CountingReader,
    DiskFormat,
    ReadBudgetExceeded,
)

QEMU_IMG = shutil.which("qemu-img")
needs_qemu = pytest.mark.skipif(
    QEMU_IMG is None,
    reason="!!! qemu-img NOT FOUND: format tests against real images SKIPPED "
    "(install qemu-utils; CI must have it) !!!",
)
QEMU_NAMES = {"vpc": "vhd"}  # qemu's driver name -> ours
SIZES = {"1M": 1 << 20, "64M": 64 << 20, "10G": 10 << 30}
MIB = 1 << 20


def qemu_create(directory: Path, fmt: str, size: str, *options: str, name: str = "") -> Path:
    path = directory / (name or f"disk-{fmt}-{size}-{'-'.join(options) or 'default'}.{fmt}")
    args = [QEMU_IMG or "qemu-img", "create", "-q", "-f", fmt]
    if options:
        args += ["-o", ",".join(options)]
    subprocess.run([*args, str(path), size], check=True, cwd=directory)
    return path


def qemu_info(path: Path, fmt: str | None = None) -> dict:
    args = [
        QEMU_IMG or "qemu-img",
        "info",
        "--output=json",
        *(["-f", fmt] if fmt else []),
        str(path),
    ]
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def detect(path: Path) -> DiskFormat:
    """detect_format plus the invariants every result must satisfy."""
    result = detect_format(path)
    assert 0 <= result.bytes_read <= MAX_READ_BYTES
    for issue in result.issues:
        assert issue.severity in ("error", "warning") and "\n" not in issue.message
    return result


def assert_agrees_with_qemu(path: Path, qemu_format: str | None = None) -> DiskFormat:
    info = qemu_info(path, qemu_format)
    result = detect(path)
    assert result.format == QEMU_NAMES.get(info["format"], info["format"])
    assert result.virtual_size_bytes == info["virtual-size"]
    assert result.issues == ()
    assert result.compression is None
    return result


# --- real images made by qemu-img -------------------------------------------------------------


@needs_qemu
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("fmt", ["qcow2", "vdi", "vmdk", "vpc", "vhdx", "raw", "qcow"])
def test_agrees_with_qemu_img(tmp_path: Path, fmt: str, size: str) -> None:
    result = assert_agrees_with_qemu(qemu_create(tmp_path, fmt, size))
    assert result.partition_table is None


@needs_qemu
@pytest.mark.parametrize("size", ["64M", "5G"])
@pytest.mark.parametrize(
    "subformat", ["monolithicSparse", "monolithicFlat", "streamOptimized", "twoGbMaxExtentFlat"]
)
def test_vmdk_subformats(tmp_path: Path, subformat: str, size: str) -> None:
    path = qemu_create(tmp_path, "vmdk", size, f"subformat={subformat}")
    assert_agrees_with_qemu(path)


@needs_qemu
def test_vmdk_descriptor_sums_extents(tmp_path: Path) -> None:
    path = qemu_create(tmp_path, "vmdk", "5G", "subformat=twoGbMaxExtentFlat")
    assert path.read_bytes().count(b" FLAT ") == 3  # 2G + 2G + 1G
    assert detect(path).virtual_size_bytes == 5 << 30


@needs_qemu
@pytest.mark.parametrize("size", SIZES)
def test_fixed_vhd(tmp_path: Path, size: str) -> None:
    """qemu-img probes a fixed VHD as raw (its footer is at the end); asked for vpc it agrees."""
    path = qemu_create(tmp_path, "vpc", size, "subformat=fixed")
    assert qemu_info(path)["format"] == "raw"
    assert_agrees_with_qemu(path, "vpc")


@needs_qemu
def test_vhd_size_is_rounded_to_chs_geometry(tmp_path: Path) -> None:
    result = detect(qemu_create(tmp_path, "vpc", "64M"))
    assert result.virtual_size_bytes == 67125248  # 964 cylinders * 8 heads * 17 sectors
    assert check_consistency("xen", "vhd", 64 * MIB, result) == []


# --- hand-made images ------------------------------------------------------------------------


def write_iso(path: Path, blocks: int = 18, file_blocks: int = 18, mbr: bool = False) -> Path:
    path.write_bytes(iso_bytes(blocks, file_blocks, mbr))
    return path


def iso_bytes(blocks: int = 18, file_blocks: int = 18, mbr: bool = False) -> bytes:
    """16 system-area blocks, a primary volume descriptor and a terminator: a minimal ISO 9660."""
    data = bytearray(file_blocks * 2048)
    pvd = 16 * 2048
    data[pvd : pvd + 7] = b"\x01CD001\x01"
    data[pvd + 80 : pvd + 88] = struct.pack("<I", blocks) + struct.pack(">I", blocks)
    data[pvd + 128 : pvd + 132] = struct.pack("<H", 2048) + struct.pack(">H", 2048)
    data[pvd + 2048 : pvd + 2055] = b"\xffCD001\x01"
    if mbr:
        data[446 + 4] = 0x17
        data[510:512] = b"\x55\xaa"
    return bytes(data)


def write_raw(path: Path, kind: str, size: int = 4 * MIB) -> Path:
    """A sparse raw disk whose first sectors hold an MBR, a GPT (512 or 4096 sectors) or nothing."""
    with path.open("wb") as file:
        file.truncate(size)
        if kind in ("mbr", "gpt", "gpt4k"):
            entry = struct.pack(
                "<B3sB3sII", 0, b"\0\0\2", 0xEE if "gpt" in kind else 0x83, b"", 1, 100
            )
            file.seek(446)
            file.write(entry)
            file.seek(510)
            file.write(b"\x55\xaa")
        if kind in ("gpt", "gpt4k"):
            file.seek(512 if kind == "gpt" else 4096)
            file.write(b"EFI PART\x00\x00\x01\x00")
    return path


@needs_qemu
@pytest.mark.parametrize("hybrid", [False, True])
def test_iso9660(tmp_path: Path, hybrid: bool) -> None:
    path = write_iso(tmp_path / "star.iso", mbr=hybrid)
    result = detect(path)
    assert (result.format, result.virtual_size_bytes, result.issues) == ("iso9660", 18 * 2048, ())
    assert result.partition_table == ("mbr" if hybrid else None)
    assert qemu_info(path)["virtual-size"] == result.virtual_size_bytes  # qemu: raw, file size


def test_truncated_iso(tmp_path: Path) -> None:
    result = detect(write_iso(tmp_path / "short.iso", blocks=1000))
    assert result.format == "iso9660"
    assert [i.code for i in result.issues] == ["truncated_image"]


def test_iso_with_mismatched_both_endian_fields_is_corrupt(tmp_path: Path) -> None:
    path = write_iso(tmp_path / "bad.iso")
    data = bytearray(path.read_bytes())
    data[16 * 2048 + 84 : 16 * 2048 + 88] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    assert [i.code for i in detect(path).issues] == ["corrupt_header"]


@needs_qemu
@pytest.mark.parametrize("kind", ["mbr", "gpt", "gpt4k", "none"])
def test_raw_partition_tables(tmp_path: Path, kind: str) -> None:
    path = write_raw(tmp_path / f"{kind}.img", kind)
    result = assert_agrees_with_qemu(path)
    assert result.partition_table == (None if kind == "none" else kind.removesuffix("4k"))


def test_boot_sector_without_partition_table_is_not_mbr(tmp_path: Path) -> None:
    path = tmp_path / "fat.img"
    path.write_bytes(b"\xeb\x3c\x90MSDOS5.0" + b"\x77" * 500 + b"\x55\xaa" + bytes(1024))
    assert detect(path).partition_table is None


def test_empty_file_is_raw_with_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.img"
    path.write_bytes(b"")
    result = detect(path)
    assert (result.format, result.virtual_size_bytes, result.bytes_read) == ("raw", 0, 0)
    assert [(i.code, i.severity) for i in result.issues] == [("empty_file", "error")]


def test_unreadable_paths_give_issues(tmp_path: Path) -> None:
    """Missing files, directories and FIFOs (which would block a plain open) are reported."""
    os.mkfifo(tmp_path / "fifo.img")
    for path in (tmp_path / "missing.img", tmp_path, tmp_path / "fifo.img"):
        result = detect_format(path)
        assert result.format == "unknown" and result.issues[0].code == "unreadable"
        assert result.issues[0].severity == "error" and result.bytes_read == 0


# --- compression -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_qcow2(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if QEMU_IMG is None:
        pytest.skip("!!! qemu-img NOT FOUND: compressed-image tests SKIPPED !!!")
    return qemu_create(tmp_path_factory.mktemp("src"), "qcow2", "64M").read_bytes()


@pytest.mark.parametrize(
    ("compression", "compress"),
    [("gzip", gzip.compress), ("xz", lzma.compress), ("bzip2", bz2.compress)],
)
def test_compressed_qcow2(tmp_path: Path, small_qcow2: bytes, compression: str, compress) -> None:
    path = tmp_path / "disk.qcow2.x"
    path.write_bytes(compress(small_qcow2))
    result = detect(path)
    assert (result.format, result.compression, result.inner_format) == (
        "qcow2",
        compression,
        "qcow2",
    )
    assert result.virtual_size_bytes is None and result.issues == ()


def test_gzip_inner_format_from_fname(tmp_path: Path) -> None:
    """Random content can't be recognised; the FNAME the gzip tool stored still names it."""
    path = tmp_path / "disk.vdi.gz"
    with gzip.GzipFile(filename="star-10G.vdi", mode="wb", fileobj=path.open("wb")) as file:
        file.write(os.urandom(8192))
    result = detect(path)
    assert (result.compression, result.inner_format, result.format) == ("gzip", "vdi", "vdi")


def test_compressed_raw_with_mbr(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "d.img", "mbr", size=MIB).read_bytes()
    path = tmp_path / "d.img.xz"
    path.write_bytes(lzma.compress(raw))
    assert detect(path).inner_format == "raw"


def test_nested_compression_has_no_inner_format(tmp_path: Path) -> None:
    path = tmp_path / "disk.img.gz"
    path.write_bytes(gzip.compress(gzip.compress(bytes(4096))))
    result = detect(path)
    assert (result.format, result.compression, result.inner_format) == ("unknown", "gzip", None)


def test_zstd_by_magic(tmp_path: Path) -> None:
    path = tmp_path / "disk.img.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd\x04\x58" + os.urandom(200))
    result = detect(path)
    assert (result.format, result.compression, result.inner_format) == ("unknown", "zstd", None)


@pytest.mark.parametrize("magic", [b"\x1f\x8b\x08\x00", b"\xfd7zXZ\x00", b"BZh91AY&SY"])
def test_corrupt_compressed_stream(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(magic + b"\xff" * 600)
    result = detect(path)
    assert result.compression is not None and result.format == "unknown"
    assert [i.code for i in result.issues] in (["corrupt_header"], [])


# --- truncated and corrupt headers -----------------------------------------------------------

VHDX_METADATA = 3 << 20  # where qemu-img puts the VHDX metadata region
CUTS = {
    "qcow2": [4, 8, 20, 30],
    "qcow": [8, 30],  # cut at 4 the version is unknown: reported as qcow2
    "vdi": [0x44, 0x48, 0x100, 0x171],
    "vmdk": [4, 12, 16],
    "vpc": [8, 100, 511, 1024],
    "vhdx": [8, 4096, (192 << 10) + 8, (192 << 10) + 40, VHDX_METADATA + 8, VHDX_METADATA + 40],
}
TRUNCATION_CODES = {"truncated_header", "truncated_image"}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if QEMU_IMG is None:
        pytest.skip("!!! qemu-img NOT FOUND: truncation tests SKIPPED !!!")
    directory = tmp_path_factory.mktemp("originals")
    return {fmt: qemu_create(directory, fmt, "64M") for fmt in CUTS}


def cut(source: Path, directory: Path, length: int) -> Path:
    path = directory / f"cut-{length}-{source.name}"
    with source.open("rb") as src, path.open("wb") as dst:
        dst.write(src.read(length))
    return path


@pytest.mark.parametrize(
    ("fmt", "length"), [(fmt, length) for fmt, lengths in CUTS.items() for length in lengths]
)
def test_truncated_header(
    tmp_path: Path, originals: dict[str, Path], fmt: str, length: int
) -> None:
    result = detect(cut(originals[fmt], tmp_path, length))
    assert result.format == QEMU_NAMES.get(fmt, fmt)
    assert {i.code for i in result.issues} & TRUNCATION_CODES, result.issues
    assert all(i.severity == "error" for i in result.issues)


@pytest.mark.parametrize("fmt", CUTS)
def test_every_prefix_is_safe(tmp_path: Path, originals: dict[str, Path], fmt: str) -> None:
    """Cuts anywhere, including before the magic, never raise and never over-read."""
    lengths = {0, 1, 3, 5, 63, 65, 511, 513, 4095, 4097, 40000, 200000, VHDX_METADATA + 65540}
    for length in sorted(lengths):
        detect(cut(originals[fmt], tmp_path, length))


@pytest.mark.parametrize("fmt", CUTS)
def test_garbage_after_magic(tmp_path: Path, originals: dict[str, Path], fmt: str) -> None:
    """Keep each format's signature, fill the rest of the first 300 KiB with noise."""
    head = bytearray(cut(originals[fmt], tmp_path, 300 << 10).read_bytes())
    for seed in range(20):
        noise = bytearray(os.urandom(len(head)))
        noise[:8], noise[0x40:0x44] = head[:8], head[0x40:0x44]
        noise[192 << 10 : (192 << 10) + 4] = b"regi"
        path = tmp_path / f"noise-{seed}"
        path.write_bytes(bytes(noise))
        detect(path)


def patched(source: Path, directory: Path, offset: int, data: bytes) -> Path:
    raw = bytearray(source.read_bytes())
    raw[offset : offset + len(data)] = data
    path = directory / f"patched-{source.name}"
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("fmt", "offset", "data"),
    [
        ("qcow2", 4, struct.pack(">I", 7)),  # version
        ("qcow2", 20, struct.pack(">I", 40)),  # cluster_bits
        ("qcow2", 24, struct.pack(">Q", 1 << 63)),  # absurd size
        ("vdi", 0x44, struct.pack("<I", 0x00020000)),  # version 2.0
        ("vdi", 0x48, struct.pack("<I", 5)),  # header size
        ("vmdk", 4, struct.pack("<I", 99)),  # version
        ("vmdk", 12, struct.pack("<Q", 1 << 62)),  # capacity
        ("vpc", 60, struct.pack(">I", 9)),  # disk type
        ("vpc", 48, struct.pack(">Q", 12345)),  # size changed, checksum now wrong
        ("vhdx", 192 << 10, b"XXXX"),  # region table signature
        ("vhdx", (192 << 10) + 8, struct.pack("<I", 5000)),  # region entry count
        ("vhdx", VHDX_METADATA, b"metaXXXX"),  # metadata table signature
    ],
)
def test_corrupt_header(
    tmp_path: Path, originals: dict[str, Path], fmt: str, offset: int, data: bytes
) -> None:
    result = detect(patched(originals[fmt], tmp_path, offset, data))
    assert result.format == QEMU_NAMES.get(fmt, fmt)
    assert [(i.code, i.severity) for i in result.issues] == [("corrupt_header", "error")]
    assert result.virtual_size_bytes is None


def test_vhdx_without_metadata_region(tmp_path: Path, originals: dict[str, Path]) -> None:
    source = originals["vhdx"]
    table = source.read_bytes()[192 << 10 : (192 << 10) + 80]
    metadata = uuid.UUID("8b7ca206-4790-4b9a-b8fe-575f050f886e").bytes_le
    offset = (192 << 10) + table.index(metadata)
    result = detect(patched(source, tmp_path, offset, bytes(16)))
    assert [i.code for i in result.issues] == ["corrupt_header"]
    assert "metadata region" in result.issues[0].message


def test_vmdk_descriptor_without_extents(tmp_path: Path) -> None:
    path = tmp_path / "d.vmdk"
    path.write_bytes(b'# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\n')
    assert [i.code for i in detect(path).issues] == ["corrupt_header"]


def test_vmdk_descriptor_with_absurd_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.vmdk"
    for sectors in ("9" * 5000, str(1 << 62)):
        path.write_bytes(f'# Disk DescriptorFile\nRW {sectors} FLAT "x.vmdk" 0\n'.encode())
        assert [i.code for i in detect(path).issues] == ["corrupt_header"]


def test_huge_vmdk_descriptor_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "d.vmdk"
    path.write_bytes(b"# Disk DescriptorFile\n" + b"#" * (1 << 20))
    result = detect(path)
    assert [i.code for i in result.issues] == ["corrupt_header"]


def test_dynamic_vhd_without_end_footer(tmp_path: Path, originals: dict[str, Path]) -> None:
    size = originals["vpc"].stat().st_size
    result = detect(cut(originals["vpc"], tmp_path, size - 512))
    assert result.virtual_size_bytes == 67125248
    assert [i.code for i in result.issues] == ["truncated_image"]


# --- the read budget -------------------------------------------------------------------------


def test_read_budget_is_enforced(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(bytes(64 << 10))
    fd = os.open(path, os.O_RDONLY)
    try:
        reader = CountingReader(fd, 64 << 10)
        assert len(reader.read_at(0, MAX_READ_BYTES)) == MAX_READ_BYTES
        assert reader.read_at(1 << 62, 100) == b""  # past the end: nothing read, no error
        with pytest.raises(ReadBudgetExceeded):
            reader.read_at(MAX_READ_BYTES, 1)
        assert reader.bytes_read == MAX_READ_BYTES
    finally:
        os.close(fd)


@needs_qemu
def test_bytes_read_is_bounded_for_every_format(tmp_path: Path) -> None:
    paths = [qemu_create(tmp_path, fmt, "10G") for fmt in ("qcow2", "vdi", "vmdk", "vpc", "vhdx")]
    paths += [write_iso(tmp_path / "a.iso"), write_raw(tmp_path / "r.img", "gpt4k", 10 << 30)]
    paths.append(qemu_create(tmp_path, "vmdk", "10G", "subformat=twoGbMaxExtentFlat"))
    for path in paths:
        result = detect(path)
        assert 0 < result.bytes_read <= MAX_READ_BYTES <= 16 * 1024, (path, result)


# --- consistency -----------------------------------------------------------------------------


def disk(fmt: str, size: int | None = 64 * MIB, compression: str | None = None) -> DiskFormat:
    inner = fmt if compression else None
    return DiskFormat(fmt, size, compression, inner, None)


@pytest.mark.parametrize(
    ("vm", "extension", "max_size", "found", "codes"),
    [
        ("kvm", "qcow2", 64 * MIB, disk("qcow2"), []),
        ("KVM", "img", 64 * MIB, disk("raw"), []),
        ("VirtualBox", ".vdi", None, disk("vdi"), []),
        ("xen", "img.gz", None, disk("raw", None, "gzip"), []),
        ("xen", "img.xz", None, disk("unknown", None, "xz"), []),
        ("hyperv", "vhd", 64 * MIB, disk("vhd", 67125248), []),  # CHS rounding tolerated
        ("somewhere-else", "weird", None, disk("qcow2"), []),
        ("kvm", None, None, disk("unknown", None), []),
        ("kvm", "qcow2", 10 << 30, disk("qcow2"), ["size_mismatch"]),
        ("hyperv", "vhd", 32 * MIB, disk("vhd", 67125248), ["size_mismatch"]),
        ("virtualBox", "qcow2", None, disk("qcow2"), ["format_vm_mismatch"]),
        ("vmware", "vdi", None, disk("qcow2"), ["format_vm_mismatch", "format_extension_mismatch"]),
        ("kvm", "img.gz", None, disk("qcow2"), ["format_extension_mismatch"]),
        ("kvm", "qcow2", None, disk("qcow2", None, "xz"), ["format_extension_mismatch"]),
        (
            "kvm",
            "img.gz",
            None,
            disk("vdi", None, "gzip"),
            ["format_vm_mismatch"],  # `.img` is generic: any disk format may wear it
        ),
    ],
)
def test_check_consistency(
    vm: str, extension: str | None, max_size: int | None, found: DiskFormat, codes: list[str]
) -> None:
    issues = check_consistency(
        vm, extension, max_size, found, DEFAULT_VM_FORMATS, DEFAULT_EXTENSION_FORMATS
    )
    assert [i.code for i in issues] == codes
    assert all(i.severity == "warning" and "\n" not in i.message for i in issues)


def test_size_mismatch_message_shows_human_units_and_bytes() -> None:
    (issue,) = check_consistency("kvm", "qcow2", 10 << 30, disk("qcow2"), DEFAULT_VM_FORMATS, {})
    assert "10.0 GiB (10737418240 bytes)" in issue.message
    assert "64.0 MiB (67108864 bytes)" in issue.message


def test_custom_tables_replace_defaults() -> None:
    issues = check_consistency(
        "Lab", "disk", None, disk("vhdx"), {"lab": ["raw"]}, {"disk": ["raw"]}
    )
    assert [i.code for i in issues] == ["format_vm_mismatch", "format_extension_mismatch"]
