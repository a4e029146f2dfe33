"""The history keeps each image's record token beside its fingerprint: an image whose record is
the one its row was made from is not fingerprinted again (`catalog.history.update_history`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from generator.build import build
from generator.catalog import history
from generator.state.database import STATE_FILE
from tests.conftest import Clock, config_for, image_entries, write_tree

IMG = "sl7.3_x86_64_sl20a_8GB"


def rows(state_dir: Path) -> dict[str, tuple]:
    with sqlite3.connect(state_dir / STATE_FILE) as db:
        query = "SELECT id, record_token, description_sha256 FROM images"
        return {row[0]: row[1:] for row in db.execute(query)}


def test_an_image_of_the_same_record_is_not_fingerprinted_again(tmp_path: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    files = {}
    for n in range(3):
        files |= image_entries(f"xen/{IMG}_{n}.img", f"image {n}\n", f"# Image {n}\n")
    repo = write_tree(config.repository, files)
    catalog = build(config, clock).catalog
    assert catalog is not None
    state_dir = config.state_dir(config.repository)
    tokens = {image.id: image.record_token for image in catalog.images}
    assert {i: row[0] for i, row in rows(state_dir).items()} == tokens and all(tokens.values())
    with sqlite3.connect(state_dir / STATE_FILE) as db:  # a fingerprint only a new one would see
        db.execute("UPDATE images SET description_sha256 = 'other' WHERE id = ?", (f"xen/{IMG}_0",))
    (repo / f"xen/{IMG}_1.txt").write_text("# Image 1, edited\n")
    clock.advance(1)
    catalog = build(config, clock).catalog
    assert catalog is not None
    after = rows(state_dir)
    assert after[f"xen/{IMG}_0"][1] == "other"  # same token: taken as unchanged
    edited = next(i for i in catalog.images if i.id == f"xen/{IMG}_1")
    assert after[f"xen/{IMG}_1"][0] == edited.record_token != tokens[edited.id]
    assert [e.title for e in catalog.events] == [f"New description: xen/{IMG}_1"]


def test_rows_without_a_token_get_it_with_no_news(tmp_path: Path) -> None:
    """As after the migration that added the column: each row gets its image's token, and
    an image whose fingerprint is unchanged is not news."""
    config, clock = config_for(tmp_path), Clock()
    files = {}
    for n in range(3):
        files |= image_entries(f"xen/{IMG}_{n}.img", f"image {n}\n", f"# Image {n}\n")
    repo = write_tree(config.repository, files)
    build(config, clock)
    state_dir = config.state_dir(config.repository)
    with sqlite3.connect(state_dir / STATE_FILE) as db:
        db.execute("UPDATE images SET record_token = NULL")
    (repo / f"xen/{IMG}_2.txt").write_text("# Image 2, edited\n")
    clock.advance(1)
    catalog = build(config, clock).catalog
    assert catalog is not None
    tokens = {image.id: image.record_token for image in catalog.images}
    assert {i: row[0] for i, row in rows(state_dir).items()} == tokens
    assert [e.title for e in catalog.events] == [f"New description: xen/{IMG}_2"]


def all_rows(state_dir: Path) -> list[tuple]:
    with sqlite3.connect(state_dir / STATE_FILE) as db:
        images = db.execute("SELECT * FROM images ORDER BY id").fetchall()
        return images + db.execute("SELECT * FROM events ORDER BY image_id, kind").fetchall()


def test_rows_written_a_batch_at_a_time_are_the_rows_written_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build writes every image's record (1.6 KB each) `WRITE_BATCH` images at a time,
    not all held at once: batches of 2 give the rows, news included, that one batch gives."""
    found, start = [], Clock().now  # both runs on the same clock: their rows hold its times
    for batch in (2, 1000):
        monkeypatch.setattr(history, "WRITE_BATCH", batch)
        config, clock = config_for(tmp_path / str(batch)), Clock(start)
        files = {}
        for n in range(7):
            files |= image_entries(f"xen/{IMG}_{n}.img", f"image {n}\n", f"# Image {n}\n")
        repo = write_tree(config.repository, files)
        build(config, clock)
        (repo / f"xen/{IMG}_3.txt").write_text("# Image 3, edited\n")
        write_tree(repo, image_entries(f"xen/{IMG}_9.img", "image 9\n", "# Image 9\n"))
        clock.advance(1)
        catalog = build(config, clock).catalog
        assert catalog is not None and len(catalog.events) == 2
        found.append(all_rows(config.state_dir(config.repository)))
    assert found[0] == found[1] and len(found[0]) == 8 + 2
