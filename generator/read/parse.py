"""Second stage: give each scanned image its parsed name, sidecar contents and header facts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from generator.problems import ERROR, WARNING, Problem
from generator.read.checksum import MAX_CHECKSUM_BYTES, ChecksumFile, parse_checksum
from generator.read.description import Description, read_description
from generator.read.format_tables import FormatRules, ImageFormat
from generator.read.names import ImageName, KnownValues, parse_name
from generator.read.scan import ImageEntry, ScanResult

NO_DESCRIPTION = Description()  # frozen: one shared instance for every image without a .txt
NO_FORMAT = ImageFormat()  # headers not read


@dataclass
class ParsedImage:
    """A scanned image plus what its name, sidecars and headers say."""

    entry: ImageEntry
    name: ImageName
    checksum: ChecksumFile | None
    description: Description
    format: ImageFormat
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class ParseRules:
    """What parsing needs beyond the files: known values, reserved keys, format tables.

    `verify` turns `headers` and `descriptions` off: it shows neither, and must stay fast.
    """

    known: KnownValues
    reserved: frozenset[str]
    formats: FormatRules
    headers: bool = True
    descriptions: bool = True


def parse_all(scanned: ScanResult, rules: ParseRules) -> list[ParsedImage]:
    """Parse every image; a bad name or sidecar is a problem on that image, never an abort."""
    return [parse_image(scanned.root, entry, rules) for entry in scanned.images]


def parse_image(root: Path, entry: ImageEntry, rules: ParseRules) -> ParsedImage:
    """Name fields, sidecar contents and header facts of one image, with their problems."""
    name, problems = parse_name(entry.relpath, entry.name, entry.is_dir, rules.known)
    if entry.vm.lower() not in rules.known.vms:
        problems.append(
            Problem(
                entry.relpath,
                "unknown_vm",
                WARNING,
                f"VM directory '{entry.vm}' is not a known VM software (known: {', '.join(rules.known.vms)})",
                "move the image into a known VM directory, or add it to known-vms",
            )
        )
    image_format = NO_FORMAT
    if rules.headers:
        from generator.read.headers import inspect_image  # header readers: not for `verify`

        image_format, found = inspect_image(root, entry, name, rules.formats)
        problems += found
    checksum = read_checksum(root, entry, problems)
    description = NO_DESCRIPTION
    if entry.description and rules.descriptions:
        relpath = entry.description.relpath
        description, found = read_description(root / relpath, relpath, rules.reserved)
        problems += found
    return ParsedImage(entry, name, checksum, description, image_format, problems)


def read_small(path: str, size: int, limit: int) -> bytes:
    """Up to `limit` bytes of a small file whose `size` the scan saw: usually one read call.

    `open().read(limit)` allocates `limit` bytes up front: 1 MiB per sidecar, which made reading
    10,000 checksums cost more than scanning the whole tree. Asking for one byte more than
    `size` tells, in the same call, whether the file grew since the scan.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, min(size + 1, limit))
        while size < len(data) < limit and (more := os.read(fd, min(1 << 16, limit - len(data)))):
            data += more
        return data
    finally:
        os.close(fd)


def read_checksum(root: Path, entry: ImageEntry, problems: list[Problem]) -> ChecksumFile | None:
    """Read and parse the `.checksum` sidecar; garbage is an `invalid_checksum` error."""
    if entry.checksum is None:
        return None
    relpath = entry.checksum.relpath
    try:
        path = os.path.join(root, relpath)
        parsed = parse_checksum(read_small(path, entry.checksum.size, MAX_CHECKSUM_BYTES + 1))
    except OSError as exc:
        parsed = ChecksumFile(error=f"cannot be read: {exc.strerror}")
    if parsed.error:
        problems.append(
            Problem(
                relpath,
                "invalid_checksum",
                ERROR,
                f"checksum file {parsed.error}",
                f"regenerate it: md5sum {entry.name} > {entry.stem}.checksum",
            )
        )
    return parsed
