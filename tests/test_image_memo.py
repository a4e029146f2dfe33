"""What the site makes of each image (row, catalog.json line, search words) is kept by a key of
the image: an edit or an added image computes its own pieces only, and the site is the same
as one made from nothing, whatever happened to the kept pieces."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.build import build as run_build
from generator.build import catalog_of, site_catalog
from generator.catalog.model import Catalog
from generator.config import Config
from generator.publish.copies import current_build
from generator.publish.page_reuse import page_memo
from generator.publish.published import published_catalog
from generator.resources import content_dir
from generator.session import BUILD, opened
from generator.site.content import load_content
from generator.site.deferred import Digested
from generator.site.image_memo import ImageMemo, decode_line, encode_line
from generator.site.page_memo import Reused
from generator.site.record_lines import RecordLines
from generator.site.records import image_record
from generator.site.render import Layout, render_site
from generator.state.image_pieces import StatePieceStore
from tests.conftest import ROOT, Clock, config_for, image_entries, run_cli, write_tree

IMAGES = [f"{vm}/sl7.{n}_x86_64_sl20a_8GB_n{n:02d}" for n in range(6) for vm in ("xen", "kvm")]
SETTLED = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: far from the racy window
# Small enough numbers that the test catalog gets search-index.json and listing pages.
LARGE = Layout(table_limit=4, preview_rows=2, listing_page_size=5)


def repository(tmp_path: Path) -> Path:
    entries = {}
    for n, image in enumerate(IMAGES):
        front = "---\nkernel: 3.10.0\n---\n" if n % 3 == 0 else ""
        text = f"{front}# Image {n}\n\nWorker for **grid** jobs, root 5.34.{n}.\n"
        entries.update(image_entries(f"{image}.img", f"bytes {n}\n", text))
    return write_tree(tmp_path / "repo", entries)


def site_of_next_build(config: Config, clock: Clock) -> tuple[Catalog, ImageMemo, dict]:
    """The catalog the next build publishes, rendered with the pieces kept in the state (as
    `build` renders it), the kept pieces' memo and the files made."""
    clock.advance(1)
    with opened(config, clock, state=True, output=True) as session:
        read = catalog_of(session, BUILD).catalog
        catalog = site_catalog(read, session, published_catalog(config.output))
        memo = ImageMemo(StatePieceStore(session.state))
        files = render_site(
            catalog, load_content(content_dir()), config.title, layout=LARGE,
            memo=page_memo(config.output), images=memo,
        )  # fmt: skip
    return catalog, memo, files


def assert_as_made_from_nothing(catalog: Catalog, config: Config, files: dict) -> None:
    """Every file has the bytes a render with no memo of any kind gives."""
    fresh = render_site(catalog, load_content(content_dir()), config.title, layout=LARGE)
    assert set(files) == set(fresh)
    for path, data in files.items():
        assert (data.read() if isinstance(data, Reused) else data) == fresh[path], path


def edit(repo: Path) -> None:
    (repo / f"{IMAGES[4]}.txt").write_text("# Image 4\n\nRebuilt with **geant** 3.21.\n")


def add(repo: Path) -> None:
    added = "vmware/sl7.2_x86_64_sl21b_8GB_added"
    write_tree(repo, image_entries(f"{added}.img", b"added\n", "# Added\n\nA **geant** node.\n"))


@pytest.mark.parametrize(("change", "reused"), [(edit, len(IMAGES) - 1), (add, len(IMAGES))])
def test_an_edit_or_an_added_image_computes_the_pieces_of_that_image_only(
    tmp_path: Path, change: Callable[[Path], None], reused: int
) -> None:
    repo = repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)  # keeps every image's pieces
    change(repo)
    catalog, memo, files = site_of_next_build(config, clock)
    assert (memo.computed, memo.reused) == (1, reused)
    assert b"geant" in files["search-text.json"]
    assert_as_made_from_nothing(catalog, config, files)


SHARED = ("name", "detail", "md5", "max_size_bytes", "size_bytes")


def test_rows_hold_their_images_values_not_copies_of_them(tmp_path: Path) -> None:
    """A row read back from the state, or made by a worker, shows its image's name, digest,
    detail and sizes as the image's own objects (0.2 KB a row less at 100,000 images)."""
    repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    catalog, memo, _ = site_of_next_build(config, clock)
    assert memo.reused == len(IMAGES)
    made = ImageMemo().pieces(catalog.images * 8)  # 96 images: made by a worker, on two cores
    for pieces in (memo.pieces(catalog.images), made[-len(IMAGES) :]):
        for image, piece in zip(catalog.images, pieces, strict=True):
            assert all(getattr(piece.row, name) is getattr(image, name) for name in SHARED)


def test_image_json_files_come_with_their_digest_and_are_made_only_to_be_written(
    tmp_path: Path,
) -> None:
    """Each `image.json` of a deferred render from kept pieces is `Digested`: its digest, kept
    with the pieces, is that of the bytes it makes, and those are the bytes of a whole render."""
    repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    clock.advance(1)
    with opened(config, clock, state=True, output=True) as session:
        read = catalog_of(session, BUILD).catalog
        catalog = site_catalog(read, session, published_catalog(config.output))
        memo = ImageMemo(StatePieceStore(session.state))
        pages = load_content(content_dir())
        files = render_site(catalog, pages, config.title, images=memo, defer=True)
    assert memo.reused == len(IMAGES)
    whole = render_site(catalog, pages, config.title)
    made = {path: data for path, data in files.items() if path.endswith("/image.json")}
    assert len(made) == len(IMAGES)
    for path, data in made.items():
        assert isinstance(data, Digested), path
        assert data.read() == whole[path]
        assert data.sha256 == hashlib.sha256(whole[path]).hexdigest()


DAMAGED = 6  # rows `damage_rows` damages


def damage_rows(db: sqlite3.Connection, table: str, column: str) -> None:
    """Damage `DAMAGED` rows of a table of kept values, taken in the order of `column`: one
    loses its last byte, one gets another row's bytes, one has a bit flipped (its own check no
    longer matches), one is gone, and two hold another type (text, a number) where the bytes
    were."""
    rows = [v for (v,) in db.execute(f"SELECT {column} FROM {table} ORDER BY {column}")]
    assert len(rows) == len(IMAGES)
    where = f"WHERE {column} = ?"
    db.execute(f"UPDATE {table} SET value = substr(value, 1, length(value) - 1) {where}",
               (rows[0],))  # fmt: skip
    db.execute(f"UPDATE {table} SET value = (SELECT value FROM {table} {where}) {where}",
               (rows[2], rows[1]))  # fmt: skip
    value = bytearray(db.execute(f"SELECT value FROM {table} {where}", (rows[3],)).fetchone()[0])
    value[40] ^= 1
    db.execute(f"UPDATE {table} SET value = ? {where}", (bytes(value), rows[3]))
    db.execute(f"DELETE FROM {table} {where}", (rows[4],))
    db.execute(f"UPDATE {table} SET value = 'text' {where}", (rows[5],))
    db.execute(f"UPDATE {table} SET value = 7 {where}", (rows[6],))


def test_damaged_or_deleted_pieces_are_computed_again(tmp_path: Path) -> None:
    repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        damage_rows(db, "image_pieces", "key")
    catalog, memo, files = site_of_next_build(config, clock)
    # The images whose kept pieces are damaged or missing (the one given another image's bytes
    # among them: they hold that image's row, not its own).
    assert (memo.computed, memo.reused) == (DAMAGED, len(IMAGES) - DAMAGED)
    assert_as_made_from_nothing(catalog, config, files)
    with opened(config, clock, state=True) as session:  # the damaged ones were replaced
        again = ImageMemo(StatePieceStore(session.state))
        again.pieces(catalog.images)
    assert (again.computed, again.reused) == (0, len(IMAGES))


def test_catalog_json_lines_are_read_back_from_the_state(tmp_path: Path) -> None:
    """The lines are not held with the pieces: catalog.json and `image.json` take each from the
    state when they are made (a line planted there with a valid check shows, as the state is the
    program's own: the check finds damage, not forgery)."""
    repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    image = IMAGES[3]
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        key, blob = db.execute(
            "SELECT key, value FROM image_records WHERE image_id = ?", (image,)
        ).fetchone()
        line = decode_line(key, blob)
        assert line is not None and f'"id":"{image}"' in line
        planted = line.replace(f'"id":"{image}"', f'"id":"{image}","planted":true')
        db.execute("UPDATE image_records SET value = ? WHERE image_id = ?",
                   (encode_line(key, planted), image))  # fmt: skip
    _, memo, files = site_of_next_build(config, clock)
    assert memo.reused == len(IMAGES)
    assert files["catalog.json"].count(b'"planted":true') == 1
    assert files[f"images/{image}/image.json"] == planted.encode() + b"\n"


def test_damaged_or_missing_catalog_json_lines_are_made_again(tmp_path: Path) -> None:
    """Damaged or missing lines (`damage_rows`): each is made again from its image, and the
    site is the one made from nothing."""
    repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        damage_rows(db, "image_records", "image_id")
    catalog, memo, files = site_of_next_build(config, clock)
    assert (memo.computed, memo.reused) == (0, len(IMAGES))  # the pieces themselves are whole
    assert_as_made_from_nothing(catalog, config, files)


def test_lines_come_in_the_images_order_whatever_the_state_holds(tmp_path: Path) -> None:
    """The state gives the lines by id; images in another order, or one whose line is gone,
    still get their own lines, in their order."""
    repository(tmp_path)
    config, clock = config_for(tmp_path), Clock()
    run_build(config, clock)
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        db.execute("DELETE FROM image_records WHERE image_id = ?", (sorted(IMAGES)[5],))
    catalog, _, _ = site_of_next_build(config, clock)
    expected = {image.id: image_record(image) for image in catalog.images}
    with opened(config, clock, state=True) as session:
        memo = ImageMemo(StatePieceStore(session.state))
        memo.pieces(catalog.images)
        for images in (catalog.images, catalog.images[::-1], catalog.images[1::2]):
            lines = list(RecordLines(images, memo).lines())
            assert lines == [expected[image.id] for image in images]
            assert [RecordLines(images, memo).line(image) for image in images] == lines


def cli_build(repo: Path, tmp_path: Path, *extra: str, cwd: Path | None = None) -> None:
    done = run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), *extra, cwd=cwd, env=SETTLED)  # fmt: skip
    assert done.returncode == 0, done.stderr


def kept_keys(tmp_path: Path) -> set[str]:
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        return {key for (key,) in db.execute("SELECT key FROM image_pieces")}


def live_files(tmp_path: Path) -> dict[str, bytes]:
    live = current_build(tmp_path / "site")
    assert live is not None
    return {p.relative_to(live).as_posix(): p.read_bytes() for p in live.rglob("*") if p.is_file()}


def test_a_build_keeps_the_pieces_of_its_own_images_only(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    cli_build(repo, tmp_path)
    first = kept_keys(tmp_path)
    assert len(first) == len(IMAGES)
    (repo / f"{IMAGES[2]}.txt").write_text("# Image 2\n\nEdited.\n")
    cli_build(repo, tmp_path)
    second = kept_keys(tmp_path)
    assert len(second - first) == 1 and len(first - second) == 1  # the edited image's
    (repo / f"{IMAGES[5]}.img").unlink()
    (repo / f"{IMAGES[5]}.checksum").unlink()
    (repo / f"{IMAGES[5]}.txt").unlink()
    cli_build(repo, tmp_path)
    assert kept_keys(tmp_path) < second and len(second - kept_keys(tmp_path)) == 1


def test_another_program_or_other_links_compute_every_piece_again(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    cli_build(repo, tmp_path)
    first = kept_keys(tmp_path)
    # The same images under another base URL: every catalog.json line names a new permalink.
    cli_build(repo, tmp_path, "--base-url", "https://www.star.bnl.gov/vm/")
    linked = kept_keys(tmp_path)
    assert len(linked) == len(IMAGES) and not linked & first
    assert (
        b'"permalink":"https://www.star.bnl.gov/vm/images/'
        in live_files(tmp_path)[f"images/{IMAGES[0]}/image.json"]
    )
    # Another program: a copy of this one with one source file changed by a comment.
    program = tmp_path / "program"
    for name in ("generator", "site_templates", "content"):
        shutil.copytree(ROOT / name, program / name, ignore=shutil.ignore_patterns("__pycache__"))
    with (program / "generator" / "site" / "views.py").open("a") as views:
        views.write("# another program\n")
    cli_build(repo, tmp_path, "--base-url", "https://www.star.bnl.gov/vm/", cwd=program)
    patched = kept_keys(tmp_path)
    assert len(patched) == len(IMAGES) and not patched & linked


def test_a_site_from_kept_pieces_is_the_site_from_none(tmp_path: Path) -> None:
    """The same build from copies of one state: with its pieces kept, and with none."""
    repo = repository(tmp_path)
    cli_build(repo, tmp_path)
    (repo / f"{IMAGES[1]}.txt").write_text("# Image 1\n\nEdited.\n")
    write_tree(repo, image_entries("vmware/sl7.9_x86_64_sl20a_8GB_added.img", b"new\n", "# New\n"))
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "state", other / "state")
    with sqlite3.connect(other / "state" / "state.sqlite") as db:
        db.execute("DELETE FROM image_pieces")
    cli_build(repo, tmp_path)
    cli_build(repo, other)
    assert live_files(tmp_path) == live_files(other)
