"""`MD5SUMS`, `SHA256SUMS`, `SHA512SUMS` at the site root: the verified files' digests in the
form `md5sum -c` / `sha256sum -c` read, with paths relative to the repository root.

So `cd REPOSITORY && sha256sum -c SITE/SHA256SUMS` checks a copy of the repository (or the
repository itself) against what the catalog verified. A file is listed only when it was
verified this run or earlier: a mismatched, unreadable, changing or unread file is left out,
and so is a file whose stored digests do not hold the algorithm yet (after the `digests`
setting gained one, until the file is read again).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.catalog.model import Catalog
from generator.digests import hex_of
from generator.site.deferred import encoded_parts

SUMS_NAMES = {"md5": "MD5SUMS", "sha256": "SHA256SUMS", "sha512": "SHA512SUMS"}
VERIFIED = "verified"
# coreutils writes a name holding a backslash, newline or carriage return escaped, with a
# backslash before the line (coreutils 9 escapes CR too; `generator.read.checksum` reads it).
ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r"})


def sums_parts(catalog: Catalog, algorithm: str) -> Iterator[bytes]:
    """The SUMS file of one algorithm of the catalog's digest set (its name: `SUMS_NAMES`):
    the lines of every verified file holding an `algorithm` digest, sorted as bytes, in parts
    (`deferred.encoded_parts`): at 100,000 images a SHA256SUMS is 11 MB, and its lines, text
    and bytes made at once were 36 MB at publishing's fullest point.

    Sorted as text: for ASCII lines (the usual ones) text order is byte order; any other line
    is sorted by its bytes after all (a name that is not UTF-8 sorts by the bytes the file
    system holds).
    """
    lines = sorted(
        sums_line(hex_value, path)
        for path, hex_value in verified_files(catalog, algorithm)
        if hex_value
    )
    if not all(line.isascii() for line in lines):
        lines.sort(key=_raw)
    return encoded_parts(lines, errors="surrogateescape")


def _raw(line: str) -> bytes:
    """The line's bytes in the file."""
    return line.encode("utf-8", "surrogateescape")


def verified_files(catalog: Catalog, algorithm: str) -> Iterator[tuple[str, str | None]]:
    """(repository-relative path, `algorithm` digest) of every file whose bytes matched their
    .checksum; a single file's digest is its image's field (a kept image unpacks its members
    only if asked)."""
    for image in catalog.images:
        if image.multi_file:
            for member in image.members:
                if member.status == VERIFIED:
                    yield f"{image.path}/{member.name}", hex_of(member.digests, algorithm)
        elif image.status == VERIFIED:
            yield image.path, getattr(image, algorithm)


def sums_line(hex_value: str, path: str) -> str:
    """`HEX  PATH` as md5sum prints it (text mode), escaped as coreutils does when needed
    (`translate` only for a name that needs it: it costs 4 us a name, and a build at 10,000
    images writes 20,000 lines). A name that is not UTF-8 holds the bytes the file system
    holds as surrogate escapes: the file's line is encoded with them (`sums_parts`)."""
    if "\\" not in path and "\n" not in path and "\r" not in path:
        return f"{hex_value}  {path}\n"
    return f"\\{hex_value}  {path.translate(ESCAPES)}\n"
