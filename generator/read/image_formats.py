"""Disk container formats (qcow, VDI, VMDK, VHD, VHDX, ISO 9660, raw) from their headers.

Each parser reads a few small pieces through a CountingReader and answers with a DiskFormat,
or raises HeaderError naming the format it recognised and what is wrong with it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from generator.read.header_reader import (
    DESCRIPTOR_MAX_BYTES,
    HEAD_BYTES,
    ISO_PVD,
    SECTOR,
    TABLE_MAX_ENTRIES,
    CountingReader,
    DiskFormat,
    corrupt,
    disk,
    issue,
    sane_size,
    unpack,
)

_VHDX_REGION_TABLE = 192 * 1024
_VHDX_METADATA_REGION = uuid.UUID("8b7ca206-4790-4b9a-b8fe-575f050f886e").bytes_le
_VHDX_VIRTUAL_DISK_SIZE = uuid.UUID("2fa54224-cd1b-4876-b211-5dbed83bf4b8").bytes_le
_VHD_DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}
_EXTENT_LINE = re.compile(rb"^\s*(?:RW|RDONLY|NOACCESS)\s+(\d{1,20})\s+\w+", re.MULTILINE)


def _parse_qcow(reader: CountingReader, head: bytes) -> DiskFormat:
    (version,) = unpack("qcow2", ">I", head, 4, "version field")
    fmt = "qcow" if version == 1 else "qcow2"
    if version not in (1, 2, 3):
        raise corrupt(fmt, f"version is {version}, expected 1, 2 or 3")
    (size,) = unpack(fmt, ">Q", head, 24, "size field")
    if version > 1:
        (cluster_bits,) = unpack(fmt, ">I", head, 20, "cluster_bits field")
        if not 9 <= cluster_bits <= 21:
            raise corrupt(fmt, f"cluster_bits is {cluster_bits}, expected 9 to 21")
    return disk(fmt, sane_size(fmt, size, "virtual size"))


def _parse_vdi(reader: CountingReader, head: bytes) -> DiskFormat:
    version, header_size = unpack("vdi", "<II", head, 0x44, "version field")
    if version != 0x00010001:
        raise corrupt("vdi", f"header version is {version >> 16}.{version & 0xFFFF}, expected 1.1")
    if not 0x180 <= header_size <= HEAD_BYTES:
        raise corrupt("vdi", f"header size is {header_size}, expected 384 to {HEAD_BYTES}")
    (size,) = unpack("vdi", "<Q", head, 0x170, "disk size field")
    return disk("vdi", sane_size("vdi", size, "disk size"))


def _parse_vmdk(reader: CountingReader, head: bytes) -> DiskFormat:
    if head.startswith(b"#"):
        return _parse_vmdk_descriptor(reader, head)
    version, _flags, capacity = unpack("vmdk", "<IIQ", head, 4, "sparse extent header")
    if version not in (1, 2, 3):
        raise corrupt("vmdk", f"sparse extent version is {version}, expected 1, 2 or 3")
    return disk("vmdk", sane_size("vmdk", capacity * SECTOR, "capacity"))


def _parse_vmdk_descriptor(reader: CountingReader, head: bytes) -> DiskFormat:
    """Text descriptor: the disk is the sum of its extents, whose files we never open."""
    if reader.size > DESCRIPTOR_MAX_BYTES:
        message = f"descriptor is {reader.size} bytes, expected at most {DESCRIPTOR_MAX_BYTES}"
        raise corrupt("vmdk", message)
    text = head + reader.read_at(len(head), DESCRIPTOR_MAX_BYTES - len(head))
    sectors = [int(m) for m in _EXTENT_LINE.findall(text)]
    if not sectors:
        raise corrupt("vmdk", "descriptor has no extent lines, expected at least one")
    return disk("vmdk", sane_size("vmdk", sum(sectors) * SECTOR, "sum of extents"))


def _vhd_footer_size(footer: bytes) -> tuple[int, str]:
    """Current size and disk type from a VHD footer, after checking its checksum."""
    size, disk_type, checksum = unpack("vhd", ">Q4xII", footer, 48, "footer", len(footer))
    if disk_type not in _VHD_DISK_TYPES:
        raise corrupt("vhd", f"disk type is {disk_type}, expected 2, 3 or 4")
    expected = ~sum(footer[:64] + footer[68:512]) & 0xFFFFFFFF
    if checksum != expected:
        raise corrupt("vhd", f"footer checksum is {checksum:#x}, expected {expected:#x}")
    return sane_size("vhd", size, "current size"), _VHD_DISK_TYPES[disk_type]


def _parse_vhd_dynamic(reader: CountingReader, head: bytes) -> DiskFormat:
    """Dynamic VHDs copy the footer to offset 0; the real one must still end the file."""
    unpack("vhd", "512s", head, 0, "footer copy at offset 0")
    size, _kind = _vhd_footer_size(head[:512])
    tail = reader.read_at(reader.size - 512, 9)  # old Virtual PC wrote 511-byte footers
    if b"conectix" in tail:
        return disk("vhd", size)
    message = "vhd: footer copy at offset 0 but no footer in the last 512 bytes (truncated?)"
    return disk("vhd", size, None, issue("truncated_image", message))


def _parse_vhdx(reader: CountingReader, head: bytes) -> DiskFormat:
    """Region table -> metadata table -> Virtual Disk Size item: four small reads."""
    table = reader.read_at(_VHDX_REGION_TABLE, 16)
    signature, _crc, count = unpack("vhdx", "<4sII", table, 0, "region table", _VHDX_REGION_TABLE)
    if signature != b"regi":
        raise corrupt("vhdx", f"region table signature is {signature!r}, expected b'regi'")
    region = _vhdx_find(reader, _VHDX_REGION_TABLE + 16, count, _VHDX_METADATA_REGION, "<16sQ")
    if region is None:
        raise corrupt("vhdx", f"region table has {count} entries but no metadata region")
    base = region[1]
    header = reader.read_at(base, 12)
    signature, _reserved, count = unpack("vhdx", "<8sHH", header, 0, "metadata table", base)
    if signature != b"metadata":
        raise corrupt("vhdx", f"metadata table signature is {signature!r}, expected b'metadata'")
    item = _vhdx_find(reader, base + 32, count, _VHDX_VIRTUAL_DISK_SIZE, "<16sI")
    if item is None:
        raise corrupt("vhdx", f"metadata table has {count} entries but no virtual disk size")
    value = reader.read_at(base + item[1], 8)
    (size,) = unpack("vhdx", "<Q", value, 0, "virtual disk size item", base + item[1])
    return disk("vhdx", sane_size("vhdx", size, "virtual disk size"))


def _vhdx_find(
    reader: CountingReader, offset: int, count: int, guid: bytes, layout: str
) -> tuple[Any, ...] | None:
    """The 32-byte table entry starting with `guid`, searching at most TABLE_MAX_ENTRIES."""
    if count > 2047:
        raise corrupt("vhdx", f"table at {offset - 16} has {count} entries, expected at most 2047")
    entries = reader.read_at(offset, min(count, TABLE_MAX_ENTRIES) * 32)
    for index in range(min(count, TABLE_MAX_ENTRIES)):
        entry = unpack("vhdx", layout, entries, index * 32, "table entry", offset)
        if entry[0] == guid:
            return entry
    return None


def parse_headerless(reader: CountingReader, head: bytes) -> DiskFormat:
    """No signature at the start: a fixed VHD (footer at the end), an ISO, or raw."""
    table = _partition_table(reader, head)
    tail = reader.read_at(reader.size - 512, 512) if reader.size > 512 else b""
    if tail.startswith(b"conectix"):
        size, kind = _vhd_footer_size(tail)
        if kind != "fixed":
            raise corrupt("vhd", f"footer at the end says {kind} disk, but offset 0 has no copy")
        return disk("vhd", size, table)
    pvd = reader.read_at(ISO_PVD, 256)
    if pvd[1:6] == b"CD001":
        return _parse_iso(reader.size, pvd, table)
    return disk("raw", reader.size, table)


def _parse_iso(file_size: int, pvd: bytes, table: str | None) -> DiskFormat:
    """A VM sees the whole file, as qemu does; a shorter file than the volume is truncated."""
    if pvd[0] != 1:  # not a primary volume descriptor first: nothing more to check cheaply
        return disk("iso9660", file_size, table)
    blocks_le, blocks_be = unpack("iso9660", "4s4s", pvd, 80, "volume space size", ISO_PVD)
    block_le, block_be = unpack("iso9660", "2s2s", pvd, 128, "logical block size", ISO_PVD)
    blocks, block = int.from_bytes(blocks_le, "little"), int.from_bytes(block_le, "little")
    if blocks_le != blocks_be[::-1] or block_le != block_be[::-1] or block < 512:
        found = f"{blocks_le.hex()}/{blocks_be.hex()} blocks of {block_le.hex()}/{block_be.hex()}"
        raise corrupt("iso9660", f"volume size is {found}, expected equal LE/BE copies")
    if blocks * block <= file_size:
        return disk("iso9660", file_size, table)
    message = f"iso9660: volume is {blocks * block} bytes but the file has {file_size}"
    return disk("iso9660", file_size, table, issue("truncated_image", message))


def _partition_table(reader: CountingReader, head: bytes) -> str | None:
    """GPT header at LBA 1 (512- or 4096-byte sectors), else a plausible MBR."""
    if head[512:520] == b"EFI PART":
        return "gpt"
    if head[510:512] != b"\x55\xaa":
        return None
    entries = [head[446 + 16 * i : 462 + 16 * i] for i in range(4)]
    if any(e[0] not in (0, 0x80) for e in entries) or not any(e[4] for e in entries):
        return None  # a boot sector without a partition table (e.g. a bare FAT volume)
    if any(e[4] == 0xEE for e in entries) and reader.read_at(4096, 8) == b"EFI PART":
        return "gpt"
    return "mbr"


PARSERS: dict[str, Callable[[CountingReader, bytes], DiskFormat]] = {
    "qcow": _parse_qcow,
    "qcow2": _parse_qcow,
    "vdi": _parse_vdi,
    "vmdk": _parse_vmdk,
    "vhd": _parse_vhd_dynamic,
    "vhdx": _parse_vhdx,
}
