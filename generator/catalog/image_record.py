"""An `Image` as one line of JSON and back, for the state to keep between runs (`catalog.kept`).

The line is the list of the Image's field values in field order. Plain values (text, numbers,
flags, JSON-shaped dicts) are written as they are; the fields holding records (members,
problems, the check command) have a codec each, so reading back is one `json.loads` and a few
short loops rather than a walk over every value (10,000 images are read back per build). Only
these classes are rebuilt, through their constructors (a Problem is redacted again), so a
damaged or forged row gives BadRecord, never an object of another kind or running code.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from typing import Any

from generator.catalog.model import (
    FIELD_NAMES,
    SET_LATER,
    SHARED_TEXTS,
    Image,
    image_of,
    share_texts,
)
from generator.digests import Digest
from generator.problems import PROBLEM_ORDER, from_rows, to_rows
from generator.read.check_command import CheckCommand
from generator.verify.verdict import MemberResult

NAMES = FIELD_NAMES[:-1]  # all but `record_token`, the last field: the digest of the text


class BadRecord(ValueError):
    """Text that `image_from_text` cannot turn back into an Image."""


# `dict.setdefault` over one record's own texts: a text the record holds several times (its
# name in the member and the check command, a digest in the fields, the member and the expected
# one) is read back as one object.
Texts = Callable[[str, str], str]


def _digest(value: list | None, same: Texts) -> Digest | None:
    return None if value is None else Digest(sys.intern(value[0]), same(value[1], value[1]))


def _member(m: MemberResult) -> list:
    expected = list(m.expected) if m.expected else None
    return [m.name, m.size, m.status, [list(d) for d in m.digests], expected]


def _member_from(v: list, same: Texts) -> MemberResult:
    digests = tuple(_digest(d, same) for d in v[3])
    name, status, expected = same(v[0], v[0]), sys.intern(v[2]), _digest(v[4], same)
    return MemberResult(name, v[1], status, digests, expected)  # type: ignore[arg-type]


def _own_paths(rows: list[list], same: Texts) -> list[list]:
    """Problem rows with their path (the image's, usually) as the record's one object."""
    return [[same(row[0], row[0]), *row[1:]] for row in rows]


def _check(c: CheckCommand | None) -> list | None:
    return None if c is None else [list(c.copy), c.command, c.note]


def _check_from(v: list | None, same: Texts) -> CheckCommand | None:
    if v is None:
        return None
    return CheckCommand(tuple(same(name, name) for name in v[0]), v[1], sys.intern(v[2]))


# Field -> (to JSON, from JSON), for the fields that hold records rather than plain values.
CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Texts], Any]]] = {
    "members": (
        lambda ms: [_member(m) for m in ms],
        lambda vs, same: [_member_from(v, same) for v in vs],
    ),
    "problems": (to_rows, lambda rows, same: list(from_rows(_own_paths(rows, same)))),
    "check": (_check, _check_from),
}
_CODED = tuple((NAMES.index(name), codec[1]) for name, codec in CODECS.items())
# Read back with the texts images share interned (`SHARED_TEXTS`) and those a record repeats read
# once (`Texts`), a record takes 3.3 KB rather than 4.7 KB and is made in 39 us rather than 51
# (10,000 images of `bench.trees`).
_SHARED_AT = tuple(NAMES.index(name) for name in SHARED_TEXTS)
OWN = ("name", "path", "md5", "expected_md5", "sha256", "sha512")  # read into the record's Texts
_OWN_AT = tuple(NAMES.index(name) for name in OWN)


def image_text(image: Image) -> str:
    """The image as one line of JSON (`image_from_text` reads it back)."""
    values = [
        CODECS[name][0](getattr(image, name)) if name in CODECS else getattr(image, name)
        for name in NAMES
    ]
    return json.dumps(values, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def record_token(text: str) -> str:
    """The `Image.record_token` of the record `text` (`image_text`) holds."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def token_values(image: Image) -> tuple:
    """What stands for the image's values in a key of what is made from it: its record token
    and the fields set since (`SET_LATER`), in plain values a pickle writes in C."""
    later = {name: getattr(image, name) for name in SET_LATER}
    later["problems"] = [PROBLEM_ORDER(p) for p in image.problems]
    return (image.record_token, *later.values())


def image_from_text(text: str) -> Image:
    """The Image `image_text` wrote; BadRecord for anything else."""
    try:
        values = json.loads(text)
        if type(values) is not list or len(values) != len(NAMES):
            raise ValueError(f"{len(NAMES)} field values expected")
        same = _shared(values)
        for index, read in _CODED:
            values[index] = read(values[index], same)
        values.append(record_token(text))  # the last field (a test holds the order)
        return image_of(values)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise BadRecord(f"not a kept image: {exc}") from exc


def _shared(values: list) -> Texts:
    """Intern the SHARED_TEXTS fields' texts; the record's `Texts`, holding its OWN fields'."""
    share_texts(values, _SHARED_AT)
    texts: dict[str, str] = {}
    for index in _OWN_AT:
        if type(values[index]) is str:
            values[index] = texts.setdefault(values[index], values[index])
    return texts.setdefault
