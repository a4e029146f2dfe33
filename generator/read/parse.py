"""Second stage: give each scanned image its parsed name, sidecar contents and header facts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from generator.problems import Problem, problem
from generator.read.check_command import create_command
from generator.read.checksum import MAX_CHECKSUM_BYTES, ChecksumFile, match_files, parse_checksum
from generator.read.description import Description, read_description
from generator.read.format_tables import FormatRules, ImageFormat
from generator.read.names import ImageName, KnownValues, parse_name
from generator.read.safe_open import read_scanned
from generator.read.scan import FileStat, ImageEntry
from generator.read.stored_reads import FileReads, ReadStore, decode, encode, keepable, read_key

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
    lasting: bool = False  # what its files said may be kept (nothing racy, secret or unreadable)


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
    store: ReadStore | None = None  # reads kept by an earlier run (the state's), if any
    settings: str = ""  # what else the reads depend on (format tables, reserved keys)


def parse_image(root: Path, entry: ImageEntry, rules: ParseRules) -> ParsedImage:
    """Name fields, sidecar contents and header facts of one image, with their problems."""
    name, problems = parse_name(entry.relpath, entry.name, entry.is_dir, rules.known)
    if entry.vm.lower() not in rules.known.vms:
        known = ", ".join(rules.known.vms)
        problems.append(problem("unknown_vm", entry.relpath, vm=entry.vm, known=known))
    reads, lasting = _reads(root, entry, name, rules)
    problems += reads.format_problems
    checksum = checksum_of(root, entry, reads.checksum, reads.checksum_error, problems)
    problems += reads.description_problems
    return ParsedImage(entry, name, checksum, reads.description, reads.format, problems, lasting)


def _reads(
    root: Path, entry: ImageEntry, name: ImageName, rules: ParseRules
) -> tuple[FileReads, bool]:
    """What the image's files say, kept from an earlier run when none of them changed; and
    whether it may be kept."""
    store = rules.store if rules.headers and rules.descriptions else None
    key = read_key(entry, rules.settings, store.now) if store is not None else None
    if key is not None:
        value = store.get(entry.id, key)
        kept = decode(value) if value is not None else None
        if kept is not None:
            return kept, True
    reads = read_files(root, entry, name, rules)
    lasting = key is not None and keepable(reads)
    if lasting:
        store.put(entry.id, key, encode(reads))
    return reads, lasting


def read_files(root: Path, entry: ImageEntry, name: ImageName, rules: ParseRules) -> FileReads:
    """Open and read the image's headers and sidecars (as the rules ask)."""
    image_format, format_problems = NO_FORMAT, []
    if rules.headers:
        from generator.read.headers import inspect_image  # header readers: not for `verify`

        image_format, format_problems = inspect_image(root, entry, name, rules.formats)
    data, error = None, None
    if entry.checksum is not None:
        try:
            data = read_small(root, entry.checksum, MAX_CHECKSUM_BYTES + 1)
        except OSError as exc:
            error = f"cannot be read: {exc.strerror}"
    description, found = NO_DESCRIPTION, []
    if entry.description and rules.descriptions:
        relpath = entry.description.relpath
        description, found = read_description(
            root / relpath, relpath, rules.reserved, entry.description, root
        )
    return FileReads(image_format, tuple(format_problems), data, error, description, tuple(found))


def read_small(root: Path, scanned: FileStat, limit: int) -> bytes:
    """Up to `limit` bytes of a sidecar that must still be the file the scan saw.

    Reads only what the scan's size promises (plus one byte, to notice growth): a plain
    `read(limit)` would allocate `limit` bytes up front for every sidecar.
    """
    return read_scanned(root, os.path.join(root, scanned.relpath), scanned, limit)


def checksum_of(
    root: Path, entry: ImageEntry, data: bytes | None, error: str | None, problems: list[Problem]
) -> ChecksumFile | None:
    """Parse the `.checksum` sidecar's bytes; garbage is an `invalid_checksum` error."""
    if entry.checksum is None:
        return None
    relpath = entry.checksum.relpath
    parsed = ChecksumFile(error=error) if data is None else parse_checksum(data)
    if not parsed.error:
        members = [m.relpath for m in entry.members]
        match_files(parsed, str(root), entry.vm, entry.name, members)
    if parsed.error:
        command = create_command(entry)
        problems.append(problem("invalid_checksum", relpath, error=parsed.error, command=command))
    return parsed
