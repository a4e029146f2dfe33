"""A page the other copy holds is linked into the copy being written, never copied, and a file
with two names is never written through: the live copy keeps its bytes."""

from __future__ import annotations

import os
from pathlib import Path

from generator.publish.copies import current_build
from tests.test_page_reuse import IMAGES, build, repository


def page(copy: Path, image_id: str) -> Path:
    return copy / "images" / image_id / "index.html"


def edit(repo: Path, n: int, text: str) -> None:
    (repo / f"{IMAGES[n]}.txt").write_text(f"# Image {n}\n\n{text}\n")


def test_pages_both_copies_hold_are_one_file(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    first = current_build(tmp_path / "site")
    edit(repo, 0, "Edited.")
    build(repo, tmp_path)  # the other copy, written for the first time: linked, not copied
    second = current_build(tmp_path / "site")
    assert second != first
    for image_id in IMAGES[1:]:
        kept, linked = page(first, image_id).stat(), page(second, image_id).stat()
        assert (kept.st_ino, kept.st_nlink) == (linked.st_ino, 2), image_id
    assert page(first, IMAGES[0]).stat().st_ino != page(second, IMAGES[0]).stat().st_ino


def test_a_page_with_two_names_is_replaced_never_written_through(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    edit(repo, 0, "Edited.")
    build(repo, tmp_path)
    live = current_build(tmp_path / "site")
    shown = page(live, IMAGES[3]).read_bytes()
    edit(repo, 3, "Edited while both copies hold its page.")
    build(repo, tmp_path)  # writes the other copy, whose page of image 3 is the live one's file
    new = current_build(tmp_path / "site")
    assert new != live
    assert page(live, IMAGES[3]).read_bytes() == shown  # the old copy kept what it showed
    assert b"Edited while both copies" in page(new, IMAGES[3]).read_bytes()
    assert page(new, IMAGES[3]).stat().st_nlink == 1


def test_a_damaged_page_of_the_other_copy_is_rendered_not_linked(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    first = current_build(tmp_path / "site")
    damaged = page(first, IMAGES[4])
    right = damaged.read_bytes()
    damaged.write_bytes(b"not the page\n")  # in place: the recorded digest no longer holds
    os.utime(damaged, ns=(0, 0))
    edit(repo, 0, "Edited.")
    build(repo, tmp_path)
    second = current_build(tmp_path / "site")
    assert page(second, IMAGES[4]).read_bytes() == right
    assert page(second, IMAGES[4]).stat().st_ino != damaged.stat().st_ino
    assert damaged.read_bytes() == b"not the page\n"  # the old copy is not this run's to mend
