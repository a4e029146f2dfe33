"""The listing pages, `list/<n>/`: every image in catalog order, for readers without JavaScript.

A page ends where its rows say, not every `size` rows: after a row whose permalink's checksum
picks it (one row in `size`, on average) once the page holds a fifth of `size` rows; past twice
`size` rows, after any row one in a tenth of `size` picks; and always at three times `size`.
Pages of a fixed size would all shift by a row when an image is added or removed before them,
and be rendered and written again (21 pages at 10,000 images); these keep their rows, and no
page shows a figure of the whole catalog (how many images, where the page starts), so an added
image changes the page it is on and no other. Only a change at a page's edge moves an edge (the
added row is picked, the row that was picked goes, or a row moves across a threshold), and then
the next page changes too; the number of pages changes only with the number of edges.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

from generator.site.views import Link, ListingPage, Row, columns, has_format

LEAST_SHARE = 5  # a page holds at least `size // LEAST_SHARE` rows (but the last)
LONG_TIMES = 2  # past `LONG_TIMES * size` rows, rows picked `LONG_SHARE` times as often end it
LONG_SHARE = 10
MOST_TIMES = 3  # and it holds at most `MOST_TIMES * size`


def picks(url: str, one_in: int) -> bool:
    """Whether the row of `url` is one in `one_in` that may end a page: a checksum of the
    permalink, so the same rows end pages whatever else the catalog holds (not `hash`, which
    changes from process to process)."""
    return zlib.crc32(url.encode()) % one_in == 0


def long_rate(size: int) -> int:
    """One row in how many ends a page past `LONG_TIMES * size` rows."""
    return max(2, size // LONG_SHARE)


def page_spans(rows: Sequence[Row], size: int) -> list[tuple[int, int]]:
    """(start, end) of each page's rows, in order; one page when there are no rows."""
    least, long, most = max(1, size // LEAST_SHARE), LONG_TIMES * size, MOST_TIMES * size
    often = long_rate(size)
    spans, start = [], 0
    for n, row in enumerate(rows):
        held = n + 1 - start
        ends = held >= least and picks(row.url, size)
        if ends or held >= most or (held >= long and picks(row.url, often)):
            spans.append((start, n + 1))
            start = n + 1
    if start < len(rows) or not spans:
        spans.append((start, len(rows)))
    return spans


def listing_pages(rows: list[Row], nav: Callable[[int], Any], size: int) -> dict[str, ListingPage]:
    """`list/<n>/index.html` for every page of `page_spans`."""
    spans = page_spans(rows, size)
    count, cols, show_format = len(spans), columns(rows), has_format(rows)
    pages = {}
    for number, (start, end) in enumerate(spans, 1):
        links = [Link(f"../{n}/index.html", str(n), n == number) for n in range(1, count + 1)]
        pages[f"list/{number}/index.html"] = ListingPage(
            nav=nav(2),
            number=number,
            page_count=count,
            columns=cols,
            show_format=show_format,
            rows=rows[start:end],
            pages=links,
            previous=f"../{number - 1}/index.html" if number > 1 else None,
            next=f"../{number + 1}/index.html" if number < count else None,
        )
    return pages
