"""The bounded reader every format parser reads through, and the values parsers answer with.

Catalogued images are many GB each; reading the headers with a hard byte budget keeps a full
scan cheap and means a hostile or truncated file can cost at most MAX_READ_BYTES.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from typing import Any

MAX_READ_BYTES = 16 * 1024  # hard cap on bytes read per file; the worst real path reads ~10 KiB
HEAD_BYTES = 4096  # every signature except ISO 9660 and VHD/VHDX tables lives in here
DESCRIPTOR_MAX_BYTES = 10 * 1024  # VMDK text descriptors are a few hundred bytes
TABLE_MAX_ENTRIES = 64  # VHDX tables allow 2047 entries; real ones have about 5
INNER_PROBE_BYTES = 64 * 1024  # decompressed bytes examined to name a compressed image
MAX_VIRTUAL_SIZE = 1 << 60  # 1 EiB: larger sizes are corruption, not disks
SECTOR = 512

ERROR = "error"
WARNING = "warning"

_BZIP2_MAGIC = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")
ISO_PVD = 0x8000

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


class HeaderError(Exception):
    """Unwinds a parser to detect_format with the format it had recognised."""

    def __init__(self, fmt: str, code: str, message: str) -> None:
        super().__init__(message)
        self.fmt = fmt
        self.issue = issue(code, message)


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


def magic_name(head: bytes) -> str | None:
    """Format or compression whose signature is in `head`; qcow and qcow2 differ by version."""
    for offset, magic, name in _MAGICS:
        if head[offset : offset + len(magic)] == magic:
            return "qcow" if name == "qcow2" and head[4:8] == b"\0\0\0\1" else name
    return "bzip2" if _BZIP2_MAGIC.match(head) else None


def unpack(fmt: str, layout: str, buf: bytes, pos: int, what: str, at: int = 0) -> tuple[Any, ...]:
    """struct.unpack_from that reports a short buffer (the file ended) as a truncated header."""
    need = pos + struct.calcsize(layout)
    if len(buf) < need:
        found = f"file ends at byte {at + len(buf)}, inside the {what}"
        message = f"{fmt}: {found} (expected bytes up to {at + need})"
        raise HeaderError(fmt, "truncated_header", message)
    return struct.unpack_from(layout, buf, pos)


def corrupt(fmt: str, message: str) -> HeaderError:
    return HeaderError(fmt, "corrupt_header", f"{fmt}: {message}")


def sane_size(fmt: str, value: int, what: str) -> int:
    if not 0 <= value <= MAX_VIRTUAL_SIZE:
        raise corrupt(fmt, f"{what} is {value} bytes, expected 0 to {MAX_VIRTUAL_SIZE}")
    return value


def disk(fmt: str, size: int | None, table: str | None = None, *issues: FormatIssue) -> DiskFormat:
    return DiskFormat(fmt, size, None, None, table, issues)


def issue(code: str, message: str, severity: str = ERROR) -> FormatIssue:
    return FormatIssue(code, severity, message)
