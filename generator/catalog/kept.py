"""Image records kept between runs: an image whose files, digests and settings are all as at an
earlier run gets that run's record back from the state instead of being parsed and judged again.

Parsing (even from kept reads) and judging the digests cost about 0.3 ms per image, paid for
every image when one description changed among 10,000; reading a kept record back costs a
fraction of that. The key covers what `make_image` depends on: the reads' key (the files'
fingerprints, the program, the parse settings), each member's digest facts and the run's
digest settings. Problems an image gets from the other images or from the scan (case variants,
who can write its files) are added afterwards, so they never hide in a kept record.

Never kept: a record whose reads are not kept (racy, secret, unreadable: see
`read.stored_reads`), one with the private text of a description, and one still changing or
pending.

Vouched records: a record whose every file was read or reused whole (all the digests the
settings ask for, no error) is kept under its reads' key alone (`vouched_key`). A later build
finds it before verifying anything (`vouched_images`): such an image's files need no digest plan
and no file row, since their digests can have changed only by being read again, and a run that
is about to read a file again first drops the kept record of its image
(`session.verify_images`). Builds that scrub (a rehash policy) look every image up the long way.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from pathlib import Path

from generator.catalog.image_record import (
    BadRecord,
    image_text,
    kept_image,
    kept_value,
    record_token,
)
from generator.catalog.model import Image, make_image, with_fields
from generator.digests import has_all
from generator.read.parse import ParseRules, parsed_in_order
from generator.read.scan import ImageEntry
from generator.read.stored_reads import ReadStore, read_key
from generator.verify.hashing import FileDigest
from generator.verify.report import MARSHAL_VERSION
from generator.verify.verdict import evaluate

PASSING = frozenset({"changing", "pending"})
LOOKUP_BATCH = 2000  # kept records asked of the state in one query


def catalog_images(
    root: Path,
    entries: list[ImageEntry],
    rules: ParseRules,
    digests: dict[str, FileDigest] | None,
    kept: ReadStore | None = None,
    settings: str = "",
    algorithms: tuple[str, ...] = (),
    reads: list[str | None] | None = None,
) -> list[Image]:
    """Each entry's Image: kept when its key matches, else parsed, judged and (if it lasts) kept,
    then held as a later build reads it back (a `KeptImage`: its heavy fields packed).

    The images not kept are parsed as they are taken (`parsed_in_order`): read on every core
    while this process makes and keeps the ones before. A record whose files were all read whole (every digest of `algorithms`,
    no error) is kept under its vouched key (`vouched_key`), any other under its digests too.
    `reads`: the entries' reads' keys, when `vouched_images` made them already.
    """
    if reads is None:
        reads = read_keys(entries, kept, rules.settings + settings)
    keys = [image_key(r, entry, digests) for r, entry in zip(reads, entries, strict=True)]
    images = _kept_images(kept, entries, keys) if kept is not None else [None] * len(entries)
    missing = [n for n, image in enumerate(images) if image is None]
    parsed = parsed_in_order(root, [entries[n] for n in missing], rules)
    with contextlib.closing(parsed):
        for n, parsed_image in zip(missing, parsed, strict=True):
            image = make_image(parsed_image, evaluate(entries[n], parsed_image.checksum, digests))
            if kept is not None:  # a build: pages are keyed by the token (`Image.record_token`)
                text = image_text(image)
                image = with_fields(image, record_token=record_token(text))
                key = keys[n]
                if key is not None and parsed_image.lasting and _lasting(image):
                    if _read_whole(entries[n], digests, algorithms):
                        key = vouched_key(reads[n])
                    value = kept_value(text)
                    kept.put(entries[n].id, key, value)
                    image = _kept(value, image.id) or image  # held packed, as builds read it
            images[n] = image
    return images  # type: ignore[return-value]  # every None was replaced above


def vouched_images(
    entries: list[ImageEntry], kept: ReadStore, settings: str
) -> tuple[list[Image | None], list[str | None]]:
    """The record of each entry kept under its vouched key (None for the others), and the
    entries' reads' keys: these images are as their records say without a digest being looked at
    (see the module docstring)."""
    reads = read_keys(entries, kept, settings)
    return _kept_images(kept, entries, list(map(vouched_key, reads))), reads


def read_keys(entries: list[ImageEntry], kept: ReadStore | None, settings: str) -> list[str | None]:
    """Each entry's reads' key (`read_key`); all None without a store to keep records in."""
    if kept is None:
        return [None] * len(entries)
    return [read_key(entry, settings, kept.now) for entry in entries]


def vouched_key(reads: str | None) -> str | None:
    """The key of a record whose files' digests are all known (None: its files are racy)."""
    if reads is None:
        return None
    return hashlib.sha256(f"vouched\0{reads}".encode()).hexdigest()


def _read_whole(
    entry: ImageEntry, digests: dict[str, FileDigest] | None, algorithms: tuple[str, ...]
) -> bool:
    """Every member read (or reused) with every digest of the settings, and nothing else to
    say: the image's verdict can only change when a member is read again."""
    if digests is None or not algorithms:
        return False
    for member in entry.members:
        found = digests.get(member.relpath)
        if found is None or found.error or found.changing or found.vanished or found.deferred:
            return False
        if not has_all(found.digests, algorithms):
            return False
    return True


def image_key(
    reads: str | None, entry: ImageEntry, digests: dict[str, FileDigest] | None
) -> str | None:
    """The key of an image's record: its reads' key (None when its files changed too recently
    to trust) and its members' digest outcomes."""
    if reads is None or digests is None:
        return None
    facts = [_facts(digests.get(member.relpath)) for member in entry.members]
    try:
        data = marshal.dumps(facts, MARSHAL_VERSION)  # value bytes: no back-references
    except ValueError:  # a value of another type than the outcome's usual ones
        data = repr(facts).encode()
    digest = hashlib.sha256(f"{reads}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def _facts(found: FileDigest | None) -> tuple | None:
    """What a member's digest outcome tells `evaluate` (not how it was obtained), in plain
    values for `marshal` (7 us a member as repr, 1.4 us so)."""
    if found is None:
        return None
    return (
        tuple(map(tuple, found.digests)),
        found.error,
        found.changing,
        found.vanished,
        found.read_at,
        found.deferred,
    )


def _kept_images(
    kept: ReadStore, entries: list[ImageEntry], keys: list[str | None]
) -> list[Image | None]:
    """The kept record of each entry whose key it was kept under (None for the others), looked
    up `LOOKUP_BATCH` entries to a query."""
    images: list[Image | None] = []
    for start in range(0, len(entries), LOOKUP_BATCH):
        part = slice(start, start + LOOKUP_BATCH)
        batch = list(zip(entries[part], keys[part], strict=True))
        found = kept.get_many([(entry.id, key) for entry, key in batch if key is not None])
        images += [_kept(found.get(entry.id), entry.id) for entry, _ in batch]
    return images


def _kept(value: str | bytes | None, image_id: str) -> Image | None:
    if value is None:
        return None
    try:
        image = kept_image(value)
    except BadRecord:
        return None  # damaged: built again, and kept anew
    return image if image.id == image_id else None


def _lasting(image: Image) -> bool:
    return not image.private_text and image.status not in PASSING
