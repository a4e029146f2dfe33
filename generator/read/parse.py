"""Second stage: give each scanned image its parsed name, sidecar contents and header facts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from generator.problems import Problem, problem
from generator.read.case_variants import attach_case_variants
from generator.read.check_command import create_command
from generator.read.checksum import MAX_CHECKSUM_BYTES, ChecksumFile, match_files, parse_checksum
from generator.read.description import Description, read_description
from generator.read.format_tables import FormatRules, ImageFormat
from generator.read.names import ImageName, KnownValues, parse_name
from generator.read.safe_open import read_scanned
from generator.read.scan import FileStat, ImageEntry, ScanResult
from generator.read.trust import TRUST_CODES

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
    parsed = [parse_image(scanned.root, entry, rules) for entry in scanned.images]
    trust = [p for p in scanned.problems if p.code in TRUST_CODES]
    if trust:
        _attach_trust(parsed, trust)
    attach_case_variants(parsed)
    return parsed


def _attach_trust(parsed: list[ParsedImage], trust: list[Problem]) -> None:
    """Show on each image page who else could replace its files (the scan found them)."""
    by_path: dict[str, list[Problem]] = {}
    for found in trust:
        by_path.setdefault(found.path, []).append(found)
    for image in parsed:
        entry = image.entry
        paths = [entry.relpath, *(m.relpath for m in entry.members)]
        paths += [s.relpath for s in (entry.checksum, entry.description) if s is not None]
        image.problems += [p for path in dict.fromkeys(paths) for p in by_path.get(path, ())]


def parse_image(root: Path, entry: ImageEntry, rules: ParseRules) -> ParsedImage:
    """Name fields, sidecar contents and header facts of one image, with their problems."""
    name, problems = parse_name(entry.relpath, entry.name, entry.is_dir, rules.known)
    if entry.vm.lower() not in rules.known.vms:
        known = ", ".join(rules.known.vms)
        problems.append(problem("unknown_vm", entry.relpath, vm=entry.vm, known=known))
    image_format = NO_FORMAT
    if rules.headers:
        from generator.read.headers import inspect_image  # header readers: not for `verify`

        image_format, found = inspect_image(root, entry, name, rules.formats)
        problems += found
    checksum = read_checksum(root, entry, problems)
    description = NO_DESCRIPTION
    if entry.description and rules.descriptions:
        relpath = entry.description.relpath
        description, found = read_description(
            root / relpath, relpath, rules.reserved, entry.description, root
        )
        problems += found
    return ParsedImage(entry, name, checksum, description, image_format, problems)


def read_small(root: Path, scanned: FileStat, limit: int) -> bytes:
    """Up to `limit` bytes of a sidecar that must still be the file the scan saw.

    Reads only what the scan's size promises (plus one byte, to notice growth): a plain
    `read(limit)` would allocate `limit` bytes up front for every sidecar.
    """
    return read_scanned(root, os.path.join(root, scanned.relpath), scanned, limit)


def read_checksum(root: Path, entry: ImageEntry, problems: list[Problem]) -> ChecksumFile | None:
    """Read and parse the `.checksum` sidecar; garbage is an `invalid_checksum` error."""
    if entry.checksum is None:
        return None
    relpath = entry.checksum.relpath
    try:
        parsed = parse_checksum(read_small(root, entry.checksum, MAX_CHECKSUM_BYTES + 1))
    except OSError as exc:
        parsed = ChecksumFile(error=f"cannot be read: {exc.strerror}")
    if not parsed.error:
        members = [m.relpath for m in entry.members]
        match_files(parsed, str(root), entry.vm, entry.name, members)
    if parsed.error:
        command = create_command(entry)
        problems.append(problem("invalid_checksum", relpath, error=parsed.error, command=command))
    return parsed
