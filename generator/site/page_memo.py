"""Render only what changed: every templated page gets a key over what it is made from.

A page's key is a digest of the program's identity (code, templates, library versions), the
template's name and the view data passed to it (its pickle without back-references, see
`view_bytes`: every value the template can reach). Equal keys give equal bytes, so a page whose key is already recorded for a file of a
copy of the site is not rendered again: it becomes `Reused`, which names that file and its
digest. Publishing keeps the file where it is when the copy being written already holds those
bytes, copies them from the other copy otherwise, and renders after all (`Reused.render`) if
the file no longer has the recorded bytes.

This is generic: any page rendered through `render._render` is keyed, whoever added it. The
keys of each copy are kept beside it (`<copy>.pages.json`, never published), written after
the copy's manifest, so they only ever name files whose bytes the manifest vouches for.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.identity import program_identity
from generator.site.records import sorted_object_parts

# An object a page key names by a key over its values: (the object, its kind, the key). The kind
# and key stay two strings, shared by every token of the build, rather than one made per object.
Token = tuple[object, str, str]


class Page(bytes):
    """Rendered bytes that know the key they were rendered under."""

    key: str


@dataclass(frozen=True)
class Reused:
    """A page not rendered this run: its bytes are those of `source` (digest `sha256`), the
    file at `path` in the copy `copy`."""

    key: str
    sha256: str
    copy: Path
    path: str
    render: Callable[[], bytes] = field(repr=False, compare=False)

    @property
    def source(self) -> Path:
        """Joined when asked for: most reused pages are never read (10,000 per edit build)."""
        return self.copy / self.path

    def read(self) -> bytes:
        """The recorded bytes; rendered again if the file no longer holds them."""
        try:
            data = self.source.read_bytes()
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() == self.sha256:
            return data
        return self.render()


@dataclass
class PageMemo:
    """Keys of the pages both copies hold: key -> (digest, copy, path in it), the target copy
    first."""

    known: dict[str, tuple[str, Path, str]] = field(default_factory=dict)
    rendered: int = 0
    reused: int = 0
    # id -> (object, kind, key): objects a page key names by their key instead of their values
    # (images and rows, keyed once per build by `image_memo`).
    tokens: dict[int, Token] = field(default_factory=dict)
    values: ValueBytes = field(default_factory=lambda: ValueBytes(), repr=False, compare=False)

    def key(self, template: str, page: object) -> str | None:
        """The page's key, or None for view data that cannot be pickled (never reused)."""
        data = self.values(page, self.tokens)
        if data is None:
            return None
        digest = _template_digest(template).copy()
        digest.update(data)
        return digest.hexdigest()

    def page(self, template: str, view: object, render: Callable[[], bytes]) -> bytes | Reused:
        """The page's bytes, rendered only when no copy holds them under its key."""
        key = self.key(template, view)
        reused = self.reuse(key, render)
        if reused is not None:
            return reused
        page = Page(render())
        if key is not None:
            page.key = key
        return page

    def reuse(self, key: str | None, render: Callable[[], bytes]) -> Reused | None:
        """The page a copy holds under `key`, counted as reused; None (counted as rendered by
        this run) when no copy holds it."""
        if key is None or key not in self.known:
            self.rendered += 1
            return None
        self.reused += 1
        return Reused(key, *self.known[key], render)


def view_bytes(view: object, tokens: dict[int, Token] | None = None) -> bytes | None:
    """The view's values as bytes, the same for equal values whoever made them.

    A plain pickle is not: it writes an object seen before as a back-reference, so a view
    sharing one string between two fields (a fresh read) pickles unlike an equal view holding
    two copies of it (the same read kept in the state). Without the memo ("fast" mode) every
    value is written out in full. None for what cannot be pickled so (never reused).

    `tokens` name objects by a key over their values (id -> `Token`): such an object is
    written as its key, not pickled again. Many calls: `ValueBytes`, which keeps its pickler.
    """
    return ValueBytes()(view, tokens)


class ValueBytes:
    """`view_bytes`, keeping its picklers and buffer from call to call: making them costs more
    than pickling a page's inputs (10,000 image pages and images per build). One per user (a
    memo), never shared between threads."""

    def __init__(self) -> None:
        self._made: dict[bool, tuple[io.BytesIO, pickle.Pickler]] = {}

    def __call__(self, view: object, tokens: dict[int, Token] | None = None) -> bytes | None:
        keyed = bool(tokens)
        made = self._made.get(keyed)
        if made is None:
            buffer = io.BytesIO()
            pickler = _TokenPickler(buffer, {}) if keyed else pickle.Pickler(buffer, protocol=5)
            pickler.fast = True  # no memo: bytes depend on values, not on which are shared
            made = self._made[keyed] = (buffer, pickler)
        buffer, pickler = made
        if keyed:
            pickler.tokens = tokens  # type: ignore[attr-defined]  # a _TokenPickler
        buffer.seek(0)
        buffer.truncate()
        try:
            pickler.dump(view)
        except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
            del self._made[keyed]  # stopped half-way: start the next call afresh
            return None
        return buffer.getvalue()


class _TokenPickler(pickle.Pickler):
    """A pickler that writes objects it has a key for as that key (see `view_bytes`)."""

    def __init__(self, buffer: io.BytesIO, tokens: dict[int, Token]) -> None:
        super().__init__(buffer, protocol=5)
        self.tokens = tokens

    def reducer_override(self, obj: object) -> object:
        # Called for objects of classes only (not str, int, list...): few calls per page.
        known = self.tokens.get(id(obj))
        if known is not None and known[0] is obj:
            return token, known[1:]
        return NotImplemented


def token(kind: str, key: str) -> str:
    """What a keyed object stands as in a page key (never unpickled: keys are only hashed)."""
    return f"{kind} {key}"


@functools.cache
def _template_digest(template: str) -> hashlib._Hash:
    """The start every key of the template's pages shares: the program and the template."""
    return hashlib.sha256(program_identity().encode() + b"\0" + template.encode() + b"\0")


def pages_path(build: Path) -> Path:
    """Beside the copy, like its manifest: the keys of the pages it holds."""
    return build.parent / f"{build.name}.pages.json"


def read_pages(build: Path | None, this_program: bool = False) -> dict[str, str]:
    """path -> key of the copy's pages; nothing when the record is missing or damaged, or
    (`this_program`) made by another program: every key holds the program's identity, so none
    of its keys can be found again (after an upgrade, 200,000 files' worth of manifests and
    keys at 100,000 images, read for nothing)."""
    if build is None:
        return {}
    try:
        data = json.loads(pages_path(build).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("pages"), dict):
        return {}  # damaged, or an older version's record: its keys are another program's
    if this_program and data.get("program") != program_identity():
        return {}
    return {p: k for p, k in data["pages"].items() if isinstance(k, str)}


def page_keys(files: dict[str, object]) -> dict[str, str]:
    """The key of every keyed page of a site about to be published."""
    keys = {}
    for path, data in files.items():
        key = getattr(data, "key", None)
        if isinstance(key, str):
            keys[path] = key
    return keys


def pages_parts(keys: dict[str, str]) -> Iterator[bytes]:
    """The record of a copy's page keys, with the program that made them: the bytes of
    `{"pages": keys, "program": ...}` as compact JSON with sorted keys, in parts."""
    yield b'{"pages":'
    yield from sorted_object_parts(keys)
    yield b',"program":' + json.dumps(program_identity()).encode() + b"}"
