"""`Image.record_token` stands for an image's record in page keys: it holds only if the catalog
sets no field after the records are made but those of `SET_LATER`, and if pages follow those."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from generator.build import build
from generator.catalog.image_record import NAMES, image_text, kept_image, record_token
from generator.catalog.model import SET_LATER
from generator.demo import make_demo
from tests.conftest import config_for, image_entries, write_tree

LATER = 4102444800.0  # 2100: no file is within the racy window, every date has passed
REPLACED = "kvm/sl6.4_x86_64_sl11d_20GB_old"
LIFECYCLE = "---\ndeprecated: 2020-01-01\nreplaced_by: xen/sl7.3_x86_64_sl20a_8GB_base\n---\nOld.\n"


def kept_rows(tmp_path: Path) -> dict[str, bytes]:
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        return dict(db.execute("SELECT image_id, value FROM kept_images"))


def repository(tmp_path: Path) -> Path:
    """The demo (directories, mismatches, secrets, case variants) and a deprecated image."""
    repo = tmp_path / "repo"
    make_demo(repo)
    return write_tree(repo, image_entries(f"{REPLACED}.img", b"old\n", LIFECYCLE))


def test_an_image_differs_from_its_record_only_in_the_fields_set_later(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    config = config_for(
        tmp_path,
        base_url="https://www.star.bnl.gov/vm/",
        download_base_url="https://www.star.bnl.gov/files/vm/",
    )
    build(config, clock=lambda: LATER)
    edited = next(repo.glob("xen/*.txt"))
    edited.write_text(edited.read_text() + "\nEdited.\n")  # a second version in its history
    catalog = build(config, clock=lambda: LATER + 86400).catalog
    assert catalog is not None
    rows = kept_rows(tmp_path)
    compared, changed = 0, set()
    for image in catalog.images:
        assert image.record_token
        if image.id not in rows:  # not kept (a secret, an unreadable file)
            continue
        record = kept_image(rows[image.id])
        assert record.record_token == image.record_token == record_token(image_text(record))
        for name in NAMES:
            if name in SET_LATER:
                changed |= {name} if getattr(image, name) != getattr(record, name) else set()
            else:
                assert getattr(image, name) == getattr(record, name), (image.id, name)
        compared += 1
    assert compared >= len(catalog.images) - 3
    # Each field set later did change somewhere, so the comparison above covered real cases.
    assert changed == set(SET_LATER) - {"free_bytes"}, changed


def page(site: Path, image_id: str) -> str:
    return (site / "images" / image_id / "index.html").read_text()


def test_a_page_follows_a_field_set_later_when_its_record_is_unchanged(tmp_path: Path) -> None:
    """A case variant arriving changes the problems of an image whose record stays kept."""
    image_id = "xen/SL7.3_x86_64_sl20a_8GB_base"
    repo = write_tree(tmp_path / "repo", image_entries(f"{image_id}.img", b"a\n", "A.\n"))
    config = config_for(tmp_path)
    build(config, clock=lambda: LATER)
    assert "other names write it" not in page(tmp_path / "site", image_id)
    for n in (1, 2):  # most names now spell it `sl7.3`
        write_tree(repo, image_entries(f"xen/sl7.3_x86_64_sl20a_8GB_n{n}.img", b"b\n", "B.\n"))
    catalog = build(config, clock=lambda: LATER + 60).catalog
    assert catalog is not None
    (image,) = (i for i in catalog.images if i.id == image_id)
    assert any(p.code == "case_variant" for p in image.problems)
    assert image.record_token == kept_image(kept_rows(tmp_path)[image_id]).record_token  # kept
    assert "while 2 other names write it" in page(tmp_path / "site", image_id)
