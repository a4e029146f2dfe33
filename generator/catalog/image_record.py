"""An `Image` as the state keeps it between runs (`catalog.kept`), and read back.

Its record is the list of its field values in field order as one line of JSON (`image_text`),
whose digest is the image's `record_token`. Plain values (text, numbers, flags, JSON-shaped
dicts) are written as they are; the fields holding records (members, problems, the check
command) have a codec each, and only these classes are rebuilt, through their constructors (a
Problem is redacted again).

Every build reads back every unchanged image, but most of what an image holds is read again
only for the images whose pages are made: the members and their formats, the description as
HTML and as text, the commands (`HEAVY`). The state keeps those apart, compressed, and a build
reads back an image's light fields alone into a `KeptImage`, whose heavy fields are decoded
when asked for and never held: at 10,000 images 8 us an image rather than 19, and 1.4 KB less
an image held. A full build holds the images it made as they are kept, too (`catalog.kept`).
A kept value is a CRC-32 of its payload, then the payload (marshal of the record's light
values and its heavy ones packed): a damaged value, or one of another shape, gives BadRecord
and the image is built again. The state is the program's own, as for the site
pieces (`site.image_memo`): the CRC finds damage, not forgery.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import operator
import sys
import zlib
from collections.abc import Callable
from typing import Any

from generator.catalog.model import (
    FIELD_NAMES,
    SET_LATER,
    SHARED_TEXTS,
    Image,
    share_texts,
)
from generator.digests import Digest
from generator.problems import PROBLEM_ORDER, from_rows, to_rows
from generator.read.check_command import CheckCommand
from generator.verify.report import MARSHAL_VERSION
from generator.verify.verdict import MemberResult

NAMES = FIELD_NAMES[:-1]  # all but `record_token`, the last field: the digest of the text


class BadRecord(ValueError):
    """A value that `kept_image` cannot turn back into an Image."""


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
# Read back with the texts images share interned (`SHARED_TEXTS`) and those a record repeats read
# once (`Texts`), a record takes 3.3 KB rather than 4.7 KB and is made in 39 us rather than 51
# (10,000 images of `bench.trees`).
OWN = ("name", "path", "md5", "expected_md5", "sha256", "sha512")  # read into the record's Texts


def image_text(image: Image) -> str:
    """The image's record: one line of JSON, whose digest is its token (`record_token`)."""
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


HEAVY = ("members", "member_formats", "description_html", "description_text", "check",
         "create_command")  # fmt: skip
LIGHT = tuple(name for name in NAMES if name not in HEAVY)
_LIGHT_AT = tuple(map(NAMES.index, LIGHT))
_HEAVY_AT = tuple(map(NAMES.index, HEAVY))
_LIGHT_SETTERS = tuple(getattr(Image, name).__set__ for name in LIGHT)
_LIGHT_VALUES = operator.attrgetter(*LIGHT)
_HEAVY_VALUES = operator.attrgetter(*HEAVY)
_LIGHT_SHARED = tuple(n for n, name in enumerate(LIGHT) if name in SHARED_TEXTS)
_LIGHT_OWN = tuple(n for n, name in enumerate(LIGHT) if name in OWN)
_LIGHT_CODED = tuple((n, CODECS[name][1]) for n, name in enumerate(LIGHT) if name in CODECS)
_FIELDS_AT = LIGHT.index("fields")  # front matter: its keys, shared by many images, interned
CHECK_SIZE = 4  # a CRC-32 of the payload, before it: damage is found, the image built again


class KeptImage(Image):
    """An Image read back with its light fields; the heavy ones (`HEAVY`) stay packed in
    `_packed` and are decoded each time an image is asked for one, never held by the image.
    Equal to an Image of equal values.

    A build holds every image until it has published, and reads the heavy fields of each only
    to make what is made from it (its record, pieces and page, made one image after the other):
    held, they were 1.4 KB an image (a full build at 100,000 images: 140 MB). The image decoded
    last is remembered with its fields (`_LAST`), so a page asking for one after the other
    decodes them once. A directory image holds them once decoded: every pass that compares
    images asks for its members (its content key), which cost five decodes a build. Decoded
    anew, a heavy value is never to be changed in place (the image is frozen)."""

    __slots__ = ("_packed",)

    def __getattr__(self, name: str) -> Any:
        # Reached only for a slot not set: a heavy field not held, or none.
        if name not in HEAVY:
            raise AttributeError(name)
        heavy = _heavy_of(self)
        if self.multi_file:
            for field_name, value in heavy.items():
                _SLOT[field_name].__set__(self, value)
        return heavy[name]

    @staticmethod
    def copied(image: KeptImage, changes: dict[str, Any]) -> Image:
        """`model.with_fields` for a KeptImage: a copy whose heavy fields stay packed (or, when
        one of them changes, an Image)."""
        if not changes.keys().isdisjoint(HEAVY):
            return _whole(image, changes)
        copy = object.__new__(KeptImage)
        for set_slot, value in zip(_LIGHT_SETTERS, _LIGHT_VALUES(image), strict=True):
            set_slot(copy, value)
        _SLOT["record_token"].__set__(copy, image.record_token)
        _SLOT["_packed"].__set__(copy, _SLOT["_packed"].__get__(image))
        for name in HEAVY:  # held (a directory image's): the copy holds them too
            try:
                _SLOT[name].__set__(copy, _SLOT[name].__get__(image))
            except AttributeError:
                break
        for name, value in changes.items():
            _SLOT[name].__set__(copy, value)
        return copy

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        if not all(getattr(self, f) == getattr(other, f) for f in LIGHT):
            return False
        mine = _HEAVY_VALUES(self)  # decoded once, before the other's
        return mine == _HEAVY_VALUES(other)

    __hash__ = None  # type: ignore[assignment]  # as Image's: its lists make it unhashable


# Each field's slot, and the packed heavy fields': read and set without `__getattr__`.
_SLOT = {name: getattr(KeptImage, name) for name in (*NAMES, "record_token", "_packed")}


def _whole(image: KeptImage, changes: dict[str, Any]) -> Image:
    """The image as an Image with `changes`, its heavy fields decoded."""
    whole = object.__new__(Image)
    for name in (*NAMES, "record_token"):
        _SLOT[name].__set__(whole, getattr(image, name))  # a heavy field: decodes them all
    for name, value in changes.items():
        _SLOT[name].__set__(whole, value)
    return whole


# The image whose heavy fields were decoded last, and those fields by name (see KeptImage).
_LAST: list[Any] = [None, {}]


def _heavy_of(image: KeptImage) -> dict[str, Any]:
    """The image's heavy fields by name, decoded from its packed bytes (or remembered)."""
    if _LAST[0] is image:
        return _LAST[1]
    values = marshal.loads(zlib.decompress(_SLOT["_packed"].__get__(image)))
    same = _texts_of(image)
    heavy = {
        name: CODECS[name][1](value, same) if name in CODECS else value
        for name, value in zip(HEAVY, values, strict=True)
    }
    _LAST[:] = [image, heavy]
    return heavy


def _texts_of(image: Image) -> Texts:
    """The record's `Texts`: its name, path and digests, so the members unpacked share them."""
    texts: dict[str, str] = {}
    for name in OWN:
        value = _SLOT[name].__get__(image)
        if type(value) is str:
            texts.setdefault(value, value)
    return texts.setdefault


def kept_value(text: str) -> bytes:
    """The value the state keeps for the record `text` (`image_text`) holds."""
    values = json.loads(text)  # the record's values as `image_text` wrote them
    light = (record_token(text), [values[n] for n in _LIGHT_AT])
    # marshal, not JSON: decoded each time a page or piece is made (5 us rather than 11).
    heavy = zlib.compress(marshal.dumps([values[n] for n in _HEAVY_AT], MARSHAL_VERSION), 1)
    payload = marshal.dumps((light, heavy), MARSHAL_VERSION)
    return crc_check(payload) + payload


def kept_image(value: object) -> KeptImage:
    """The KeptImage `kept_value` stored; BadRecord for anything else."""
    try:
        if type(value) is not bytes or crc_check(value[CHECK_SIZE:]) != value[:CHECK_SIZE]:
            raise ValueError("not a kept image value")
        (token, light), packed = marshal.loads(value[CHECK_SIZE:])
        if type(token) is not str or type(light) is not list or type(packed) is not bytes:
            raise ValueError("not a kept image value")
        share_texts(light, _LIGHT_SHARED)
        texts: dict[str, str] = {}
        for n in _LIGHT_OWN:
            if type(light[n]) is str:
                light[n] = texts.setdefault(light[n], light[n])
        for n, read in _LIGHT_CODED:
            light[n] = read(light[n], texts.setdefault)
        if type(light[_FIELDS_AT]) is not dict:
            raise ValueError("front matter fields that are not a mapping")
        light[_FIELDS_AT] = {sys.intern(k): v for k, v in light[_FIELDS_AT].items()}
        image = object.__new__(KeptImage)
        for set_slot, light_value in zip(_LIGHT_SETTERS, light, strict=True):
            set_slot(image, light_value)
        _SLOT["record_token"].__set__(image, token)
        _SLOT["_packed"].__set__(image, packed)
        return image
    except (ValueError, KeyError, TypeError, IndexError, EOFError, RecursionError) as exc:
        raise BadRecord(f"not a kept image: {exc}") from exc


def crc_check(payload: bytes, key: str = "") -> bytes:
    """The CRC-32 that opens a kept value (a record here, the site pieces in `site.image_memo`),
    over `key` then `payload`: damage is found, not forgery (the state is the program's own)."""
    return zlib.crc32(payload, zlib.crc32(key.encode())).to_bytes(CHECK_SIZE, "big")
