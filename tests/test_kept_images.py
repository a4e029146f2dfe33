"""Image records kept between builds (`catalog.kept`): used only under their exact key, equal to
what a fresh build makes, held light (the heavy fields decoded when asked for, never held),
rebuilt when damaged, and never holding problems from other images."""

from __future__ import annotations

import copy as copy_module
import marshal
import os
import pickle
import sqlite3
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from generator.build import build as build_here
from generator.catalog import image_record
from generator.catalog.image_record import (
    CHECK_SIZE,
    HEAVY,
    BadRecord,
    KeptImage,
    image_text,
    kept_image,
    kept_value,
    record_token,
)
from generator.catalog.model import Catalog, Image, with_fields
from generator.demo import make_demo
from generator.state.database import SCHEMA_VERSION
from tests.conftest import (
    Clock,
    config_for,
    directory_image,
    image_entries,
    read_catalog,
    run_cli,
    write_tree,
)
from tests.golden import site_files

PLAIN = "xen/sl7.3_x86_64_sl20a_8GB_base"
SETTLED = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: no file is within the racy window
OTHER_SITE = ("--base-url", "https://www.star.bnl.gov/vm/")  # makes a build run whole


def build(repo: Path, tmp_path: Path, *extra: str, site: str = "site") -> dict:
    done = run_cli("build", "--repository", str(repo), "--output", str(tmp_path / site),
                   "--state", str(tmp_path / "state"), *extra, env=SETTLED)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return read_catalog(tmp_path / site)


def kept_rows(tmp_path: Path) -> dict[str, bytes]:
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        return dict(db.execute("SELECT image_id, value FROM kept_images"))


def set_row(tmp_path: Path, image_id: str, value: str | bytes) -> None:
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        db.execute("UPDATE kept_images SET value = ? WHERE image_id = ?", (value, image_id))


def with_description(value: bytes, text: str) -> bytes:
    return kept_value(image_text(with_fields(kept_image(value), description_text=text)))


def unpacked(image: Image) -> set[str]:
    """The heavy fields an image holds (all of them, but none for a kept one)."""
    found = set()
    for name in HEAVY:
        try:
            getattr(Image, name).__get__(image)  # the slot itself: asking would decode
        except AttributeError:
            continue
        found.add(name)
    return found


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
    """Read back light, then asked for every field: the record as `image_text` wrote it, and
    still light afterwards (but for a directory image, which holds what it decoded)."""
    make_demo(tmp_path / "repo")
    build(tmp_path / "repo", tmp_path)
    for value in kept_rows(tmp_path).values():
        image = kept_image(value)
        assert type(image) is KeptImage and unpacked(image) == set()
        text = image_text(image)  # asks for every field
        assert unpacked(image) == (set(HEAVY) if image.multi_file else set())
        assert image.record_token == record_token(text)
        assert kept_value(text) == value
        assert image == kept_image(value) and kept_image(value) == image


def decoded_images(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the kept images whose heavy fields are decoded from now on, in order (the
    real decoding runs: this only notes whose)."""
    seen: list[str] = []
    decode = image_record._heavy_of

    def noted(image: KeptImage) -> dict:
        if image_record._LAST[0] is not image:
            seen.append(image.id)
        return decode(image)

    monkeypatch.setattr(image_record, "_heavy_of", noted)
    return seen


def forty_images(tmp_path: Path) -> Path:
    files = {}
    for n in range(40):
        relpath = f"kvm/sl6.{n}_x86_64_sl11d_20GB_batch.img"
        files.update(image_entries(relpath, f"image {n}\n".encode(), f"Image {n}.\n"))
    return write_tree(tmp_path / "repo", files)


def edited_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, description: str
) -> tuple[Catalog, list[str]]:
    """Build the tree in `tmp_path/repo`, write "Edited." into one image's description, build
    again: that build's catalog, and the kept images it decoded (`decoded_images`)."""
    config, clock = config_for(tmp_path), Clock()
    build_here(config, clock=clock)
    (tmp_path / "repo" / description).write_text("Edited.\n")
    clock.advance(1)
    decoded = decoded_images(monkeypatch)
    catalog = build_here(config, clock=clock).catalog
    assert catalog is not None
    return catalog, decoded


def test_an_edit_build_decodes_no_image_it_does_not_show_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Of 40 kept images, a build after one description changed decodes only the edited one
    (read from its files, then kept and held light like the others): the others' pages are
    the published ones."""
    forty_images(tmp_path)
    catalog, decoded = edited_build(tmp_path, monkeypatch, "kvm/sl6.7_x86_64_sl11d_20GB_batch.txt")
    assert len(catalog.images) == 40
    edited = next(i for i in catalog.images if i.id == "kvm/sl6.7_x86_64_sl11d_20GB_batch")
    assert set(decoded) == {edited.id}  # its pieces and page made
    assert "Edited." in edited.description_html
    assert {type(i) for i in catalog.images} == {KeptImage}
    assert all(i.description_text.startswith("Image ") for i in catalog.images if i is not edited)
    assert len(set(decoded)) == 40 and [i.id for i in catalog.images if unpacked(i)] == []


def test_a_directory_image_is_decoded_once_however_often_its_members_are_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The passes that compare images ask for each directory image's members (its content
    key), and the SUMS files for each digest: a directory image holds its heavy fields once
    decoded, and so do its copies, so an edit build decodes each once; a single file, not at
    all unless its page is made."""
    files = {}
    for n in range(3):
        disk = {"disk.img": f"disk {n}\n", "swap.img": f"swap {n}\n"}
        files.update(directory_image(f"xen/sl7.{n}_x86_64_sl20a_8GB_dir", disk))
        files.update(image_entries(f"kvm/sl6.{n}_x86_64_sl11d_20GB_batch.img", f"{n}\n", "A.\n"))
    write_tree(tmp_path / "repo", files)
    catalog, decoded = edited_build(tmp_path, monkeypatch, "kvm/sl6.1_x86_64_sl11d_20GB_batch.txt")
    assert {type(i) for i in catalog.images} == {KeptImage}
    directories = sorted(i.id for i in catalog.images if i.multi_file)
    assert len(directories) == 3
    assert sorted(i for i in decoded if i.startswith("xen/")) == directories
    edited = "kvm/sl6.1_x86_64_sl11d_20GB_batch"
    assert {i for i in decoded if i.startswith("kvm/")} == {edited}  # for its pieces and page


def test_a_full_build_holds_the_images_it_made_as_they_are_kept(tmp_path: Path) -> None:
    """A first build holds each image whose record it keeps as a later build reads it back:
    light, its heavy fields packed (1.4 KB less an image held until publishing). The golden
    demo site (`test_golden`) holds their pages to the bytes of images made whole."""
    forty_images(tmp_path)
    catalog = build_here(config_for(tmp_path), clock=Clock()).catalog
    assert catalog is not None and len(catalog.images) == 40
    assert {type(i) for i in catalog.images} == {KeptImage}
    assert [i.id for i in catalog.images if unpacked(i)] == []
    assert [i.description_text for i in catalog.images] == [
        f"Image {n}." for n in sorted(range(40), key=lambda n: f"sl6.{n}_")
    ]


def test_the_images_held_share_the_values_they_hold_alike(tmp_path: Path) -> None:
    """Kept images hold one object for a front-matter key all of them use and one for each
    kind of history event, and each version's digests are its image's own texts, not copies."""
    files = {}
    for n in range(4):
        text = f"---\nkernel: 3.10.{n}\n---\nImage {n}.\n"
        files.update(image_entries(f"kvm/sl6.{n}_x86_64_sl11d_20GB_batch.img", f"{n}\n", text))
    repo = write_tree(tmp_path / "repo", files)
    config, clock = config_for(tmp_path), Clock()
    build_here(config, clock=clock)
    (repo / "kvm/sl6.0_x86_64_sl11d_20GB_batch.txt").write_text("---\nkernel: 4\n---\nNew.\n")
    clock.advance(1)
    catalog = build_here(config, clock=clock).catalog
    assert catalog is not None and {type(i) for i in catalog.images} == {KeptImage}
    keys = [key for image in catalog.images for key in image.fields]
    assert keys == ["kernel"] * 4 and all(key is keys[0] for key in keys)
    kinds = [version["event"] for image in catalog.images for version in image.history]
    assert kinds == ["added"] * 4 and all(kind is kinds[0] for kind in kinds)
    for image in catalog.images:
        assert image.history[0]["md5"] is image.md5 and image.history[0]["sha256"] is image.sha256


def verify(repo: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("verify", "--repository", str(repo), "--state", str(tmp_path / "state"),
                   *extra, env=SETTLED)  # fmt: skip


def test_the_next_build_shows_the_kept_record_until_a_file_changes_or_is_read_again(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    image_id = PLAIN
    set_row(tmp_path, image_id, with_description(kept_rows(tmp_path)[image_id], "Kept."))
    shown = {i["id"]: i for i in build(repo, tmp_path, *OTHER_SITE)["images"]}
    assert shown[image_id]["description"] == "Kept."  # the record, not the file
    assert verify(repo, tmp_path, "--rehash-older-than", "0").returncode == 0  # every file read
    assert kept_rows(tmp_path) == {}  # each record dropped before its image's files were read
    shown = {i["id"]: i for i in build(repo, tmp_path)["images"]}
    assert shown[image_id]["description"] == "# Plain"
    set_row(tmp_path, image_id, with_description(kept_rows(tmp_path)[image_id], "Kept."))
    (repo / f"{PLAIN}.txt").write_text("# Plain, edited\n")
    shown = {i["id"]: i for i in build(repo, tmp_path, *OTHER_SITE)["images"]}
    assert shown[image_id]["description"] == "# Plain, edited"


def test_a_verify_that_reads_nothing_again_keeps_every_record(tmp_path: Path) -> None:
    """Only an image with a file about to be read loses its record: a `verify` of an unchanged
    tree (every digest reused) keeps them all, and one after a file changed drops that image's."""
    repo = repository(tmp_path)
    build(repo, tmp_path)
    kept = kept_rows(tmp_path)
    assert verify(repo, tmp_path).returncode == 0
    assert kept_rows(tmp_path) == kept
    (repo / "kvm/sl6.4_x86_64_sl11d_20GB_batch.img").write_bytes(b"batch, changed\n")
    verify(repo, tmp_path)
    assert kept_rows(tmp_path) == {PLAIN: kept[PLAIN]}


def test_a_record_vouched_for_is_taken_without_looking_at_its_files_digests(
    tmp_path: Path,
) -> None:
    """A record kept under its reads' key alone stands for its files' digests: a digest row
    changed behind the tool's back is not looked at (the tool changes one only by reading the
    file, and drops the record first)."""
    repo = repository(tmp_path)
    build(repo, tmp_path)
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        db.execute("UPDATE file_digests SET hex = 'ff' || substr(hex, 3)")
    assert {i["status"] for i in build(repo, tmp_path, *OTHER_SITE)["images"]} == {"verified"}
    set_row(tmp_path, PLAIN, b"")  # damaged: the image is looked up the long way, its digest
    shown = {i["id"]: i["status"] for i in build(repo, tmp_path)["images"]}  # read from the row
    assert shown[PLAIN] == "mismatch"


def test_rot_a_scrub_finds_under_an_unchanged_stat_shows_in_the_next_build(tmp_path: Path) -> None:
    """The state trusts a digest that no longer describes the bytes (as after bit rot, which
    leaves the stat alone); `verify` scrubs, reads the file again and finds the mismatch; the
    next plain build (no scrub: vouched records are taken) shows it."""
    repo = repository(tmp_path)
    build(repo, tmp_path)
    image = repo / f"{PLAIN}.img"
    image.write_bytes(b"rotten\n")
    st = image.stat()
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:  # the old digest, trusted
        db.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, ctime_ns = ?, inode = ? WHERE relpath = ?",
            (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, f"{PLAIN}.img"),
        )
    shown = {i["id"]: i["status"] for i in build(repo, tmp_path, *OTHER_SITE)["images"]}
    assert shown[PLAIN] == "verified"  # not read: the rot is not found yet
    assert PLAIN in kept_rows(tmp_path)  # and the record is kept, vouched for
    assert verify(repo, tmp_path, "--rehash-older-than", "0").returncode == 1
    shown = {i["id"]: i["status"] for i in build(repo, tmp_path)["images"]}
    assert shown[PLAIN] == "mismatch"


def flipped(value: bytes) -> bytes:
    """The value with one bit of its payload changed."""
    return value[:-1] + bytes([value[-1] ^ 1])


@pytest.mark.parametrize(
    "garbage", ["", "not a value", b"", b"\0" * 40, flipped, lambda value: value[:-8]]
)
def test_a_damaged_record_is_built_again(tmp_path: Path, garbage: object) -> None:
    repo = repository(tmp_path)
    first = build(repo, tmp_path)
    kept = kept_rows(tmp_path)[PLAIN]
    set_row(tmp_path, PLAIN, garbage(kept) if callable(garbage) else garbage)  # type: ignore[arg-type]
    again = build(repo, tmp_path, *OTHER_SITE)
    assert unlinked(again["images"]) == unlinked(first["images"])
    assert kept_rows(tmp_path)[PLAIN] == kept
    assert kept_image(kept).description_text == "# Plain"


def checked(payload: object) -> bytes:
    """A value whose digest is right, around a payload of another shape."""
    data = marshal.dumps(payload)
    return zlib.crc32(data).to_bytes(CHECK_SIZE, "big") + data


@pytest.mark.parametrize(
    "value",
    ["", b"", b"\0" * CHECK_SIZE, checked([1, 2]), checked((("token", [1, 2]), b"")),
     checked((("token", []), "packed")), checked(((1, []), b""))],
)  # fmt: skip
def test_values_that_are_no_record_are_refused(value: object) -> None:
    with pytest.raises(BadRecord):
        kept_image(value)


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
    """Also for an image read back light, whose copy stays light."""
    make_demo(tmp_path / "repo")
    build(tmp_path / "repo", tmp_path)
    for value in kept_rows(tmp_path).values():
        image = kept_image(value)
        changes = {"first_seen": "2100-01-01T00:00:00Z", "history": [{"at": "x"}]}
        copy = with_fields(image, **changes)
        assert type(copy) is KeptImage and unpacked(copy) == set() == unpacked(image)
        assert copy == replace(image, **changes)
        assert image.first_seen is None  # the original is left as it was
        edited = with_fields(kept_image(value), description_text="Edited.")
        assert edited.description_text == "Edited."
        assert edited.description_html == image.description_html  # decoded around it
    with pytest.raises(TypeError, match="not fields of Image: \\['colour'\\]"):
        with_fields(image, colour="red")


def test_a_kept_image_pickles_and_copies_whole(tmp_path: Path) -> None:
    """Pickled (to a worker, say) or copied, a packed image arrives whole and equal."""
    repo = repository(tmp_path)
    build(repo, tmp_path)
    image = kept_image(kept_rows(tmp_path)[PLAIN])
    for copy in (pickle.loads(pickle.dumps(image)), copy_module.copy(image)):
        assert unpacked(copy) == set(HEAVY) and copy == image
        assert copy.description_text == "# Plain"


def test_rows_of_an_image_gone_are_dropped_and_of_those_present_kept(tmp_path: Path) -> None:
    """Kept reads and records of an image removed from the repository go with it; an edit
    build, which asks for none of the unchanged images' reads, keeps theirs."""
    repo = repository(tmp_path)
    (repo / "kvm/sl6.5_x86_64_sl11d_20GB_more.img").write_bytes(b"more\n")
    build(repo, tmp_path)

    def ids(table: str) -> set[str]:
        with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
            return {row[0] for row in db.execute(f"SELECT image_id FROM {table}")}

    three = {PLAIN, "kvm/sl6.4_x86_64_sl11d_20GB_batch", "kvm/sl6.5_x86_64_sl11d_20GB_more"}
    assert ids("stored_reads") == ids("kept_images") == three
    (repo / f"{PLAIN}.txt").write_text("# Plain, edited\n")
    build(repo, tmp_path)
    assert ids("stored_reads") == ids("kept_images") == three
    (repo / "kvm/sl6.5_x86_64_sl11d_20GB_more.img").unlink()
    build(repo, tmp_path)
    assert ids("stored_reads") == ids("kept_images") == three - {"kvm/sl6.5_x86_64_sl11d_20GB_more"}


def break_table(database: Path, table: str) -> None:
    """Destroy the root pages of a table and of its indexes: the database opens, and the first
    query reading that table fails (SQLITE_CORRUPT)."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = [r[0] for r in db.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = ?",
                                          (table,))]  # fmt: skip
    db.close()
    data = bytearray(database.read_bytes())
    for page in pages:
        data[(page - 1) * size : page * size] = b"\xff" * size
    database.write_bytes(bytes(data))


def test_a_state_rebuilt_during_a_build_keeps_no_record(tmp_path: Path) -> None:
    """A state found broken after the build recorded digests (here: reading the kept reads of
    an added image, once it was hashed) is moved aside and a new one started; the digests are in
    the old one, so no record is left standing for them, and the next build verifies every
    image again."""
    repo = repository(tmp_path)
    build(repo, tmp_path)
    write_tree(repo, image_entries("kvm/sl6.5_x86_64_sl11d_20GB_added.img", b"added\n", "New.\n"))
    break_table(tmp_path / "state" / "state.sqlite", "stored_reads")
    rebuilt = build(repo, tmp_path)
    assert "state_rebuilt" in {p["code"] for p in rebuilt["problems"]}
    assert kept_rows(tmp_path) == {}
    done = run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), "--verbose", env=SETTLED)  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = {i["id"]: i["status"] for i in read_catalog(tmp_path / "site")["images"]}
    assert set(shown.values()) == {"verified"} and len(shown) == len(kept_rows(tmp_path)) == 3


def test_a_state_of_the_schema_before_vouched_records_lets_their_records_go(
    tmp_path: Path,
) -> None:
    """Older versions never drop a record before reading a file again: their records go, and
    the version number keeps them off the state from then on (they refuse a newer schema)."""
    repo = repository(tmp_path)
    build(repo, tmp_path)
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        db.execute("DROP TABLE image_records")  # made by schema 13
        db.execute("PRAGMA user_version = 11")  # schema 12 brought vouched records
    assert len(kept_rows(tmp_path)) == 2
    shown = {i["id"]: i["status"] for i in build(repo, tmp_path, *OTHER_SITE)["images"]}
    assert set(shown.values()) == {"verified"}
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert len(kept_rows(tmp_path)) == 2  # kept anew by this build
