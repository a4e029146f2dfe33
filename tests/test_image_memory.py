"""What an Image weighs: every image of a catalog lives for the whole build, and each stage
that sets fields (history, aliases, links, lifecycle) makes a copy of it (`with_fields`)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from generator.catalog.model import Image, with_fields
from tests.test_bounded_memory import catalog_of, star_like

COUNT = 60


def test_a_copy_of_an_image_costs_its_slots_not_a_dict(tmp_path: Path) -> None:
    """A copy with one field changed shares every value with its original: what it adds is
    the object itself, 45 slots (0.4 KB), where an attribute dict weighed 1.6 KB."""
    star_like(tmp_path, COUNT)
    images = catalog_of(tmp_path, COUNT).images
    tracemalloc.start()
    try:
        copies = [with_fields(image, lifecycle="deprecated") for image in images]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held / COUNT < 600, f"{held / COUNT:,.0f} B per copied image"
    assert [c.lifecycle for c in copies] == ["deprecated"] * COUNT
    assert [c.id for c in copies] == [i.id for i in images]
    assert all(
        getattr(c, name) is getattr(i, name)
        for c, i in zip(copies, images, strict=True)
        for name in Image.__dataclass_fields__
        if name != "lifecycle"
    )
