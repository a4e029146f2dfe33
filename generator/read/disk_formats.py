"""Disk image formats from headers alone: a few KB per file, never the whole image.

Catalogued images are many GB each; reading the headers with a hard byte budget keeps a full
scan cheap and means a hostile or truncated file can cost at most MAX_READ_BYTES.
"""

from __future__ import annotations

import bz2
import errno
import lzma
import os
import re
import stat
import struct
import uuid
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator.read.format_tables import (
    COMPRESSION_SUFFIXES,
    DEFAULT_EXTENSION_FORMATS,
    DEFAULT_VM_FORMATS,
)
from generator.read.safe_open import open_scanned
from generator.read.scan import FileStat
from generator.units import human_bytes

MAX_READ_BYTES = 16 * 1024  # hard cap on bytes read per file; the worst real path reads ~10 KiB
HEAD_BYTES = 4096  # every signature except ISO 9660 and VHD/VHDX tables lives in here
DESCRIPTOR_MAX_BYTES = 10 * 1024  # VMDK text descriptors are a few hundred bytes
TABLE_MAX_ENTRIES = 64  # VHDX tables allow 2047 entries; real ones have about 5
INNER_PROBE_BYTES = 64 * 1024  # decompressed bytes examined to name a compressed image
MAX_VIRTUAL_SIZE = 1 << 60  # 1 EiB: larger sizes are corruption, not disks
SECTOR = 512
_VHD_CHS_SLACK = 16 * 255 * SECTOR  # qemu and Virtual PC round VHD sizes up to a CHS cylinder

ERROR = "error"
WARNING = "warning"

_VHDX_REGION_TABLE = 192 * 1024
_VHDX_METADATA_REGION = uuid.UUID("8b7ca206-4790-4b9a-b8fe-575f050f886e").bytes_le
_VHDX_VIRTUAL_DISK_SIZE = uuid.UUID("2fa54224-cd1b-4876-b211-5dbed83bf4b8").bytes_le
_VHD_DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}
_EXTENT_LINE = re.compile(rb"^\s*(?:RW|RDONLY|NOACCESS)\s+(\d{1,20})\s+\w+", re.MULTILINE)
_BZIP2_MAGIC = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")
_ISO_PVD = 0x8000

# Signature offset, signature, format name: first match wins.
_MAGICS: tuple[tuple[int, bytes, str], ...] = (
    (0, b"QFI\xfb", "qcow2"),
    (0x40, b"\x7f\x10\xda\xbe", "vdi"),
    (0, b"KDMV", "vmdk"),
    (0, b"# Disk DescriptorFile", "vmdk"),
    (0, b"vhdxfile", "vhdx"),
    (0, b"conectix", "vhd"),
    (0, b"\x1f\x8b\x08", "gzip"),
    (0, b"\xfd7zXZ\x00", "xz"),
    (0, b"\x28\xb5\x2f\xfd", "zstd"),
)


@dataclass(frozen=True)
class FormatIssue:
    """Something wrong with a file's format, as data the caller can report."""

    code: str
    severity: str
    message: str


@dataclass(frozen=True)
class DiskFormat:
    """What the headers say; for compressed files `format` is the decompressed image's."""

    format: str
    virtual_size_bytes: int | None
    compression: str | None
    inner_format: str | None
    partition_table: str | None
    issues: tuple[FormatIssue, ...] = ()
    bytes_read: int = 0


class ReadBudgetExceeded(RuntimeError):
    """A read would pass MAX_READ_BYTES: a bug in a parser, never caused by file content."""


class _HeaderError(Exception):
    """Unwinds a parser to detect_format with the format it had recognised."""

    def __init__(self, fmt: str, code: str, message: str) -> None:
        super().__init__(message)
        self.fmt = fmt
        self.issue = _issue(code, message)


class CountingReader:
    """Positional reads (pread) on an fd, counted and capped so no header can make us scan."""

    def __init__(self, fd: int, size: int, budget: int = MAX_READ_BYTES) -> None:
        self.fd = fd
        self.size = size
        self.budget = budget
        self.bytes_read = 0

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`; short only at end of file."""
        length = max(0, min(length, self.size - offset))
        if offset < 0 or length == 0:
            return b""
        if self.bytes_read + length > self.budget:
            raise ReadBudgetExceeded(f"read of {length} at {offset} exceeds {self.budget} bytes")
        data = os.pread(self.fd, length, offset)
        self.bytes_read += len(data)
        return data


def detect_format(
    path: Path, size: int | None = None, scanned: FileStat | None = None, root: Path | None = None
) -> DiskFormat:
    """Name a disk image's format and virtual size from its headers; never raises on bad input.

    `size` is the file size if the caller already has it. An empty file is "raw" of size 0,
    as qemu says, but carries an `empty_file` error: no catalogued image should be empty.
    """
    try:  # never blocks on a FIFO, never follows a link swapped in since the scan
        fd = open_scanned(root, path, scanned)
    except OSError as exc:
        return _disk("unknown", None, None, _issue("unreadable", f"cannot open: {exc}"))
    reader = CountingReader(fd, 0)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        reader.size = info.st_size if size is None else size
        result = _detect(reader)
    except (OSError, struct.error) as exc:
        result = _disk("unknown", None, None, _issue("unreadable", f"cannot read: {exc}"))
    except ReadBudgetExceeded as exc:  # a parser bug; still one file's problem, not the run's
        result = _disk("unknown", None, None, _issue("read_budget_exceeded", str(exc)))
    finally:
        os.close(fd)
    return replace(result, bytes_read=reader.bytes_read)


def _detect(reader: CountingReader) -> DiskFormat:
    """Dispatch on the first signature found; a parser's _HeaderError becomes an issue."""
    head = reader.read_at(0, HEAD_BYTES)
    if not head:
        return _disk("raw", 0, None, _issue("empty_file", "raw: file is empty (0 bytes)"))
    name = _magic_name(head)
    compression = name if name in COMPRESSION_SUFFIXES.values() else None
    try:
        if compression:
            return _parse_compressed(compression, head)
        if name:
            return _PARSERS[name](reader, head)
        return _parse_headerless(reader, head)
    except _HeaderError as err:
        return DiskFormat(err.fmt, None, compression, None, None, (err.issue,))


def _magic_name(head: bytes) -> str | None:
    """Format or compression whose signature is in `head`; qcow and qcow2 differ by version."""
    for offset, magic, name in _MAGICS:
        if head[offset : offset + len(magic)] == magic:
            return "qcow" if name == "qcow2" and head[4:8] == b"\0\0\0\1" else name
    return "bzip2" if _BZIP2_MAGIC.match(head) else None


def _unpack(fmt: str, layout: str, buf: bytes, pos: int, what: str, at: int = 0) -> tuple[Any, ...]:
    """struct.unpack_from that reports a short buffer (the file ended) as a truncated header."""
    need = pos + struct.calcsize(layout)
    if len(buf) < need:
        found = f"file ends at byte {at + len(buf)}, inside the {what}"
        message = f"{fmt}: {found} (expected bytes up to {at + need})"
        raise _HeaderError(fmt, "truncated_header", message)
    return struct.unpack_from(layout, buf, pos)


def _corrupt(fmt: str, message: str) -> _HeaderError:
    return _HeaderError(fmt, "corrupt_header", f"{fmt}: {message}")


def _sane_size(fmt: str, value: int, what: str) -> int:
    if not 0 <= value <= MAX_VIRTUAL_SIZE:
        raise _corrupt(fmt, f"{what} is {value} bytes, expected 0 to {MAX_VIRTUAL_SIZE}")
    return value


def _parse_qcow(reader: CountingReader, head: bytes) -> DiskFormat:
    (version,) = _unpack("qcow2", ">I", head, 4, "version field")
    fmt = "qcow" if version == 1 else "qcow2"
    if version not in (1, 2, 3):
        raise _corrupt(fmt, f"version is {version}, expected 1, 2 or 3")
    (size,) = _unpack(fmt, ">Q", head, 24, "size field")
    if version > 1:
        (cluster_bits,) = _unpack(fmt, ">I", head, 20, "cluster_bits field")
        if not 9 <= cluster_bits <= 21:
            raise _corrupt(fmt, f"cluster_bits is {cluster_bits}, expected 9 to 21")
    return _disk(fmt, _sane_size(fmt, size, "virtual size"))


def _parse_vdi(reader: CountingReader, head: bytes) -> DiskFormat:
    version, header_size = _unpack("vdi", "<II", head, 0x44, "version field")
    if version != 0x00010001:
        raise _corrupt("vdi", f"header version is {version >> 16}.{version & 0xFFFF}, expected 1.1")
    if not 0x180 <= header_size <= HEAD_BYTES:
        raise _corrupt("vdi", f"header size is {header_size}, expected 384 to {HEAD_BYTES}")
    (size,) = _unpack("vdi", "<Q", head, 0x170, "disk size field")
    return _disk("vdi", _sane_size("vdi", size, "disk size"))


def _parse_vmdk(reader: CountingReader, head: bytes) -> DiskFormat:
    if head.startswith(b"#"):
        return _parse_vmdk_descriptor(reader, head)
    version, _flags, capacity = _unpack("vmdk", "<IIQ", head, 4, "sparse extent header")
    if version not in (1, 2, 3):
        raise _corrupt("vmdk", f"sparse extent version is {version}, expected 1, 2 or 3")
    return _disk("vmdk", _sane_size("vmdk", capacity * SECTOR, "capacity"))


def _parse_vmdk_descriptor(reader: CountingReader, head: bytes) -> DiskFormat:
    """Text descriptor: the disk is the sum of its extents, whose files we never open."""
    if reader.size > DESCRIPTOR_MAX_BYTES:
        message = f"descriptor is {reader.size} bytes, expected at most {DESCRIPTOR_MAX_BYTES}"
        raise _corrupt("vmdk", message)
    text = head + reader.read_at(len(head), DESCRIPTOR_MAX_BYTES - len(head))
    sectors = [int(m) for m in _EXTENT_LINE.findall(text)]
    if not sectors:
        raise _corrupt("vmdk", "descriptor has no extent lines, expected at least one")
    return _disk("vmdk", _sane_size("vmdk", sum(sectors) * SECTOR, "sum of extents"))


def _vhd_footer_size(footer: bytes) -> tuple[int, str]:
    """Current size and disk type from a VHD footer, after checking its checksum."""
    size, disk_type, checksum = _unpack("vhd", ">Q4xII", footer, 48, "footer", len(footer))
    if disk_type not in _VHD_DISK_TYPES:
        raise _corrupt("vhd", f"disk type is {disk_type}, expected 2, 3 or 4")
    expected = ~sum(footer[:64] + footer[68:512]) & 0xFFFFFFFF
    if checksum != expected:
        raise _corrupt("vhd", f"footer checksum is {checksum:#x}, expected {expected:#x}")
    return _sane_size("vhd", size, "current size"), _VHD_DISK_TYPES[disk_type]


def _parse_vhd_dynamic(reader: CountingReader, head: bytes) -> DiskFormat:
    """Dynamic VHDs copy the footer to offset 0; the real one must still end the file."""
    _unpack("vhd", "512s", head, 0, "footer copy at offset 0")
    size, _kind = _vhd_footer_size(head[:512])
    tail = reader.read_at(reader.size - 512, 9)  # old Virtual PC wrote 511-byte footers
    if b"conectix" in tail:
        return _disk("vhd", size)
    message = "vhd: footer copy at offset 0 but no footer in the last 512 bytes (truncated?)"
    return _disk("vhd", size, None, _issue("truncated_image", message))


def _parse_vhdx(reader: CountingReader, head: bytes) -> DiskFormat:
    """Region table -> metadata table -> Virtual Disk Size item: four small reads."""
    table = reader.read_at(_VHDX_REGION_TABLE, 16)
    signature, _crc, count = _unpack("vhdx", "<4sII", table, 0, "region table", _VHDX_REGION_TABLE)
    if signature != b"regi":
        raise _corrupt("vhdx", f"region table signature is {signature!r}, expected b'regi'")
    region = _vhdx_find(reader, _VHDX_REGION_TABLE + 16, count, _VHDX_METADATA_REGION, "<16sQ")
    if region is None:
        raise _corrupt("vhdx", f"region table has {count} entries but no metadata region")
    base = region[1]
    header = reader.read_at(base, 12)
    signature, _reserved, count = _unpack("vhdx", "<8sHH", header, 0, "metadata table", base)
    if signature != b"metadata":
        raise _corrupt("vhdx", f"metadata table signature is {signature!r}, expected b'metadata'")
    item = _vhdx_find(reader, base + 32, count, _VHDX_VIRTUAL_DISK_SIZE, "<16sI")
    if item is None:
        raise _corrupt("vhdx", f"metadata table has {count} entries but no virtual disk size")
    value = reader.read_at(base + item[1], 8)
    (size,) = _unpack("vhdx", "<Q", value, 0, "virtual disk size item", base + item[1])
    return _disk("vhdx", _sane_size("vhdx", size, "virtual disk size"))


def _vhdx_find(
    reader: CountingReader, offset: int, count: int, guid: bytes, layout: str
) -> tuple[Any, ...] | None:
    """The 32-byte table entry starting with `guid`, searching at most TABLE_MAX_ENTRIES."""
    if count > 2047:
        raise _corrupt("vhdx", f"table at {offset - 16} has {count} entries, expected at most 2047")
    entries = reader.read_at(offset, min(count, TABLE_MAX_ENTRIES) * 32)
    for index in range(min(count, TABLE_MAX_ENTRIES)):
        entry = _unpack("vhdx", layout, entries, index * 32, "table entry", offset)
        if entry[0] == guid:
            return entry
    return None


def _parse_headerless(reader: CountingReader, head: bytes) -> DiskFormat:
    """No signature at the start: a fixed VHD (footer at the end), an ISO, or raw."""
    table = _partition_table(reader, head)
    tail = reader.read_at(reader.size - 512, 512) if reader.size > 512 else b""
    if tail.startswith(b"conectix"):
        size, kind = _vhd_footer_size(tail)
        if kind != "fixed":
            raise _corrupt("vhd", f"footer at the end says {kind} disk, but offset 0 has no copy")
        return _disk("vhd", size, table)
    pvd = reader.read_at(_ISO_PVD, 256)
    if pvd[1:6] == b"CD001":
        return _parse_iso(reader.size, pvd, table)
    return _disk("raw", reader.size, table)


def _parse_iso(file_size: int, pvd: bytes, table: str | None) -> DiskFormat:
    """A VM sees the whole file, as qemu does; a shorter file than the volume is truncated."""
    if pvd[0] != 1:  # not a primary volume descriptor first: nothing more to check cheaply
        return _disk("iso9660", file_size, table)
    blocks_le, blocks_be = _unpack("iso9660", "4s4s", pvd, 80, "volume space size", _ISO_PVD)
    block_le, block_be = _unpack("iso9660", "2s2s", pvd, 128, "logical block size", _ISO_PVD)
    blocks, block = int.from_bytes(blocks_le, "little"), int.from_bytes(block_le, "little")
    if blocks_le != blocks_be[::-1] or block_le != block_be[::-1] or block < 512:
        found = f"{blocks_le.hex()}/{blocks_be.hex()} blocks of {block_le.hex()}/{block_be.hex()}"
        raise _corrupt("iso9660", f"volume size is {found}, expected equal LE/BE copies")
    if blocks * block <= file_size:
        return _disk("iso9660", file_size, table)
    message = f"iso9660: volume is {blocks * block} bytes but the file has {file_size}"
    return _disk("iso9660", file_size, table, _issue("truncated_image", message))


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


def _parse_compressed(compression: str, head: bytes) -> DiskFormat:
    """Name the image inside from a bounded decompression of the head, else the gzip FNAME."""
    inner = _inner_format(compression, head)
    if inner is None and compression == "gzip":
        inner = _gzip_name_format(head)
    return DiskFormat(inner or "unknown", None, compression, inner, None)


def _inner_format(compression: str, head: bytes) -> str | None:
    """Decompress at most INNER_PROBE_BYTES of output, so a compression bomb costs nothing."""
    try:
        if compression == "gzip":
            data = zlib.decompressobj(wbits=31).decompress(head, INNER_PROBE_BYTES)
        elif compression == "xz":
            data = lzma.LZMADecompressor().decompress(head, INNER_PROBE_BYTES)
        elif compression == "bzip2":  # needs a whole block (up to 900 kB) before any output
            data = bz2.BZ2Decompressor().decompress(head, INNER_PROBE_BYTES)
        else:
            return None  # zstd has no stdlib decoder before Python 3.14
    except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
        message = f"{compression}: stream does not decompress ({exc})"
        raise _HeaderError("unknown", "corrupt_header", message) from exc
    name = _magic_name(data)
    if name in COMPRESSION_SUFFIXES.values():
        return None  # nested compression: the disk inside is out of reach
    if name or len(data) < SECTOR:
        return name
    if data[_ISO_PVD + 1 : _ISO_PVD + 6] == b"CD001":
        return "iso9660"
    return "raw" if data[510:512] == b"\x55\xaa" or data[512:520] == b"EFI PART" else None


def _gzip_name_format(head: bytes) -> str | None:
    """The original file name stored in a gzip header (FNAME), mapped by its extension."""
    if len(head) < 10:  # a file cut inside the fixed header: no name to read
        return None
    flags, pos = head[3], 10
    if flags & 0x04 and len(head) >= 12:  # FEXTRA precedes FNAME
        pos += 2 + int.from_bytes(head[10:12], "little")
    if not flags & 0x08 or b"\0" not in head[pos:]:
        return None
    name = head[pos : head.index(b"\0", pos)].decode("latin-1").lower()
    allowed = DEFAULT_EXTENSION_FORMATS.get(name.rpartition(".")[2], frozenset())
    return next(iter(allowed)) if len(allowed) == 1 else None


def _disk(fmt: str, size: int | None, table: str | None = None, *issues: FormatIssue) -> DiskFormat:
    return DiskFormat(fmt, size, None, None, table, issues)


def _issue(code: str, message: str, severity: str = ERROR) -> FormatIssue:
    return FormatIssue(code, severity, message)


_PARSERS: dict[str, Callable[[CountingReader, bytes], DiskFormat]] = {
    "qcow": _parse_qcow,
    "qcow2": _parse_qcow,
    "vdi": _parse_vdi,
    "vmdk": _parse_vmdk,
    "vhd": _parse_vhd_dynamic,
    "vhdx": _parse_vhdx,
}


def check_consistency(
    vm: str,
    extension: str | None,
    max_size_bytes: int | None,
    fmt: DiskFormat,
    vm_formats: Mapping[str, Collection[str]] = DEFAULT_VM_FORMATS,
    extension_formats: Mapping[str, Collection[str]] = DEFAULT_EXTENSION_FORMATS,
) -> list[FormatIssue]:
    """Warnings where the name, directory or extension disagree with what the headers say."""
    issues = [_size_issue(max_size_bytes, fmt), _vm_issue(vm, fmt, vm_formats)]
    issues.append(_extension_issue(extension, fmt, extension_formats))
    return [issue for issue in issues if issue is not None]


def _size_issue(max_size: int | None, fmt: DiskFormat) -> FormatIssue | None:
    actual = fmt.virtual_size_bytes
    if max_size is None or actual is None or actual == max_size:
        return None
    if fmt.format == "vhd" and 0 <= actual - max_size < _VHD_CHS_SLACK:
        return None
    named, found = (f"{human_bytes(n)} ({n} bytes)" for n in (max_size, actual))
    return _issue("size_mismatch", f"{fmt.format}: name says {named}, header says {found}", WARNING)


def _vm_issue(
    vm: str, fmt: DiskFormat, formats: Mapping[str, Collection[str]]
) -> FormatIssue | None:
    allowed = {key.lower(): value for key, value in formats.items()}.get(vm.lower())
    if allowed is None or fmt.format == "unknown" or fmt.format in allowed:
        return None
    message = f"{fmt.format} image under {vm}/, expected {' or '.join(sorted(allowed))}"
    return _issue("format_vm_mismatch", message, WARNING)


def _extension_issue(
    extension: str | None, fmt: DiskFormat, formats: Mapping[str, Collection[str]]
) -> FormatIssue | None:
    """Compound extensions ("img.gz") check compression first, then the inner format."""
    if not extension:
        return None
    ext = extension.lower().lstrip(".")
    base, _, last = ext.rpartition(".")
    compression = COMPRESSION_SUFFIXES.get(last)
    base = base if compression else ext
    if fmt.compression != compression:
        said, found = compression or "uncompressed", fmt.compression or "uncompressed"
        message = f"{fmt.format}: '.{ext}' says {said} but the file is {found}"
        return _issue("format_extension_mismatch", message, WARNING)
    allowed = formats.get(base)
    if allowed is None or fmt.format == "unknown" or fmt.format in allowed:
        return None
    message = f"'.{ext}' file is {fmt.format}, expected {' or '.join(sorted(allowed))}"
    return _issue("format_extension_mismatch", message, WARNING)
