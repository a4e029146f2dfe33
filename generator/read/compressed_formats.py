"""Compressed images (gzip, xz, bzip2, zstd): the disk inside, named from a bounded probe."""

from __future__ import annotations

import bz2
import lzma
import zlib

from generator.read.format_tables import COMPRESSION_SUFFIXES, DEFAULT_EXTENSION_FORMATS
from generator.read.header_reader import (
    INNER_PROBE_BYTES,
    ISO_PVD,
    SECTOR,
    DiskFormat,
    HeaderError,
    magic_name,
)


def parse_compressed(compression: str, head: bytes) -> DiskFormat:
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
        raise HeaderError("unknown", "corrupt_header", message) from exc
    name = magic_name(data)
    if name in COMPRESSION_SUFFIXES.values():
        return None  # nested compression: the disk inside is out of reach
    if name or len(data) < SECTOR:
        return name
    if data[ISO_PVD + 1 : ISO_PVD + 6] == b"CD001":
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
