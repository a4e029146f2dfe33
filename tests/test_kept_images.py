"""Image records kept between builds (`catalog.kept`): used only under their exact key, equal to
what a fresh build makes, rebuilt when damaged, and never holding problems from other images."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from generator.catalog.image_record import NAMES, BadRecord, image_from_text, image_text
from generator.catalog.model import with_fields
from generator.demo import make_demo
from tests.conftest import directory_image, image_entries, read_catalog, run_cli, write_tree
from tests.golden import site_files

PLAIN = "xen/sl7.3_x86_64_sl20a_8GB_base"
SETTLED = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: no file is within the racy window
OTHER_SITE = ("--base-url", "https://www.star.bnl.gov/vm/")  # makes a build run whole
DESCRIPTION = NAMES.index("description_text")


def build(repo: Path, tmp_path: Path, *extra: str, site: str = "site") -> dict:
    done = run_cli("build", "--repository", str(repo), "--output", str(tmp_path / site),
                   "--state", str(tmp_path / "state"), *extra, env=SETTLED)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return read_catalog(tmp_path / site)


def kept_rows(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        return dict(db.execute("SELECT image_id, value FROM kept_images"))


def set_row(tmp_path: Path, image_id: str, value: str) -> None:
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        db.execute("UPDATE kept_images SET value = ? WHERE image_id = ?", (value, image_id))


def with_description(value: str, text: str) -> str:
    values = json.loads(value)
    values[DESCRIPTION] = text
    return json.dumps(values)


def unlinked(images: list[dict]) -> list[dict]:
    """Images as catalog.json lists them, less the permalink (it follows --base-url)."""
    return [{key: value for key, value in i.items() if key != "permalink"} for i in images]


def repository(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo",
        {
            **image_entries(f"{PLAIN}.img", b"plain\n", "---\nkernel: 3.10\n---\n# Plain\n"),
            **image_entries("kvm/sl6.4_x86_64_sl11d_20GB_batch.img", b"batch\n", "Batch.\n"),
        },
    )


def test_a_build_whose_records_are_kept_publishes_the_bytes_of_a_fresh_one(
    tmp_path: Path,
) -> None:
    """The demo has every kind of image: directories, mismatches, front matter, case variants,
    unreadable and missing sidecars. A build from kept records writes the same site."""
    make_demo(tmp_path / "repo")
    images = build(tmp_path / "repo", tmp_path)["images"]
    fresh = site_files((tmp_path / "site").resolve())
    rows = kept_rows(tmp_path)
    assert len(rows) >= len(images) - 3  # not kept: secrets, unreadable files
    build(tmp_path / "repo", tmp_path, site="again")  # nothing published there: runs whole
    assert site_files((tmp_path / "again").resolve()) == fresh
    assert kept_rows(tmp_path) == rows


def test_every_kept_record_reads_back_equal(tmp_path: Path) -> None:
    make_demo(tmp_path / "repo")
    build(tmp_path / "repo", tmp_path)
    for value in kept_rows(tmp_path).values():
        image = image_from_text(value)
        assert image_text(image) == value
        assert image_from_text(image_text(image)) == image


def test_the_next_build_shows_the_kept_record_until_a_file_or_digest_changes(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    image_id = PLAIN
    set_row(tmp_path, image_id, with_description(kept_rows(tmp_path)[image_id], "Kept."))
    shown = {i["id"]: i for i in build(repo, tmp_path, *OTHER_SITE)["images"]}
    assert shown[image_id]["description"] == "Kept."  # the record, not the file
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:  # another digest outcome
        db.execute("UPDATE files SET read_at = read_at - 1 WHERE relpath = ?", (f"{PLAIN}.img",))
    shown = {i["id"]: i for i in build(repo, tmp_path)["images"]}
    assert shown[image_id]["description"] == "# Plain"
    set_row(tmp_path, image_id, with_description(kept_rows(tmp_path)[image_id], "Kept."))
    (repo / f"{PLAIN}.txt").write_text("# Plain, edited\n")
    shown = {i["id"]: i for i in build(repo, tmp_path, *OTHER_SITE)["images"]}
    assert shown[image_id]["description"] == "# Plain, edited"


@pytest.mark.parametrize("garbage", ["", "[1, 2]", '{"c": "Image"}', "not json", "[" * 5000])
def test_a_damaged_record_is_built_again(tmp_path: Path, garbage: str) -> None:
    repo = repository(tmp_path)
    first = build(repo, tmp_path)
    set_row(tmp_path, PLAIN, garbage)
    again = build(repo, tmp_path, *OTHER_SITE)
    assert unlinked(again["images"]) == unlinked(first["images"])
    assert image_from_text(kept_rows(tmp_path)[PLAIN]).description_text == "# Plain"


@pytest.mark.parametrize("text", ["", "[]", "{}", "[" * 5000, json.dumps([None] * len(NAMES))])
def test_text_that_is_no_record_is_refused(text: str) -> None:
    with pytest.raises(BadRecord):
        image_from_text(text)


def test_problems_from_other_images_are_found_again_each_build(tmp_path: Path) -> None:
    """A kept record holds its own problems only: a case variant depends on the other names."""
    odd = "xen/SL7.3_x86_64_sl20a_8GB_odd.img"
    repo = write_tree(
        tmp_path / "repo",
        {
            **image_entries(odd, b"odd\n", "Odd.\n"),
            **image_entries("xen/sl7.3_x86_64_sl20a_8GB_a.img", b"a\n", "A.\n"),
            **image_entries("xen/sl7.3_x86_64_sl20a_8GB_b.img", b"b\n", "B.\n"),
        },
    )
    first = build(repo, tmp_path)
    assert [p["path"] for p in first["problems"] if p["code"] == "case_variant"] == [odd]
    for stem in ("a", "b"):  # the odd spelling becomes the usual one
        for suffix in (".img", ".checksum", ".txt"):
            os.remove(repo / f"xen/sl7.3_x86_64_sl20a_8GB_{stem}{suffix}")
    write_tree(repo, directory_image("xen/SL7.3_x86_64_sl20a_8GB_dir", {"disk.img": b"d\n"}))
    again = build(repo, tmp_path, "--accept-removals")
    assert [p for p in again["problems"] if p["code"] == "case_variant"] == []


def test_with_fields_is_replace_without_init(tmp_path: Path) -> None:
    make_demo(tmp_path / "repo")
    build(tmp_path / "repo", tmp_path)
    for value in kept_rows(tmp_path).values():
        image = image_from_text(value)
        changes = {"first_seen": "2100-01-01T00:00:00Z", "history": [{"at": "x"}]}
        assert with_fields(image, **changes) == replace(image, **changes)
        assert image.first_seen is None  # the original is left as it was
    with pytest.raises(TypeError, match="not fields of Image: \\['colour'\\]"):
        with_fields(image, colour="red")
