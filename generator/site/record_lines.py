"""The images' catalog.json lines, read back from the state when catalog.json or an `image.json`
is written.

A build holds every image's site pieces through publishing (`image_memo`), but an image's line
(1.3 KB, the largest of its pieces: 130 MB at 100,000 images) is needed only to write
catalog.json, and its `image.json` when that changed. The state keeps the lines apart from the
pieces, under the same key, and gives them back a row at a time in the order of the images' ids,
which is the catalog's: catalog.json is made (when published, and again for exports or a
signature) without its lines being held, all of them or a batch.

A line the state does not give back (no state, one that could not be written, a damaged row) is
made again from its image (`image_record`): the lines are always the images' own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from generator.catalog.model import Image
from generator.site.image_memo import ImageMemo
from generator.site.records import image_record


class RecordLines:
    """Where the images' lines come from: the memo's state, else made from the images.

    `made`: lines made already, by image id (a site rendered in memory, a benchmark).
    """

    def __init__(
        self,
        images: Sequence[Image],
        memo: ImageMemo | None = None,
        made: Mapping[str, str] | None = None,
    ) -> None:
        self.images = images
        self.memo = memo
        self.made = made or {}

    def lines(self) -> Iterator[str]:
        """Every image's line, in the images' order (by id, as the catalog holds them)."""
        kept = self.memo.kept_lines(self.images) if self.memo is not None else iter(())
        waiting: dict[str, str] = {}
        for image in self.images:
            line = _take(image.id, kept, waiting)
            yield line or self.made.get(image.id) or image_record(image)

    def line(self, image: Image) -> str:
        """One image's line (its `image.json`)."""
        kept = self.memo.kept_line(image) if self.memo is not None else None
        return kept or self.made.get(image.id) or image_record(image)


def _take(image_id: str, kept: Iterator[tuple[str, str]], waiting: dict[str, str]) -> str | None:
    """The line of `image_id` among the `kept` ones (by id): a line of a later id read before
    its image was reached waits for it (one at most); None once the kept lines passed the id
    without holding it. Images in another order than their ids get lines made again, never a
    growing number held."""
    found = waiting.pop(image_id, None)
    if found is not None:
        return found
    for kept_id, line in kept:
        if kept_id == image_id:
            return line
        if kept_id > image_id:
            waiting[kept_id] = line
            return None
    return None  # lines of ids below (images in another order) are let go, made again if asked
