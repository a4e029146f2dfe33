"""What was read from an image's files, kept by their fingerprints so unchanged files stay shut.

Reading a description means decoding, parsing front matter, redacting and rendering Markdown;
reading headers means opening the image. For an image whose files (image, members, sidecars)
all keep their fingerprint (size, mtime, ctime, inode) and with the same program and settings,
the result is the same, so the state keeps it (one row per image) and a later run takes it from
there without opening any of them.

Not kept: a description that held a secret (the members-only copy needs the text as written,
which is never stored, so such an image is read again every run), one shown as plain text
because Markdown ran out of time (a verdict that depends on the load), a file unreadable this
run, and anything changed within RACY_SECONDS of the read (a write in the same timestamp tick
would keep its fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from generator.identity import program_identity
from generator.problems import Problem, from_rows, to_rows
from generator.read.description import Description
from generator.read.format_tables import ImageFormat
from generator.read.scan import FileStat, ImageEntry
from generator.redact import redact_text

RACY_SECONDS = 2.0  # as for digests (`verify.cached`): timestamps may be this coarse
NOT_KEPT = frozenset({"secret_redacted", "description_too_complex", "unreadable_description"})


class ReadStore(Protocol):
    """Where kept reads live (the state database): one value per image, under a key (JSON
    text for reads, bytes for kept image records: `catalog.image_record`)."""

    now: float

    def get(self, image: str, key: str) -> str | bytes | None:
        """The value kept for `image` if it was kept under exactly `key`."""

    def has(self, image: str, key: str) -> bool:
        """Whether a value is kept for `image` under exactly `key` (intact or not)."""

    def get_many(self, wanted: Sequence[tuple[str, str]]) -> dict[str, str | bytes]:
        """The values kept for these (image, key) pairs, by image: those kept under that key."""

    def put(self, image: str, key: str, value: str | bytes) -> None:
        """Keep `value` for `image` under `key`, replacing what was kept before."""


@dataclass(frozen=True)
class FileReads:
    """Everything an image's files said: header facts, `.checksum` bytes, the description."""

    format: ImageFormat
    format_problems: tuple[Problem, ...]
    checksum: bytes | None  # None: no `.checksum`, or unreadable (see `checksum_error`)
    checksum_error: str | None
    description: Description
    description_problems: tuple[Problem, ...]


def read_key(entry: ImageEntry, settings: str, now: float) -> str | None:
    """The key of an image's reads; None when one of its files changed too recently to trust."""
    files = [*entry.members, entry.checksum, entry.description]
    stats = [f for f in files if f is not None]
    if any(now - max(f.mtime_ns, f.ctime_ns) / 1e9 < RACY_SECONDS for f in stats):
        return None
    parts = [program_identity(), settings, entry.relpath, str(entry.is_dir), str(entry.unreadable)]
    parts += [_fingerprint(f) if f is not None else "-" for f in files]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _fingerprint(stat: FileStat) -> str:
    return f"{stat.relpath}:{stat.size}:{stat.mtime_ns}:{stat.ctime_ns}:{stat.inode}"


def keepable(reads: FileReads) -> bool:
    """Worth keeping, and safe to: a `.checksum` that holds a secret is never stored."""
    problems = (*reads.format_problems, *reads.description_problems)
    if reads.checksum_error is not None or any(p.code in NOT_KEPT for p in problems):
        return False
    data = reads.checksum or b""
    return not any(redact_text(data.decode(code, "replace"))[1] for code in ("utf-8", "latin-1"))


def encode(reads: FileReads) -> str:
    """JSON of what was read (descriptions are redacted: `private_text` is never kept)."""
    fmt, description = reads.format, reads.description
    checksum = None if reads.checksum is None else reads.checksum.decode("latin-1")
    return json.dumps(
        {
            "format": [fmt.format, fmt.virtual_size_bytes, fmt.compression, fmt.members],
            "format_problems": to_rows(reads.format_problems),
            "checksum": checksum,
            "description": [description.fields, description.html, description.text],
            "description_problems": to_rows(reads.description_problems),
        },
        ensure_ascii=False,
        allow_nan=False,
    )


def decode(value: str) -> FileReads | None:
    """What `encode` kept; None when the value cannot be used (then the files are read)."""
    try:
        data = json.loads(value)
        fmt, checksum = data["format"], data["checksum"]
        fields, html, text = data["description"]
        return FileReads(
            ImageFormat(fmt[0], fmt[1], fmt[2], dict(fmt[3])),
            from_rows(data["format_problems"]),
            None if checksum is None else checksum.encode("latin-1"),
            None,
            Description(dict(fields), html, text) if fields or html or text else Description(),
            from_rows(data["description_problems"]),
        )
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):  # a damaged row
        return None
