"""What a build holds while it renders: every image of its catalog (and each stage that sets
fields, history, aliases, links, lifecycle, makes a copy of it: `with_fields`), but not what
only an earlier stage needed."""

from __future__ import annotations

import inspect
import tracemalloc
from pathlib import Path

from generator.build import BUILD, build
from generator.build import catalog_of as catalog_of_session
from generator.catalog.model import Image, with_fields
from generator.session import opened
from generator.state import database
from tests.conftest import Clock, config_for
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


def test_the_state_file_rows_are_let_go_once_hashing_is_over(tmp_path: Path) -> None:
    """After the catalog is made, the state's mapping of its file rows (one per file, about
    0.4 KB each) is no longer held while the site is rendered and published."""
    star_like(tmp_path, COUNT)
    config = config_for(tmp_path, jobs=1)
    clock = Clock()
    build(config, clock=clock, publish=False)  # the rows the next build reads back
    clock.advance(5)
    with opened(config, clock, state=True, output=True) as session:
        tracemalloc.start()
        try:
            catalog = catalog_of_session(session, BUILD).catalog
            snapshot = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        assert catalog is not None and len(catalog.images) == COUNT
        assert session.state is not None and session.state.files  # read again when asked
    lines, first = inspect.getsourcelines(database.State.files.fget)
    mapping = first + next(n for n, line in enumerate(lines) if "self._files = {" in line)
    rows = snapshot.filter_traces([tracemalloc.Filter(True, database.__file__, mapping)])
    held = sum(stat.size for stat in rows.statistics("filename"))
    assert held == 0, f"{held:,} B held by the state's mapping of file rows"
