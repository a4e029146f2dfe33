"""`ValueBytes` keeps its pickler between calls: it must give, call after call, exactly the
bytes a fresh `view_bytes` gives, also after a view it could not pickle."""

from __future__ import annotations

import threading

from generator.site.page_memo import ValueBytes, view_bytes
from generator.site.views import Link

VIEWS = [
    ("inputs", "a", None, 3, (1.5, True)),
    [Link("../x/", "x", True), {"k": ["v", b"w"]}],
    "a" * 100_000,  # more than one pickle frame
    (),
]


def test_each_call_gives_the_bytes_of_a_fresh_pickler() -> None:
    values = ValueBytes()
    for _ in range(2):
        for view in VIEWS:
            assert values(view) == view_bytes(view)


def test_an_unpicklable_view_spoils_no_later_call() -> None:
    values = ValueBytes()
    assert values(VIEWS[0]) == view_bytes(VIEWS[0])
    assert values(["fine", threading.Lock()]) is None  # fails half-way through the list
    for view in VIEWS:
        assert values(view) == view_bytes(view)


def test_tokens_stand_for_their_objects_in_every_call() -> None:
    link = Link("../y/", "y")
    values = ValueBytes()
    first = values(("page", link), {id(link): (link, "key-1")})
    assert first == view_bytes(("page", link), {id(link): (link, "key-1")})
    assert values(("page", link), {id(link): (link, "key-2")}) != first  # the tokens given now
    assert values(("page", link)) == view_bytes(("page", link))  # none: pickled in full
