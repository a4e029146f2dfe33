"""What the site makes of each image, kept by a key over the image: an edit costs one image.

Every image gives the shared outputs the same pieces: its inventory row (the table, listing
pages and search-index.json), its catalog.json line (also `image.json`) and its search words
as the index stores them. They depend on the image alone, so they are kept in the state under
a key of the image (a digest of the program's identity and the image's values, see
`image_key`); a build computes the pieces of images whose key it does not find, and takes the
others as they are. Pieces no build used any more are dropped when the memo is saved.

The catalog.json lines are kept apart from the rest (`RecordLines`): a build holds every
image's row and words through publishing, but needs its line only to write catalog.json or a
changed `image.json`, so the lines are read back from the state a row at a time when those are
made (1.3 KB an image: 130 MB held at 100,000 images, when they were among the pieces).

A kept piece opens with a CRC-32 of its key and bytes: one that is damaged, kept for another
image, or that cannot be decoded, is computed again, so a damaged or deleted memo costs time,
never a wrong page (the state is the program's own: the check finds damage, not forgery).

The keys also stand for the image and its row inside page keys (`PageMemo.tokens`): a page
showing an image is keyed by the image's key rather than by pickling it again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Protocol, TypeVar

from generator.catalog.image_record import CHECK_SIZE, crc_check, token_values
from generator.catalog.model import Image, share_texts
from generator.identity import program_identity
from generator.parallel import shared_chunks
from generator.site.page_memo import PageMemo, Token, ValueBytes
from generator.site.records import compact_json, image_record, record_file_digest
from generator.site.search_index import extra_text
from generator.site.views import Row, make_row

T = TypeVar("T")
ROW_FIELDS = tuple(f.name for f in fields(Row))
# A kept row's fields whose texts few images share (the rest, facet values and labels, dates and
# search words, are interned: one object for all the rows that show it, 1.3 KB less a row).
ROW_OWN = frozenset({"url", "name", "detail", "md5", "text_words"})
_ROW_SHARED_AT = tuple(n for n, name in enumerate(ROW_FIELDS) if name not in ROW_OWN)
# The fields a row shows as its image holds them (name, digest, detail, sizes): pointed at the
# image's own objects when equal, rather than holding copies (0.2 KB a row): `_share_values`.
_ROW_AS_IMAGE = tuple(
    (getattr(Row, name).__set__, name)
    for name in ("name", "detail", "md5", "max_size_bytes", "size_bytes")
)
BATCH = 2000  # keys looked up per query


class PieceStore(Protocol):
    """Where kept pieces live (the state database)."""

    def get(self, wanted: Mapping[str, str]) -> dict[str, bytes]:
        """The kept pieces of these images (image id -> key), by key, if kept under it."""

    def put(
        self, new: Sequence[tuple[str, str, bytes]], lines: Sequence[tuple[str, str, bytes]]
    ) -> None:
        """Keep the `new` pieces and catalog.json `lines` (image id, key, value), replacing
        the images' others."""

    def lines_by_id(self, wanted: Mapping[str, str]) -> Iterator[tuple[str, bytes]]:
        """The kept catalog.json lines of these images (image id -> key), as (image id, line),
        in the order of the ids, a row at a time."""

    def line(self, image: str, key: str) -> bytes | None:
        """One image's kept catalog.json line, if kept under `key`."""

    def keep_only(self, images: Collection[str]) -> None:
        """Drop the pieces of images not among `images`."""


@dataclass(frozen=True, slots=True)
class Pieces:
    """One image's part of the shared outputs."""

    row: Row
    record_sha256: str  # the digest of its `image.json` (`records.record_file_digest`)
    extra: str  # search-index.json: the row's words its name and facet values lack, spaced
    problems: tuple[str, ...] = ()  # the catalog.json lines of its problems, in order


def make_pieces(image: Image) -> tuple[Pieces, str]:
    """The image's pieces, and its catalog.json line (kept apart: see the module docstring)."""
    row = make_row(image)
    problems = tuple(compact_json(vars(problem)) for problem in image.problems)
    record = image_record(image)
    return Pieces(row, record_file_digest(record), extra_text(row), problems), record


def problem_lines(
    images: Sequence[Image], pieces: Sequence[Pieces]
) -> dict[int, tuple[object, str]]:
    """The catalog.json line of each image's problem, by the problem's id (with the problem)."""
    lines = {}
    for image, made in zip(images, pieces, strict=True):
        for problem, line in zip(image.problems, made.problems, strict=True):
            lines[id(problem)] = (problem, line)
    return lines


def image_key(image: Image, values: ValueBytes | None = None) -> str | None:
    """A digest of the program and every value of the image; None if it cannot be pickled.

    An image with a `record_token` is hashed as that token and the fields set after its record
    was made (`token_values`): 10 µs rather than the 60-100 µs of pickling all its values.
    """
    data = (values or ValueBytes())(token_values(image) if image.record_token else image)
    if data is None:
        return None
    digest = _program_digest().copy()
    digest.update(data)
    return digest.hexdigest()


@functools.cache
def _program_digest() -> hashlib._Hash:
    return hashlib.sha256(b"image pieces\0" + program_identity().encode() + b"\0")


def encode(key: str, pieces: Pieces) -> bytes:
    """The pieces as kept: a CRC of key and payload, then the payload (marshal of plain
    values). The key is in the CRC: another image's pieces do not pass for these."""
    row = tuple(getattr(pieces.row, name) for name in ROW_FIELDS)
    made = (row, pieces.record_sha256, pieces.extra, pieces.problems)
    payload = marshal.dumps(made)
    return crc_check(payload, key) + payload


def decode(key: str, blob: bytes, image: Image | None = None) -> Pieces | None:
    """Kept pieces, or None when they are damaged, not kept under `key` or not of this shape.
    `image`: theirs, whose values the row shares where they are equal."""
    check, payload = blob[:CHECK_SIZE], blob[CHECK_SIZE:]
    if crc_check(payload, key) != check:
        return None
    try:
        values, sha256, extra, problems = marshal.loads(payload)
        if len(values) != len(ROW_FIELDS):
            return None
        texts = list(values)
        share_texts(texts, _ROW_SHARED_AT)
        row = _frozen(Row, texts)
        if image is not None:
            _share_values(row, image)
        return _frozen(Pieces, (row, sha256, extra, problems))
    except (ValueError, EOFError, TypeError):
        return None


def encode_line(key: str, line: str) -> bytes:
    """A catalog.json line as kept: the CRC of key and text, then the text (UTF-8)."""
    data = line.encode("utf-8")
    return crc_check(data, key) + data


def decode_line(key: str, blob: object) -> str | None:
    """A kept catalog.json line, or None when it is damaged or not kept under `key`."""
    if not isinstance(blob, bytes):  # a damaged row can hold text or a number
        return None
    check, data = blob[:CHECK_SIZE], blob[CHECK_SIZE:]
    if crc_check(data, key) != check:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _frozen(cls: type[T], values: Sequence[object]) -> T:
    """A frozen dataclass with slots, of its fields' values in order, without `__init__`, which
    sets each field through `object.__setattr__` (a third of decoding a kept piece, when it
    did): each slot set straight through its descriptor."""
    made = object.__new__(cls)
    for set_slot, value in zip(_slot_setters(cls), values, strict=True):
        set_slot(made, value)
    return made


def _share_values(row: Row, image: Image) -> None:
    """Point the row's fields its image holds equal values in at the image's objects. Only for
    a row just made or read back, before anyone else holds it (its slots are set directly)."""
    for set_slot, name in _ROW_AS_IMAGE:
        mine, shown = getattr(image, name), getattr(row, name)
        if mine is not shown and type(mine) is type(shown) and mine == shown:
            set_slot(row, mine)


@functools.cache
def _slot_setters(cls: type) -> tuple[Callable[[object, object], None], ...]:
    return tuple(getattr(cls, f.name).__set__ for f in fields(cls))


class ImageMemo:
    """The pieces of one build's images: made once per image and run, kept between runs.

    `computed` and `reused` count images, the first time each is asked for in a run.
    """

    def __init__(self, store: PieceStore | None = None) -> None:
        self.store = store
        self.computed = 0
        self.reused = 0
        self.tokens: dict[int, Token] = {}  # id -> (object, kind, key): see PageMemo
        self._made: dict[str, Pieces] = {}
        self._shown: set[str] = set()  # ids of the images whose pieces were asked for, keyed
        self._unkeyed: dict[int, Image] = {}  # images that cannot be keyed (`image_key`)
        self._values = ValueBytes()

    def pieces(self, images: Sequence[Image]) -> list[Pieces]:
        """Each image's pieces, in order: kept ones decoded, the others made on every core
        (`generator.parallel`: a first build of many images, one fork) and kept as they come."""
        keys = [self._key(image) for image in images]
        found: list[Pieces | None] = []
        for start in range(0, len(images), BATCH):  # a batch of blobs held at a time
            found += self._kept(images[start : start + BATCH], keys[start : start + BATCH])
        todo: dict[str | int, Image] = {}  # by key, or by position for an image with none
        for n, (image, key, made) in enumerate(zip(images, keys, found, strict=True)):
            if made is None:
                todo.setdefault(n if key is None else key, image)
        fresh = self._make(todo)
        self._shown.update(image.id for image, key in zip(images, keys, strict=True) if key)
        if self.store is not None:
            self.store.keep_only(self._shown)
        return [
            made if made is not None else fresh[n if key is None else key]
            for n, (key, made) in enumerate(zip(keys, found, strict=True))
        ]

    def _kept(self, images: Sequence[Image], keys: list[str | None]) -> list[Pieces | None]:
        """The images' pieces made earlier this run, or kept and intact; None: to be made."""
        wanted = {i.id: k for i, k in zip(images, keys, strict=True) if k and k not in self._made}
        kept = self.store.get(wanted) if self.store is not None and wanted else {}
        return [self._known(key, kept, i) for i, key in zip(images, keys, strict=True)]

    def _make(self, todo: dict[str | int, Image]) -> dict[str | int, Pieces]:
        """The pieces of `todo`'s images, made on every core in order, and kept a batch at a
        time as they come: their catalog.json lines (1.3 KB each) are never all held."""
        store = self.store
        fresh: dict[str | int, Pieces] = {}
        rows: list[tuple[str, str, bytes]] = []
        lines: list[tuple[str, str, bytes]] = []
        with contextlib.closing(shared_chunks(make_pieces, list(todo.values()))) as chunks:
            made = (result for chunk in chunks for result in chunk)
            for key, (pieces, line) in zip(todo, made, strict=True):
                _share_values(pieces.row, todo[key])  # made by a worker: copies of its texts
                fresh[key] = pieces
                if not isinstance(key, str):
                    continue
                self._remember(key, pieces)
                if store is None:  # nowhere to keep them: not encoded
                    continue
                rows.append((todo[key].id, key, encode(key, pieces)))
                lines.append((todo[key].id, key, encode_line(key, line)))
                if len(rows) >= BATCH:
                    store.put(rows, lines)
                    rows, lines = [], []
        if store is not None and rows:
            store.put(rows, lines)
        self.computed += len(fresh)
        return fresh

    def _known(self, key: str | None, kept: dict[str, bytes], image: Image) -> Pieces | None:
        """The pieces made earlier this run, or kept and intact; None when they must be made."""
        if key is None:
            return None
        made = self._made.get(key)
        if made is not None:
            return made
        blob = kept.get(key)
        made = decode(key, blob, image) if blob is not None else None
        if made is not None:
            self.reused += 1
            self._remember(key, made)
        return made

    def _remember(self, key: str, made: Pieces) -> None:
        self._made[key] = made
        self.tokens[id(made.row)] = (made.row, "row", key)

    def _key(self, image: Image) -> str | None:
        """The image's key, made once a run: its token stands for it in page keys."""
        known = self.tokens.get(id(image))
        if known is not None and known[0] is image:
            return known[2]
        if self._unkeyed.get(id(image)) is image:
            return None
        key = image_key(image, self._values)
        if key is None:
            self._unkeyed[id(image)] = image
        else:
            self.tokens[id(image)] = (image, "image", key)
        return key

    def record_digests(self, images: Sequence[Image]) -> list[str]:
        """Each image's `image.json` digest, in order: its catalog.json line stands for itself."""
        return [p.record_sha256 for p in self.pieces(images)]

    def kept_lines(self, images: Sequence[Image]) -> Iterator[tuple[str, str]]:
        """The catalog.json lines the store holds under these images' keys, as (image id, line),
        read a row at a time: by id within each `BATCH` of the images (see `record_lines`)."""
        if self.store is None:
            return
        for start in range(0, len(images), BATCH):
            keys = {image.id: self._key(image) for image in images[start : start + BATCH]}
            wanted = {image: key for image, key in keys.items() if key}
            for image, blob in self.store.lines_by_id(wanted):
                line = decode_line(wanted[image], blob)
                if line is not None:
                    yield image, line

    def kept_line(self, image: Image) -> str | None:
        """One image's catalog.json line, if the store holds it under the image's key."""
        key = self._key(image)
        blob = self.store.line(image.id, key) if self.store is not None and key else None
        return decode_line(key, blob) if key and blob is not None else None


def site_pieces(
    images: Sequence[Image], memo: ImageMemo | None, pages: PageMemo | None
) -> list[Pieces]:
    """The images' pieces: from the memo when there is one, else computed. With `pages`, the
    images' keys stand for the images and rows in page keys, memo or not (so equal pages get
    equal keys whoever renders them)."""
    if memo is None and pages is None:
        return [make_pieces(image)[0] for image in images]
    memo = ImageMemo() if memo is None else memo
    found = memo.pieces(images)
    if pages is not None:
        pages.tokens = memo.tokens
    return found
