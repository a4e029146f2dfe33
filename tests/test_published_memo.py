"""The live catalog.json's facts kept in the state (`publish.published_memo`): equal to what
reading the file gives, after builds that remove, rename and add images; never taken for a
file changed since; kept when new digests void the state's reports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from generator.build import build
from generator.config import Config
from generator.publish.copies import current_build
from generator.publish.manifest import key_path
from generator.publish.published import published_catalog
from generator.publish.published_memo import (
    MEMO,
    file_identity,
    live_catalog,
    remember_published,
)
from generator.state.database import open_state
from generator.verify.hashing import FileDigest
from tests.conftest import Clock, config_for, image_entries, write_tree

LINE = "sl7.3_x86_64_sl20a_8GB"


def recalled(config: Config, clock: Clock):
    """What the state holds of the live catalog.json, and what reading the file gives."""
    state = open_state(config.state_dir(config.repository), clock)
    try:
        stored = state.snapshot(*MEMO)
        source = current_build(config.output) / "catalog.json"
        assert stored is not None and json.loads(stored)["file"] == file_identity(source)
        return live_catalog(config.output, state), published_catalog(config.output)
    finally:
        state.close()


def test_the_kept_facts_are_those_the_file_gives(tmp_path: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    repo = write_tree(
        config.repository,
        {
            **image_entries(f"xen/{LINE}_a.img", b"a" * 100, "# A\n"),
            **image_entries(f"xen/{LINE}_b.img", b"b" * 100),
            **image_entries(f"kvm/{LINE}_c.img", b"c" * 100),
            "kvm/sl6.4_x86_64_sl20a_8GB_d.img": b"no checksum beside it",  # a problem
        },
    )
    build(config, clock)
    kept, read = recalled(config, clock)
    assert kept == read and read is not None and len(read.image_ids) == 4 and read.problems
    assert read.alias_paths  # the lines' `latest/` pages
    clock.advance(1)
    (repo / f"xen/{LINE}_b.img").unlink()  # removed: a tombstone
    os.rename(repo / f"kvm/{LINE}_c.img", repo / f"kvm/{LINE}_e.img")  # renamed: moved_to
    (repo / f"kvm/{LINE}_c.checksum").unlink()
    write_tree(repo, image_entries(f"kvm/{LINE}_e.img", b"c" * 100))
    build(config, clock)
    kept, read = recalled(config, clock)
    assert kept == read and read is not None
    assert {t.id: t.moved_to for t in read.removed} == {
        f"xen/{LINE}_b": None,
        f"kvm/{LINE}_c": f"kvm/{LINE}_e",
    }
    state = open_state(config.state_dir(config.repository), clock)
    try:  # kept by a build that read the file (one whose state had no record of it)
        state.save_snapshot(*MEMO, "{}", clock())
        assert live_catalog(config.output, state) == read
    finally:
        state.close()
    assert recalled(config, clock) == (read, read)


def test_a_file_written_since_is_read_again(tmp_path: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    write_tree(config.repository, image_entries(f"xen/{LINE}_a.img"))
    build(config, clock)
    source = current_build(config.output) / "catalog.json"
    before = source.stat()
    time.sleep(0.05)  # past the granularity of the file's times
    text = source.read_text()
    generated_at = json.loads(text)["generated_at"]
    changed = generated_at.replace(generated_at[:4], "1999")  # the same size
    source.write_text(text.replace(generated_at, changed))
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the ctime tells
    state = open_state(config.state_dir(config.repository), clock)
    try:
        found = live_catalog(config.output, state)
        assert found is not None and found.generated_at == changed
    finally:
        state.close()


def test_a_copy_published_without_its_key_is_not_remembered(tmp_path: Path) -> None:
    """A copy whose signing failed after rendering is left without a key: the catalog in hand
    then holds a problem its catalog.json does not."""
    config, clock = config_for(tmp_path), Clock()
    write_tree(config.repository, image_entries(f"xen/{LINE}_a.img"))
    catalog = build(config, clock).catalog
    assert catalog is not None
    key_path(current_build(config.output)).write_text("")
    state = open_state(config.state_dir(config.repository), clock)
    try:
        state.save_snapshot(*MEMO, "{}", clock())
        remember_published(state, config.output, catalog)
        assert state.snapshot(*MEMO) == "{}"
    finally:
        state.close()


def test_new_digests_void_the_reports_but_not_the_kept_facts(tmp_path: Path) -> None:
    clock = Clock()
    state = open_state(tmp_path / "state", clock)
    try:
        state.save_snapshot("build", "last", "{}", clock())
        state.save_snapshot(*MEMO, "{}", clock())
        state.record(FileDigest("xen/new.img"))
        assert state.snapshot("build", "last") is None
        assert state.snapshot(*MEMO) == "{}"
    finally:
        state.close()
