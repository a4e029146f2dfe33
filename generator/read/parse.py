"""Second stage: give each scanned image its parsed name, sidecar contents and header facts."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path

from generator import parallel
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
    """Name fields, sidecar contents and header facts of one image, with their problems; what
    its files said is kept in the rules' store (when none of them changed lately) and taken
    from there as long as none of them changes."""
    return parse_images(root, [entry], rules)[0]


def parse_images(root: Path, entries: list[ImageEntry], rules: ParseRules) -> list[ParsedImage]:
    """`parse_image` of each entry, the same results in the same order."""
    with contextlib.closing(parsed_in_order(root, entries, rules)) as parsed:
        return list(parsed)


def parsed_in_order(
    root: Path, entries: list[ImageEntry], rules: ParseRules
) -> Generator[ParsedImage]:
    """`parse_image` of each entry, in order, as the caller takes them: the files of many images
    are read on every core (`generator.parallel`) while the caller deals with those before, and
    only a few chunks of reads wait at any time. The state is used here only, in this process.

    Close it (`contextlib.closing`) when not taking every image: that stops the workers.
    """
    store = rules.store if rules.headers and rules.descriptions else None
    keys = [read_key(e, rules.settings, store.now) if store else None for e in entries]
    # Which reads the state keeps is asked first, and they are decoded only as handed on: a
    # build that re-judges every image (a new digest setting) would otherwise hold them all.
    # Names are parsed as handed on too (and by the worker that reads the image's files).
    kept_at = [
        store is not None and k is not None and store.has(e.id, k)
        for e, k in zip(entries, keys, strict=True)
    ]
    work = [(entry, keys[n] is not None) for n, entry in enumerate(entries) if not kept_at[n]]
    worker = functools.partial(_read_fresh, root, replace(rules, store=None))
    cores = parallel.cores() if rules.descriptions else 1  # `verify` reads only a `.checksum`
    chunks = parallel.shared_chunks(worker, work, cores)
    fresh = (result for chunk in chunks for result in chunk)
    try:
        for n, entry in enumerate(entries):
            found = _kept(store, entry, keys[n]) if kept_at[n] else None
            if found is None:  # read by a worker; here when what the state kept is damaged
                reads, value = worker((entry, True)) if kept_at[n] else next(fresh)
                if value is not None:
                    store.put(entry.id, keys[n], value)
                found = reads, value is not None
            yield _parsed(root, entry, *_named(entry, rules), *found)
    finally:
        chunks.close()


def _kept(
    store: ReadStore | None, entry: ImageEntry, key: str | None
) -> tuple[FileReads, bool] | None:
    """What an earlier run kept of the image's files under `key`; None: read them."""
    value = store.get(entry.id, key) if store is not None and key is not None else None
    kept = decode(value) if value is not None else None
    return (kept, True) if kept is not None else None


def _read_fresh(
    root: Path, rules: ParseRules, work: tuple[ImageEntry, bool]
) -> tuple[FileReads, str | None]:
    """Read one image's files (in a worker, perhaps); with what to keep of them, if they may be
    (`keyed`: none of its files is new enough to be changing still)."""
    entry, keyed = work
    reads = read_files(root, entry, _named(entry, rules)[0], rules)
    return reads, encode(reads) if keyed and keepable(reads) else None


def _named(entry: ImageEntry, rules: ParseRules) -> tuple[ImageName, list[Problem]]:
    """The fields of an image's name, and the problems with them."""
    name, problems = parse_name(entry.relpath, entry.name, entry.is_dir, rules.known)
    if entry.vm.lower() not in rules.known.vms:
        known = ", ".join(rules.known.vms)
        problems.append(problem("unknown_vm", entry.relpath, vm=entry.vm, known=known))
    return name, problems


def _parsed(
    root: Path,
    entry: ImageEntry,
    name: ImageName,
    problems: list[Problem],
    reads: FileReads,
    lasting: bool,
) -> ParsedImage:
    """The parsed image from its name and what its files said (problems in the usual order)."""
    problems += reads.format_problems
    checksum = checksum_of(root, entry, reads.checksum, reads.checksum_error, problems)
    problems += reads.description_problems
    return ParsedImage(entry, name, checksum, reads.description, reads.format, problems, lasting)


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
