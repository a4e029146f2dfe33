"""The deferred pages of a site, rendered on every core while publishing writes them.

Rendering the pages a full build has not published before is most of its publishing time
(about 0.9 ms of CPU each, holding the GIL). `MadePages` hands them all, in the order of their
paths, to `generator.parallel.shared_chunks`: forked workers render them a chunk at a time,
and publishing takes each page's bytes as it reaches its path, so no more than a few chunks of
pages are held at once (`_renderers`: one worker per core). A few pages (an edit, an added
image) are rendered here, without a fork; so are deferred files that are not pages
(`image.json`: a line already made).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping

from generator.parallel import cores, shared_chunks
from generator.site.deferred import Deferred


class MadePages:
    """The bytes of a site's deferred files, asked for in the order of their paths.

    Close it (`with`) when done: workers still rendering pages nobody will ask for are stopped.
    """

    def __init__(self, files: Mapping[str, object]) -> None:
        pages = [
            (path, data)
            for path, data in sorted(files.items())
            if isinstance(data, Deferred) and data.page
        ]
        self._paths = iter([path for path, _ in pages])
        made = [data for _, data in pages]
        self._chunks: Generator[list[bytes]] = shared_chunks(_made, made, _renderers())
        self._ready: dict[str, bytes] = {}

    def __enter__(self) -> MadePages:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers, if any are still running."""
        self._chunks.close()
        self._ready.clear()

    def bytes_of(self, relpath: str, data: Deferred) -> bytes:
        """The file's bytes: a page as a worker rendered it (or rendered here), else made now."""
        if not data.page:
            return data.read()
        while relpath not in self._ready:
            chunk = next(self._chunks, None)
            if chunk is None:  # asked out of order: made here as it would be in a worker
                return data.read()
            self._ready.update((path, page) for page, path in zip(chunk, self._paths, strict=False))
        return self._ready.pop(relpath)


def _made(data: Deferred) -> bytes:
    return data.read()


def _renderers() -> int:
    """Processes rendering pages, this one included: one more than the cores when there are
    two or more. This process spends much of its time creating files (20,000 in a full build
    of 10,000 images), and while it waits on the file system the extra worker keeps its core
    rendering: that full build took 18 s rather than 20 s on two cores. Confined to one core,
    a build renders alone, as it reads alone."""
    count = cores()
    return count + 1 if count > 1 else 1
