"""Disk image formats from headers alone: a few KB per file, never the whole image.

`detect_format` opens the file and dispatches on its signature to the parsers of
`image_formats` and `compressed_formats`, all reading through the capped reader of
`header_reader`; `check_consistency` compares what the headers say with the file's name.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path

from generator.read.compressed_formats import parse_compressed
from generator.read.format_tables import (
    COMPRESSION_SUFFIXES,
    DEFAULT_EXTENSION_FORMATS,
    DEFAULT_VM_FORMATS,
)
from generator.read.header_reader import (
    HEAD_BYTES,
    SECTOR,
    WARNING,
    CountingReader,
    DiskFormat,
    FormatIssue,
    HeaderError,
    ReadBudgetExceeded,
    disk,
    issue,
    magic_name,
)
from generator.read.image_formats import PARSERS, parse_headerless
from generator.read.safe_open import open_scanned
from generator.read.scan import FileStat
from generator.units import human_bytes

_VHD_CHS_SLACK = 16 * 255 * SECTOR  # qemu and Virtual PC round VHD sizes up to a CHS cylinder


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
        return disk("unknown", None, None, issue("unreadable", f"cannot open: {exc}"))
    reader = CountingReader(fd, 0)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        reader.size = info.st_size if size is None else size
        result = _detect(reader)
    except (OSError, struct.error) as exc:
        result = disk("unknown", None, None, issue("unreadable", f"cannot read: {exc}"))
    except ReadBudgetExceeded as exc:  # a parser bug; still one file's problem, not the run's
        result = disk("unknown", None, None, issue("read_budget_exceeded", str(exc)))
    finally:
        os.close(fd)
    return replace(result, bytes_read=reader.bytes_read)


def _detect(reader: CountingReader) -> DiskFormat:
    """Dispatch on the first signature found; a parser's HeaderError becomes an issue."""
    head = reader.read_at(0, HEAD_BYTES)
    if not head:
        return disk("raw", 0, None, issue("empty_file", "raw: file is empty (0 bytes)"))
    name = magic_name(head)
    compression = name if name in COMPRESSION_SUFFIXES.values() else None
    try:
        if compression:
            return parse_compressed(compression, head)
        if name:
            return PARSERS[name](reader, head)
        return parse_headerless(reader, head)
    except HeaderError as err:
        return DiskFormat(err.fmt, None, compression, None, None, (err.issue,))


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
    return issue("size_mismatch", f"{fmt.format}: name says {named}, header says {found}", WARNING)


def _vm_issue(
    vm: str, fmt: DiskFormat, formats: Mapping[str, Collection[str]]
) -> FormatIssue | None:
    allowed = {key.lower(): value for key, value in formats.items()}.get(vm.lower())
    if allowed is None or fmt.format == "unknown" or fmt.format in allowed:
        return None
    message = f"{fmt.format} image under {vm}/, expected {' or '.join(sorted(allowed))}"
    return issue("format_vm_mismatch", message, WARNING)


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
        return issue("format_extension_mismatch", message, WARNING)
    allowed = formats.get(base)
    if allowed is None or fmt.format == "unknown" or fmt.format in allowed:
        return None
    message = f"'.{ext}' file is {fmt.format}, expected {' or '.join(sorted(allowed))}"
    return issue("format_extension_mismatch", message, WARNING)
