"""Files of the site made when they are written, not when the site is rendered.

A full build of a large catalog would otherwise hold every image page in memory at once
(about 8.5 KB each, plus its `image.json`): 10,000 images make a site of 167 MB. A `Deferred`
value stands in the site's mapping for such a file; publishing makes its bytes, digests and
writes them, and drops them before the next file (`read`), so only one is alive at a time (a
few chunks of them when workers render many pages: `publish.made_pages`).

One file is too large to be held whole even once: catalog.json (13 MiB at 10,000 images). It is
`Chunked`: made in parts of about a hundred KB each time it is read, from the images' lines read
back from the state (`site.record_lines`), and digested, compared and written part by part
(`parts_of`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator

from generator.site.page_memo import PageMemo, Reused

PART_SIZE = 128 * 1024  # characters of a chunked file per part: a hundred KB or so, never the file


class Deferred:
    """A file's bytes, made on demand by `make` and not kept; `key`: its page key, if any.

    `page`: a templated page, worth rendering in a forked worker when there are many
    (`publish.made_pages`); other deferred files cost little more than their copy.
    """

    __slots__ = ("key", "make", "page")

    def __init__(
        self, make: Callable[[], bytes], key: str | None = None, page: bool = False
    ) -> None:
        self.make = make
        self.key = key
        self.page = page

    def read(self) -> bytes:
        """The file's bytes, made now: each call renders again, so read once and let go."""
        return self.make()


def deferred_page(
    memo: PageMemo | None, template: str, view: object, render: Callable[[], bytes]
) -> Deferred | Reused:
    """A page no copy holds under its key becomes a `Deferred` (rendered when written); a page
    a copy holds is `Reused` as the memo gives it, neither rendered nor kept."""
    if memo is None:
        return Deferred(render, page=True)
    key = memo.key(template, view)  # made once: pickling the view is the costly part
    return memo.reuse(key, render) or Deferred(render, key, page=True)


class Chunked:
    """A large file's bytes, made as a sequence of parts each time they are asked for and never
    joined: publishing digests the parts, then writes them if the digest changed, so the file is
    made twice, part by part, rather than held whole once."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Iterable[bytes]]) -> None:
        self.make = make

    def parts(self) -> Iterator[bytes]:
        """The file's bytes in parts, made now: each call makes them again."""
        return iter(self.make())


class Digested:
    """A small file whose digest is known before it is made (an image's `image.json`, digested
    when its pieces were made): publishing compares the digest with the copy's manifest and
    makes the bytes only to write them."""

    __slots__ = ("make", "sha256")

    def __init__(self, make: Callable[[], bytes], sha256: str) -> None:
        self.make = make
        self.sha256 = sha256

    def read(self) -> bytes:
        return self.make()


def encoded_parts(*texts: Iterable[str], errors: str = "strict") -> Iterator[bytes]:
    """The `texts`, in order, as UTF-8 parts of about `PART_SIZE` characters each: a chunked
    file's parts, each encoded alone (the texts are not copied but into their part). `errors`:
    as `str.encode` takes it ("surrogateescape" writes names that are not UTF-8 as read)."""
    batch: list[str] = []
    size = 0
    for text in itertools.chain(*texts):
        batch.append(text)
        size += len(text)
        if size >= PART_SIZE:
            yield "".join(batch).encode("utf-8", errors)
            batch, size = [], 0
    if batch:
        yield "".join(batch).encode("utf-8", errors)


def made_when_written(data: object) -> bool:
    """Whether a value of the site's mapping is made only when written: its digest is not
    known before (`Deferred`, `Chunked`)."""
    return isinstance(data, Deferred | Chunked)


def parts_of(data: bytes | Reused | Deferred | Digested | Chunked) -> Iterator[bytes]:
    """The bytes a value of the site's mapping stands for, as parts: a `Chunked` file in the
    parts it is made in, never joined; any other as one part, whole."""
    if isinstance(data, Chunked):
        return data.parts()
    return iter((data.read() if isinstance(data, Reused | Deferred | Digested) else data,))
