"""The catalog model: the one thing every output (HTML, catalog.json, feed) is rendered from."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from generator.digests import CHECKED, hex_of
from generator.problems import ERROR, Problem, sorted_problems
from generator.read.check_command import CheckCommand
from generator.read.parse import ParsedImage
from generator.read.trust import TRUST_CODES
from generator.verify.verdict import INTEGRITY_FAILURES, MemberResult, Verification

SCHEMA_VERSION = 1
FACETS = ("vm", "os", "arch", "word_size", "star_lib", "status", "format")
# Facets shown only when some image has a value (lifecycle: when some image is not current).
LIFECYCLE_FACETS = ("lifecycle", "kernel", "min_ram")
# Field metadata: `json` is the field's catalog.json key, or False for what the model keeps
# for the pages but catalog.json shows otherwise (members with their formats, front matter
# merged at the top level, problems as a count) or not at all (the rendered description).
HIDDEN = MappingProxyType({"json": False})
# A link catalog.json gives only when configured (`download-base-url`, `base-url`): without the
# setting the key is left out, so nothing pretends a download or a public address exists.
OPTIONAL = MappingProxyType({"optional": True})


# An id `quote` leaves as it is: two names of unreserved characters.
PLAIN_ID = re.compile(r"[A-Za-z0-9_.~-]+/[A-Za-z0-9_.~-]+").fullmatch


def iso_time(timestamp: float | None) -> str | None:
    """UTC ISO-8601 with seconds, the one time format of every output."""
    if timestamp is None:
        return None
    return _iso_second(int(timestamp))


def image_url(image_id: str) -> str:
    """Permalink relative to the site root: `images/<vm>/<stem>/`, percent-encoded."""
    if PLAIN_ID(image_id):  # nothing to encode (a test in C: asked per image by every page)
        return f"images/{image_id}/"
    vm, _, stem = image_id.partition("/")
    return f"images/{quote(vm, safe='')}/{quote(stem, safe='')}/"


@functools.lru_cache(maxsize=4096)
def _iso_second(second: int) -> str:
    """Cached: images read in the same second (most of a run) share one string."""
    return dt.datetime.fromtimestamp(second, dt.UTC).isoformat().replace("+00:00", "Z")


class Permalinked:
    """Anything with a permalink page, `images/<vm>/<stem>/`: a live image or a tombstone."""

    __slots__ = ()  # an Image keeps its fields in slots (see Image)
    id: str

    @property
    def url(self) -> str:
        return image_url(self.id)

    @property
    def output_dir(self) -> str:
        """Directory of the page inside the site (not encoded: a file system path)."""
        return f"images/{self.id}"


@dataclass(frozen=True, slots=True)
class Image(Permalinked):
    """One catalogued image: parsed name fields, sizes, verification and description.

    The one definition of an image's fields: catalog.json (`to_json`), the front-matter keys
    that may not reuse them (`CATALOG_FIELDS`) and the history records are derived from it.
    Its fields are slots, not a dict: every image of a catalog lives for the whole build, and
    a dict of its 45 fields weighs 1.6 KB against 0.4 KB (100,000 images: 120 MB a copy).
    """

    id: str
    vm: str
    name: str
    path: str
    os: str | None
    arch: str | None
    word_size: int | None
    star_lib: str | None
    max_size: str | None
    max_size_bytes: int | None
    detail: str | None
    extension: str | None
    multi_file: bool
    size_bytes: int
    allocated_bytes: int
    md5: str | None  # catalog.json keys: the checked algorithm's digests, from Digest values
    expected_md5: str | None
    status: str
    verified_at: str | None
    name_valid: bool
    # The other digests of a single-file image (a directory's are per member), None when not
    # computed or not configured; catalog.json lists only those the image has.
    sha256: str | None = field(default=None, metadata=OPTIONAL)
    sha512: str | None = field(default=None, metadata=OPTIONAL)
    format: str | None = None
    virtual_size_bytes: int | None = None
    compression: str | None = None
    members: list[MemberResult] = field(default_factory=list, metadata=HIDDEN)
    member_formats: dict[str, str] = field(default_factory=dict, metadata=HIDDEN)
    fields: dict[str, Any] = field(default_factory=dict, metadata=HIDDEN)
    description_html: str = field(default="", metadata=HIDDEN)
    description_text: str = field(default="", metadata={"json": "description"})
    problems: list[Problem] = field(default_factory=list, metadata=HIDDEN)
    first_seen: str | None = None
    last_changed: str | None = None
    # The description as written, secrets included, when any were removed: only the
    # members-only copy reads it (never to_json, the public pages or the state).
    private_text: str = field(default="", repr=False, metadata=HIDDEN)
    check: CheckCommand | None = field(default=None, metadata=HIDDEN)  # "check your copy"
    create_command: str = field(default="", metadata=HIDDEN)  # writes a missing .checksum
    # Lifecycle (catalog/lifecycle.py): current, deprecated or end_of_life on the run's date;
    # the room the spec's space rule leaves for user data; content versions from the state.
    lifecycle: str = "current"
    free_bytes: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    download_url: str | None = field(default=None, metadata=OPTIONAL)  # members: theirs below
    permalink: str | None = field(default=None, metadata=OPTIONAL)  # absolute `url`
    # Not data: a digest of the record as `catalog.kept` made or kept it. Equal tokens mean
    # equal values in every field but those the catalog sets afterwards (`SET_LATER`), so what
    # is made from an image can be keyed by the token and those fields (`site.image_inputs`).
    record_token: str = field(default="", compare=False, repr=False, metadata=HIDDEN)

    @property
    def content_key(self) -> str | None:
        """What identifies the image's bytes: its MD5, or for a directory the MD5 of its members'.

        The computed digest when there is one, else the one the .checksum claims; names are left
        out, so a renamed image (or renamed members) keeps its key.
        """
        if not self.multi_file:
            return self.md5 or self.expected_md5
        digests = sorted(m.md5 or m.expected_md5 or "" for m in self.members)
        if not digests or not all(digests):
            return None
        listing = "\n".join(digests).encode()
        return hashlib.md5(listing, usedforsecurity=False).hexdigest()

    @property
    def others_can_write(self) -> bool:
        """Someone besides the expected owners could replace the image and its .checksum."""
        return any(p.code in TRUST_CODES for p in self.problems)

    def to_json(self) -> dict[str, Any]:
        data = {key: getattr(self, name) for name, key in JSON_KEYS.items()}
        for name in OPTIONAL_KEYS:
            if data[name] is None:
                del data[name]
        data.update(url=self.url, problem_count=len(self.problems))
        if self.multi_file:
            data["members"] = [
                {
                    **m.to_json(),
                    "format": self.member_formats.get(m.name),
                    **self.member_link(m.name),
                }
                for m in self.members
            ]
        data.update(self.fields)
        return data

    def member_link(self, member: str) -> dict[str, str]:
        """`{"download_url": ...}` for a file of a directory image, when downloads are offered."""
        if self.download_url is None:
            return {}
        return {"download_url": f"{self.download_url.rstrip('/')}/{quote(member, safe='')}"}


# Image field -> catalog.json key, for the fields catalog.json shows as they are.
JSON_KEYS = {
    f.name: f.metadata.get("json") or f.name
    for f in fields(Image)
    if f.metadata.get("json", True) is not False
}
# Fields catalog.json shows only when set (digests beside MD5, download links).
OPTIONAL_KEYS = tuple(f.name for f in fields(Image) if f.metadata.get("optional"))
# Every key of an image in catalog.json; front-matter keys may not reuse them.
CATALOG_FIELDS = frozenset({*JSON_KEYS.values(), "url", "problem_count", "members"})


IMAGE_FIELDS = frozenset(f.name for f in fields(Image))
# The fields the catalog sets once the records are made (cross checks, lifecycle, history,
# links): they are not covered by `record_token`. A test holds every other field to the record.
SET_LATER = ("problems", "lifecycle", "free_bytes", "first_seen", "last_changed", "history",
             "permalink", "download_url")  # fmt: skip


# Fields whose values many images share (a facet value, a status, the second a run read them):
# one string object for all the images that hold it (`sys.intern`), not one per image.
SHARED_TEXTS = ("vm", "os", "arch", "star_lib", "max_size", "extension", "status", "verified_at",
                "format", "compression", "lifecycle", "first_seen", "last_changed")  # fmt: skip
FIELD_NAMES = tuple(f.name for f in fields(Image))
_VALUES = operator.attrgetter(*FIELD_NAMES)  # every field's value, fetched in C
_SLOTS = tuple(getattr(Image, name).__set__ for name in FIELD_NAMES)  # each slot's setter
_SLOT_OF = dict(zip(FIELD_NAMES, _SLOTS, strict=True))


def with_fields(image: Image, **changes: Any) -> Image:
    """`dataclasses.replace` for an Image, without calling `__init__` with all its 45 fields
    again: a copy of its slots with `changes` over them (done for every image of every
    build). Image has no `__post_init__` to skip."""
    if not changes.keys() <= IMAGE_FIELDS:
        raise TypeError(f"not fields of Image: {sorted(changes.keys() - IMAGE_FIELDS)}")
    if type(image) is not Image:  # read back light: its kind knows which fields it holds yet
        return type(image).copied(image, changes)  # type: ignore[attr-defined]
    copy = object.__new__(Image)
    for set_slot, value in zip(_SLOTS, _VALUES(image), strict=True):
        set_slot(copy, value)
    for name, value in changes.items():
        _SLOT_OF[name](copy, value)
    return copy


def make_image(parsed: ParsedImage, verification: Verification) -> Image:
    """Join a parsed image with its verification into the catalog's record."""
    entry, name = parsed.entry, parsed.name
    named = {key: _shared(key, value) for key, value in name._asdict().items() if key in JSON_KEYS}
    return Image(
        id=entry.id,
        vm=entry.vm,
        name=entry.name,
        path=entry.relpath,
        **named,
        multi_file=entry.is_dir,
        size_bytes=sum(m.size for m in entry.members),
        allocated_bytes=sum(m.allocated for m in entry.members),
        md5=hex_of(verification.digests, CHECKED),
        expected_md5=verification.expected.hex if verification.expected else None,
        sha256=hex_of(verification.digests, "sha256"),
        sha512=hex_of(verification.digests, "sha512"),
        status=verification.status,
        verified_at=iso_time(verification.verified_at),
        name_valid=name.valid,
        members=verification.members,
        format=parsed.format.format,
        virtual_size_bytes=parsed.format.virtual_size_bytes,
        compression=parsed.format.compression,
        member_formats=parsed.format.members,
        fields=parsed.description.fields,
        description_html=parsed.description.html,
        description_text=parsed.description.text,
        private_text=parsed.description.private_text,
        problems=sorted_problems(parsed.problems + verification.problems),
        check=verification.check,
        create_command=verification.create,
    )


def _shared(field_name: str, value: object) -> object:
    """The value; the one object of its text when images share the field's values."""
    return sys.intern(value) if type(value) is str and field_name in SHARED_TEXTS else value


def share_texts(values: list[Any], positions: Sequence[int]) -> None:
    """Intern the texts at these positions of `values` (fields whose values images share, as
    a record or row is read back: see SHARED_TEXTS)."""
    for n in positions:
        if type(values[n]) is str:
            values[n] = sys.intern(values[n])


@dataclass(frozen=True)
class Event:
    """One piece of news about one image; (image_id, kind, at) is its stable identity."""

    image_id: str
    kind: str
    at: float
    title: str


@dataclass(frozen=True)
class Tombstone(Permalinked):
    """An image that left the repository; its permalink keeps a page saying so."""

    id: str
    removed_at: float
    record: dict[str, Any]
    moved_to: str | None = None  # renamed: the id of the image with the same content

    @property
    def name(self) -> str:
        return str(self.record.get("name") or self.id.partition("/")[2])


@dataclass(frozen=True)
class Alias:
    """A stable page `latest/<vm>/<line>/` sending people to the current image of one line.

    `image_id` is None when no usable image is left in the line: the page stays and says so.
    """

    path: str
    vm: str
    line: str
    image_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "vm": self.vm, "line": self.line, "image": self.image_id}


@dataclass
class Catalog:
    """All images and all problems of one run, sorted, plus when and where it was made."""

    repository: str
    generated_at: str
    images: list[Image]
    problems: list[Problem]
    removed: list[Tombstone] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    digests: tuple[str, ...] = (CHECKED,)  # the algorithms the run computed (the SUMS files)
    aliases: list[Alias] = field(default_factory=list)

    def get(self, image_id: str) -> Image | None:
        return next((image for image in self.images if image.id == image_id), None)

    def count_by(self, attribute: str) -> list[tuple[Any, int]]:
        """Facet values with counts, most common first, then by value."""
        counts = Counter(getattr(image, attribute) for image in self.images)
        return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def integrity_failures(self) -> list[Image]:
        return [image for image in self.images if image.status in INTEGRITY_FAILURES]

    @property
    def total_bytes(self) -> int:
        return sum(image.size_bytes for image in self.images)

    @property
    def ok(self) -> bool:
        """True when the run should exit 0: no error problem, no integrity failure."""
        return not self.errors() and not self.integrity_failures()

    def to_json(self) -> dict[str, Any]:
        aliases = {"aliases": [a.to_json() for a in self.aliases]} if self.aliases else {}
        return aliases | {
            "schema_version": SCHEMA_VERSION,
            "generated_at": self.generated_at,
            "repository": self.repository,
            "images": [image.to_json() for image in self.images],
            "problems": [vars(p).copy() for p in self.problems],
            "removed": [
                {"id": t.id, "name": t.name, "removed_at": iso_time(t.removed_at), "url": t.url}
                | ({"moved_to": t.moved_to} if t.moved_to else {})
                for t in self.removed
            ],
        }


def make_catalog(
    repository: str,
    generated_at: str,
    images: list[Image],
    scan_problems: list[Problem],
    digests: tuple[str, ...] = (CHECKED,),
) -> Catalog:
    """Sort everything so that output never depends on directory order or thread timing."""
    problems = set(scan_problems)
    for image in images:
        problems.update(image.problems)
    ordered = sorted(images, key=lambda i: i.id)
    return Catalog(repository, generated_at, ordered, sorted_problems(problems), digests=digests)
