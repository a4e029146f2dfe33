"""Second stage: give each scanned image its parsed name and the contents of its sidecars."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from generator.checksum import MAX_CHECKSUM_BYTES, ChecksumFile, parse_checksum
from generator.description import Description, read_description
from generator.names import ImageName, KnownValues, parse_name
from generator.problems import ERROR, WARNING, Problem
from generator.scan import ImageEntry, ScanResult

NO_DESCRIPTION = Description()  # frozen: one shared instance for every image without a .txt


@dataclass
class ParsedImage:
    """A scanned image plus what its name and sidecars say."""

    entry: ImageEntry
    name: ImageName
    checksum: ChecksumFile | None
    description: Description
    problems: list[Problem] = field(default_factory=list)


def parse_all(
    scanned: ScanResult, known: KnownValues, reserved: frozenset[str], descriptions: bool = True
) -> list[ParsedImage]:
    """Parse every image; a bad name or sidecar is a problem on that image, never an abort.

    `descriptions=False` leaves `.txt` sidecars unread (`verify` does not show them).
    """
    return [
        parse_image(scanned.root, entry, known, reserved, descriptions) for entry in scanned.images
    ]


def parse_image(
    root: Path,
    entry: ImageEntry,
    known: KnownValues,
    reserved: frozenset[str],
    descriptions: bool = True,
) -> ParsedImage:
    name, problems = parse_name(entry.relpath, entry.name, entry.is_dir, known)
    if entry.vm.lower() not in known.vms:
        problems.append(
            Problem(
                entry.relpath,
                "unknown_vm",
                WARNING,
                f"VM directory '{entry.vm}' is not a known VM software (known: {', '.join(known.vms)})",
                "move the image into a known VM directory, or add it to known-vms",
            )
        )
    checksum = read_checksum(root, entry, problems)
    description = NO_DESCRIPTION
    if entry.description and descriptions:
        description, found = read_description(
            root / entry.description.relpath, entry.description.relpath, reserved
        )
        problems += found
    return ParsedImage(entry, name, checksum, description, problems)


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
