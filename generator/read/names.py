"""The naming convention, parsed in one place.

`<os>_<arch>_<word size>_<star lib>_<max size>[_<detail>][.<ext>]`: fields are separated by `_`;
dots belong to a field (`sl5.3`), and only the last `_` segment can hold the extension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from generator.convention import OS_RE, STAR_LIB_USUAL_RE, parse_max_size
from generator.problems import Problem, problem
from generator.read.format_tables import COMPRESSION_SUFFIXES

ARCH_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
WORD_RE = re.compile(r"\d+")
STAR_LIB_RE = re.compile(r"[A-Za-z][A-Za-z0-9.-]*")


class ImageName(NamedTuple):
    """The fields of one image name; a field is None when it could not be parsed.

    A NamedTuple: one is made per image per run, and it builds 4x faster than a frozen dataclass.
    """

    stem: str
    extension: str | None
    os: str | None = None
    os_family: str | None = None
    os_version: str | None = None
    arch: str | None = None
    word_size: int | None = None
    star_lib: str | None = None
    max_size: str | None = None
    max_size_bytes: int | None = None
    detail: str | None = None

    @property
    def valid(self) -> bool:
        """True when every mandatory field parsed."""
        required = (self.os, self.arch, self.word_size, self.star_lib, self.max_size)
        return all(v is not None for v in required)


@dataclass(frozen=True)
class KnownValues:
    """Well-formed values outside these sets give warnings, not errors."""

    vms: tuple[str, ...]
    os_families: tuple[str, ...]
    arches: tuple[str, ...]
    word_sizes: tuple[int, ...]


def split_extension(filename: str) -> tuple[str, str | None]:
    """Split `name.img.gz` into stem and extension, looking only past the last `_`."""
    head, sep, last = filename.rpartition("_")
    pieces = last.split(".")
    if len(pieces) == 1 or not pieces[0]:
        return filename, None
    take = 2 if pieces[-1].lower() in COMPRESSION_SUFFIXES and len(pieces) > 2 else 1
    extension = ".".join(pieces[-take:])
    stem = head + sep + ".".join(pieces[:-take])
    return stem, extension or None


def parse_name(
    path: str, filename: str, is_dir: bool, known: KnownValues
) -> tuple[ImageName, list[Problem]]:
    """Parse one image name into fields plus the problems it has."""
    stem, extension = (filename, None) if is_dir else split_extension(filename)
    problems: list[Problem] = []
    if not is_dir and extension is None:
        problems.append(problem("missing_extension", path))
    parts = stem.split("_", 5)
    if len(parts) < 5 or not all(parts[:5]):
        count = len([p for p in parts if p])
        problems.append(problem("name_too_few_fields", path, stem=stem, count=count))
        return ImageName(stem=stem, extension=extension), problems
    fields: dict[str, object] = {"stem": stem, "extension": extension}
    fields["detail"] = parts[5] if len(parts) > 5 and parts[5] else None
    _parse_os(path, parts[0], known, fields, problems)
    _parse_arch(path, parts[1], known, fields, problems)
    _parse_word_size(path, parts[2], known, fields, problems)
    _parse_star_lib(path, parts[3], fields, problems)
    _parse_size(path, parts[4], fields, problems)
    return ImageName(**fields), problems  # type: ignore[arg-type]


def _problem(path: str, code: str, value: str, **details: object) -> Problem:
    """A name problem: the kind's message names the field and what was expected."""
    return problem(code, path, value=f"'{value}'" if value else "nothing", **details)


def _parse_os(
    path: str, value: str, known: KnownValues, out: dict, problems: list[Problem]
) -> None:
    match = OS_RE.fullmatch(value)
    if not match:
        problems.append(_problem(path, "invalid_os", value))
        return
    out.update(os=value, os_family=match["family"].lower(), os_version=match["version"])
    if match["family"].lower() not in known.os_families:
        problems.append(
            _problem(path, "unknown_os", match["family"], known=", ".join(known.os_families))
        )


def _parse_arch(
    path: str, value: str, known: KnownValues, out: dict, problems: list[Problem]
) -> None:
    if not ARCH_RE.fullmatch(value):
        problems.append(_problem(path, "invalid_arch", value))
        return
    out["arch"] = value
    if value.lower() not in known.arches:
        problems.append(_problem(path, "unknown_arch", value, known=", ".join(known.arches)))


def _parse_word_size(
    path: str, value: str, known: KnownValues, out: dict, problems: list[Problem]
) -> None:
    if not WORD_RE.fullmatch(value):
        problems.append(_problem(path, "invalid_word_size", value))
        return
    out["word_size"] = int(value)
    if int(value) not in known.word_sizes:
        sizes = ", ".join(str(s) for s in known.word_sizes)
        problems.append(_problem(path, "unknown_word_size", value, known=sizes))


def _parse_star_lib(path: str, value: str, out: dict, problems: list[Problem]) -> None:
    if not STAR_LIB_RE.fullmatch(value):
        problems.append(_problem(path, "invalid_star_lib", value))
        return
    out["star_lib"] = value
    if not STAR_LIB_USUAL_RE.fullmatch(value):
        problems.append(_problem(path, "unknown_star_lib", value))


def _parse_size(path: str, value: str, out: dict, problems: list[Problem]) -> None:
    size = parse_max_size(value)
    if size is None:
        problems.append(_problem(path, "invalid_max_size", value))
        return
    out.update(max_size=value, max_size_bytes=size)
