"""What a build holds while it renders: every image of its catalog (and each stage that sets
fields, history, aliases, links, lifecycle, makes a copy of it: `with_fields`), but not what
only an earlier stage needed."""

from __future__ import annotations

import gc
import inspect
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from generator.build import BUILD, build
from generator.build import catalog_of as catalog_of_session
from generator.catalog.image_record import kept_image
from generator.catalog.model import Image, with_fields
from generator.session import opened
from generator.site.image_memo import decode
from generator.state import database
from tests.conftest import Clock, config_for
from tests.test_bounded_memory import catalog_of, star_like

COUNT = 60
SETTLED = 4_102_444_800.0  # 2100: no file is within the racy window, so records are kept


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


@pytest.mark.parametrize("few", [10, database.FEW_FILES])  # all rows read at once; by path
def test_the_state_file_rows_are_let_go_once_hashing_is_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """After the catalog is made, the state's mapping of its file rows (one per file, about
    0.4 KB each) is no longer held while the site is rendered and published, whether they were
    read all at once or by path (fewer than `FEW_FILES`)."""
    monkeypatch.setattr(database, "FEW_FILES", few)
    star_like(tmp_path, COUNT)
    # A rehash policy with nothing due: every image is verified (none taken as vouched for,
    # `catalog.kept`), so the next build reads every file row back.
    config = config_for(tmp_path, jobs=1, rehash_older_than=1000.0)
    clock = Clock()
    build(config, clock=clock, publish=False)  # the rows the next build reads back
    clock.advance(5)
    with opened(config, clock, state=True, output=True) as session:
        tracemalloc.start()
        try:
            catalog = catalog_of_session(session, BUILD).catalog
            # Freed rows' tuples may wait in the interpreter's free list of tuples, which
            # tracemalloc counts as allocated (one row's after some tests, 57 after a collection
            # just before the build); a full collection empties the free lists.
            gc.collect()
            snapshot = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        assert catalog is not None and len(catalog.images) == COUNT
        assert session.state is not None and session.state.files  # read again when asked
    lines, first = inspect.getsourcelines(database._cached_files)
    mapping = first + next(n for n, line in enumerate(lines) if "return {" in line)
    rows = snapshot.filter_traces([tracemalloc.Filter(True, database.__file__, mapping)])
    held = sum(stat.size for stat in rows.statistics("filename"))
    assert held == 0, f"{held:,} B held by the state's mapping of file rows"


def test_images_and_rows_hold_one_object_for_a_text_they_share(tmp_path: Path) -> None:
    """Made fresh or read back from the state, the images of a VM share one object for its name,
    and so do images with the same OS, status or second of reading; an image read back holds
    one object for the name and digest its member repeats. Rows read back share their facet
    values and labels. About 2.5 KB less an image, 250 MB at 100,000."""
    star_like(tmp_path, COUNT)
    config = config_for(tmp_path, jobs=1)
    fresh = build(config, clock=lambda: SETTLED).catalog
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        records = [value for (value,) in db.execute("SELECT value FROM kept_images")]
        pieces = list(db.execute("SELECT key, value FROM image_pieces"))
    kept = [kept_image(value) for value in records]
    assert fresh is not None and len(kept) == len(pieces) == COUNT
    for images in (fresh.images, kept):
        for name in ("vm", "os", "status", "verified_at"):
            assert one_object_per_text([getattr(image, name) for image in images]), name
    for image in kept:
        (member,) = image.members
        assert member.name is image.name
        assert image.md5 is image.expected_md5 is member.digests[0].hex is member.expected.hex
        assert image.sha256 is member.digests[1].hex
    rows = [made.row for made in (decode(key, blob) for key, blob in pieces) if made is not None]
    assert len(rows) == COUNT
    for name in ("vm", "vm_label", "os", "status_label", "verified", "lifecycle_label", "words"):
        assert one_object_per_text([getattr(row, name) for row in rows]), name


def one_object_per_text(texts: list[str]) -> bool:
    return len({id(text) for text in texts}) == len(set(texts)) < len(texts)
