"""The few fields of an image that the checks across images read: its facts.

Most of an image (its description, members, commands) matters to its own page only. The passes
that compare images with each other read only what `ImageFacts` names: names spelled in another
case (`case_variants`), one content under two names, a replacement that exists and the lifecycle
(`lifecycle`), the lines behind the `latest/` aliases (`aliases`), the versions and renames of
the history (`moves`). A test runs them on records holding these fields and no others
(`tests/test_image_facts.py`). That is what lets a build take part in them every unchanged image
it never reads back whole (issue: O(change) builds), as an `Image` takes part now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from generator.problems import Problem


class ImageFacts(Protocol):
    """What the catalog-wide passes may read of an image (an `Image` has all of it)."""

    @property
    def id(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def vm(self) -> str: ...
    @property
    def os(self) -> str | None: ...
    @property
    def arch(self) -> str | None: ...
    @property
    def word_size(self) -> int | None: ...
    @property
    def star_lib(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def multi_file(self) -> bool: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def max_size_bytes(self) -> int | None: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def content_key(self) -> str | None: ...
    @property
    def fields(self) -> Mapping[str, Any]:
        """The front matter; the passes read only its `lifecycle.LIFECYCLE_KEYS`."""

    @property
    def problems(self) -> Sequence[Problem]: ...
    @property
    def lifecycle(self) -> str: ...
    @property
    def first_seen(self) -> str | None: ...
    @property
    def last_changed(self) -> str | None: ...


FACT_NAMES = tuple(name for name in vars(ImageFacts) if not name.startswith("_"))
