"""Read `.checksum` sidecars in every form `md5sum` writes, and match them to image files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_CHECKSUM_BYTES = 1 << 20

TEXT_RE = re.compile(r"(?P<escaped>\\?)(?P<md5>[0-9a-fA-F]{32}) (?P<mode>[ *])(?P<name>.+)")
TAG_RE = re.compile(r"(?P<escaped>\\?)MD5 \((?P<name>.+)\) = (?P<md5>[0-9a-fA-F]{32})")


@dataclass(frozen=True)
class ChecksumLine:
    """One `hash  name` pair; name is as md5sum wrote it (unescaped)."""

    md5: str
    name: str


@dataclass
class ChecksumFile:
    """Parsed sidecar: the lines, or the reason it could not be read (status invalid_checksum)."""

    lines: list[ChecksumLine] = field(default_factory=list)
    error: str | None = None


def parse_checksum(data: bytes) -> ChecksumFile:
    """Parse md5sum output: text, binary (`*name`) or `--tag` lines, any hex case, CRLF."""
    if len(data) > MAX_CHECKSUM_BYTES:
        return ChecksumFile(error=f"is {len(data)} bytes, far more than md5sum output for an image")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        return ChecksumFile(error=f"is not UTF-8 text (byte {exc.start})")
    parsed = ChecksumFile()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        match = TEXT_RE.fullmatch(line) or TAG_RE.fullmatch(line)
        if not match:
            shown = line[:40] + ("…" if len(line) > 40 else "")
            return ChecksumFile(
                error=f"line {number} is not md5sum output: '{shown}' "
                "(expected '<32 hex digits>  <file name>')"
            )
        name = _unescape(match["name"]) if match["escaped"] else match["name"]
        parsed.lines.append(ChecksumLine(match["md5"].lower(), name))
    if not parsed.lines:
        parsed.error = "is empty (expected the output of md5sum)"
    return parsed


def _unescape(name: str) -> str:
    """md5sum prefixes a line with `\\` when it escaped `\\` and newline in the name."""
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], name)


def member_key(listed: str, image_name: str) -> str:
    """Reduce a listed name to the member's name inside a directory image.

    Lines may be relative to the directory (`disk1.img`), prefixed by it (`img_dir/disk1.img`)
    or carry a longer path (`/star/data08/.../img_dir/disk1.img`).
    """
    parts = listed.replace("\\", "/").split("/")
    if image_name in parts[:-1]:
        index = len(parts) - 1 - parts[::-1].index(image_name)
        return "/".join(parts[index + 1 :])
    return listed.lstrip("./") if listed.startswith("./") else listed


def base_name(listed: str) -> str:
    """The last path component of a listed name, for single-file images."""
    return listed.replace("\\", "/").rsplit("/", 1)[-1]
