"""Read `.checksum` sidecars in every form people write, and match them to image files.

The rule: where GNU `md5sum -c`, run in the VM directory, says a file is OK, the catalog says
`verified`; where it reports a digest mismatch, the catalog never does. So lines are first read
exactly as md5sum reads them (`_gnu_entry`), and the forms it cannot read (a byte order mark,
`md5sum -z` output, a bare hash) are added only for files those lines do not mention.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import ClassVar

from generator.digests import CHECKED, Digest

MAX_CHECKSUM_BYTES = 1 << 20
HEX = frozenset("0123456789abcdefABCDEF")
MIN_LINE = 34  # md5sum: 32 hex digits, a blank and at least one character of name
COMMON = re.compile(r"([0-9a-fA-F]{32}) [ *](.+)", re.DOTALL)
BOM = "\xef\xbb\xbf"  # UTF-8 byte order mark, one character per byte
UNESCAPES = {"\\": "\\", "n": "\n", "r": "\r"}
MAX_CHECKSUM_LINES = 10_000  # more members than any image directory holds


@dataclass(frozen=True)
class ChecksumLine:
    """One entry: `name` as md5sum reads it (unescaped), None for a bare hash.

    `hex` is a digest of the file's `algorithm` (MD5: the spec's `.checksum` is md5sum output).
    `standard` is False for the entries md5sum -c cannot read as written (our additions).
    """

    hex: str
    name: str | None
    number: int = 1
    standard: bool = True


@dataclass
class ChecksumFile:
    """Parsed sidecar: its entries, what is odd about it, or why it is unusable (`error`).

    `expected` (member relpath -> distinct expected digests) and the lists below it are filled
    by `match_files`, which knows the image; several digests for one file means md5sum -c
    reports a mismatch for it. Every line holds a digest of `algorithm`.
    """

    algorithm: ClassVar[str] = CHECKED
    lines: list[ChecksumLine] = field(default_factory=list)
    error: str | None = None
    skipped: list[int] = field(default_factory=list)
    oddities: list[str] = field(default_factory=list)
    crlf: bool = False
    expected: dict[str, tuple[Digest, ...]] = field(default_factory=dict)
    absolute: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    renamed: str | None = None

    @property
    def plain(self) -> bool:
        """True when md5sum -c (old versions too) reads every line as written, without warnings."""
        return not (self.skipped or self.oddities or self.crlf) and all(
            line.standard and line.name for line in self.lines
        )


def parse_checksum(data: bytes) -> ChecksumFile:
    """Parse md5sum output in every form: text, binary, `--tag`, BSD, `-z`, bare hash, BOM, CRLF."""
    if len(data) > MAX_CHECKSUM_BYTES:
        return ChecksumFile(error=f"is {len(data)} bytes, far more than md5sum output for an image")
    text = data.decode("latin-1")  # one character per byte, as md5sum counts; names: `_name`
    if text.count("\n") > MAX_CHECKSUM_LINES:
        return ChecksumFile(error=f"has more than {MAX_CHECKSUM_LINES} lines")
    parsed = ChecksumFile(crlf="\r\n" in text)
    bsd: list[bool | None] = [None]  # md5sum's "bsd reversed" state, shared by all lines
    records = text.split("\n")
    if records and records[-1] == "":
        records.pop()
    for number, record in enumerate(records, start=1):
        _read_record(parsed, number, record, bsd)
    if not parsed.lines and not text.strip():
        parsed.error = "is empty (expected the output of md5sum)"
    elif not parsed.lines:
        parsed.error = "holds no checksum line (expected '<32 hex digits>  <file name>')"
    return parsed


def _read_record(parsed: ChecksumFile, number: int, record: str, bsd: list[bool | None]) -> None:
    """One newline-terminated record: md5sum's reading first, then the forms it cannot read."""
    if record.startswith("#"):
        parsed.skipped.append(number)
        return
    line = record[:-1] if record.endswith("\r") else record
    head, _, tail = line.partition("\0")  # md5sum stops reading a line at a NUL
    entry = _gnu_entry(head, bsd)
    if entry and "\t" in head[: len(head) - len(entry[1])]:
        _odd(parsed, "separates hash and name with a tab")
    if entry is None and number == 1 and head.startswith(BOM):
        entry = _extra_entry(
            parsed, head[3:], "starts with a byte order mark, which md5sum -c rejects"
        )
        standard = False
    else:
        standard = True
    if entry is None:
        entry = _bare_hash(parsed, head)
        standard = False
    if entry is None:
        parsed.skipped.append(number)
    else:
        parsed.lines.append(ChecksumLine(entry[0].lower(), _name(entry[1]), number, standard))
    for segment in (s for s in tail.split("\0") if s):
        more = _extra_entry(parsed, segment, "holds several NUL-terminated lines (md5sum -z); "
                            "md5sum -c reads only the first")  # fmt: skip
        if more:
            parsed.lines.append(ChecksumLine(more[0].lower(), _name(more[1]), number, False))


def _name(raw: str | None) -> str | None:
    """The name as the file system spells it: UTF-8, other bytes kept as surrogates."""
    return None if raw is None else raw.encode("latin-1").decode("utf-8", "surrogateescape")


def _odd(parsed: ChecksumFile, what: str) -> None:
    if what not in parsed.oddities:
        parsed.oddities.append(what)


def _extra_entry(parsed: ChecksumFile, text: str, why: str) -> tuple[str, str | None] | None:
    """An entry md5sum would not read here, parsed as if it stood on a line of its own."""
    entry = _gnu_entry(text, [None]) or _bare_hash(parsed, text)
    if entry:
        _odd(parsed, why)
    return entry


def _bare_hash(parsed: ChecksumFile, text: str) -> tuple[str, None] | None:
    """A line holding only 32 hex digits: a hash without a file name."""
    digits = text.strip(" \t\r")
    if len(digits) == 32 and set(digits) <= HEX:
        _odd(parsed, "gives a hash without a file name, which md5sum -c cannot read")
        return digits, None
    return None


def _gnu_entry(s: str, bsd: list[bool | None]) -> tuple[str, str] | None:
    """(digest, name) exactly as GNU md5sum -c reads one line, or None where it rejects it.

    Leading blanks are skipped; a `\\` first means an escaped name; `MD5 (name) = hash` and
    `MD5(name)= hash` are the tagged forms. Otherwise 32 hex digits, a blank (space or tab),
    then ` ` or `*` and the name, or, in BSD `md5 -r` form, the name at once. md5sum refuses
    to mix the last two in one file; `bsd[0]` keeps which one the file started with.
    """
    if bsd[0] is not True and (common := COMMON.fullmatch(s)):  # `HASH  name`: most lines
        bsd[0] = False
        return common[1], common[2]
    i = len(s) - len(s.lstrip(" \t"))
    escaped = s[i : i + 1] == "\\"
    i += escaped
    if s.startswith("MD5", i):
        return _tagged(s, i + 3, escaped)
    if len(s) - i < MIN_LINE + (s[i : i + 1] == "\\"):
        return None
    digest, i = s[i : i + 32], i + 32
    if s[i] not in " \t":
        return None
    i += 1
    if len(s) - i == 1 or s[i] not in " *":
        if bsd[0] is False:
            return None
        bsd[0] = True
    elif bsd[0] is not True:
        bsd[0] = False
        i += 1
    name = _unescape(s[i:]) if escaped else s[i:]
    if name is None or not set(digest) <= HEX:
        return None
    return digest, name


def _tagged(s: str, i: int, escaped: bool) -> tuple[str, str] | None:
    """`MD5 (name) = hash`: the name runs to the last `)`, as md5sum reads it."""
    i += s[i : i + 1] == " "
    if s[i : i + 1] != "(":
        return None
    rest = s[i + 1 :]
    close = rest.rfind(")")
    if close < 0:
        return None
    name = _unescape(rest[:close]) if escaped else rest[:close]
    after = rest[close + 1 :].lstrip(" \t")
    digest = after[1:].lstrip(" \t")
    if name is None or not after.startswith("=") or len(digest) != 32 or not set(digest) <= HEX:
        return None
    return digest, name


def _unescape(name: str) -> str | None:
    """md5sum writes `\\\\`, `\\n` and `\\r` in escaped names; any other escape is invalid."""
    out, chars = [], iter(name)
    for char in chars:
        if char == "\\":
            char = UNESCAPES.get(next(chars, ""), "")
            if not char:
                return None
        out.append(char)
    return "".join(out)


def escape_line(hex_digest: str, name: str) -> str:
    """A line md5sum -c reads back as (digest, name), escaping as md5sum does.

    Binary mode (`*`, the same bytes on Linux) so that no two blanks follow each other: a
    browser that collapses white space when text is selected cannot change the line.
    """
    if not any(c in name for c in "\\\n\r"):
        return f"{hex_digest} *{name}"
    escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"\\{hex_digest} *{escaped}"


def member_key(listed: str, image_name: str) -> str:
    """Reduce a listed name to the member's name inside a directory image.

    Lines may be relative to the directory (`disk1.img`), prefixed by it (`img_dir/disk1.img`)
    or carry a longer path (`/star/data08/.../img_dir/disk1.img`).
    """
    parts = listed.replace("\\", "/").split("/")
    if image_name in parts[:-1]:
        index = len(parts) - 1 - parts[::-1].index(image_name)
        return "/".join(parts[index + 1 :])
    return strip_dot(listed)


def strip_dot(name: str) -> str:
    """`./a.img` -> `a.img` (any number of `./` in front)."""
    while name.startswith("./"):
        name = name[2:].lstrip("/")
    return name


def base_name(listed: str) -> str:
    """The last path component of a listed name, for single-file images."""
    return listed.replace("\\", "/").rsplit("/", 1)[-1]


def match_files(parsed: ChecksumFile, root: str, vm: str, name: str, members: list[str]) -> None:
    """Fill `parsed.expected` for an image's member relpaths (`vm/name` for a single file).

    For each file the first non-empty tier wins: entries md5sum reads and that name exactly
    this file from the VM directory; our additions naming it exactly; any entry naming it by its
    base name or directory-relative name; a bare hash; the only entry of a renamed image.
    """
    single = members == [f"{vm}/{name}"]
    only = parsed.lines[0] if len(parsed.lines) == 1 else None
    if single and only and only.standard and only.name == name:  # the usual case, at once
        parsed.expected[members[0]] = (Digest(parsed.algorithm, only.hex),)
        return
    sidecars = {f"{name}.checksum", f"{name}.txt"}
    named = [
        ln
        for ln in parsed.lines
        if ln.name is not None and (single or member_key(ln.name, name) not in sidecars)
    ]
    if not single and not named:
        parsed.error = (
            "gives no file names, so it cannot say which files of the directory it is for"
        )
        return
    used: set[int] = set()
    for member in members:
        tiers = _tiers(parsed, root, vm, name, member, named, single)
        found = next((t for t in tiers if t), [])
        used.update(id(ln) for ln in found)
        if found:
            hexes = dict.fromkeys(ln.hex for ln in found)
            parsed.expected[member] = tuple(Digest(parsed.algorithm, h) for h in hexes)
    if single and not parsed.expected and named:
        parsed.renamed = named[0].name
        parsed.expected[members[0]] = (Digest(parsed.algorithm, named[0].hex),)
        used.add(id(named[0]))
    for line in named:
        if id(line) in used and line.name and line.name.startswith("/"):
            parsed.absolute.append(line.name)
        elif id(line) not in used:
            parsed.extra.append(line.name or "")


def _tiers(
    parsed: ChecksumFile,
    root: str,
    vm: str,
    name: str,
    member: str,
    named: list[ChecksumLine],
    single: bool,
) -> list[list[ChecksumLine]]:
    relative = member[len(vm) + 1 :]
    loose = (
        [ln for ln in named if base_name(ln.name or "") == name]
        if single
        else [ln for ln in named if member_key(ln.name or "", name) == relative[len(name) + 1 :]]
    )
    exact = [ln for ln in loose if _names(ln.name or "", root, vm, member)]
    bare = [ln for ln in parsed.lines if ln.name is None] if single else []
    return [[ln for ln in exact if ln.standard], exact, loose, bare]


def _names(listed: str, root: str, vm: str, member: str) -> bool:
    """True when md5sum -c, run in the VM directory, would read `member` for this name."""
    if listed.startswith("/"):
        return os.path.realpath(listed) == os.path.realpath(os.path.join(root, member))
    return posixpath.normpath(f"{vm}/{listed}") == member
