"""Reads kept by fingerprint: an unchanged image's files are not opened again by `build`."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from generator.config import Config
from generator.read.names import parse_name
from generator.read.parse import read_files
from generator.read.scan import scan
from generator.read.stored_reads import decode, encode
from generator.session import BUILD, parse_rules
from generator.state.database import open_state
from generator.state.stored_reads import WRITE_ROWS, StateReadStore
from tests.conftest import image_entries, read_catalog, run_cli, write_tree
from tests.open_watch import OpenWatch

PLAIN = "xen/sl7.3_x86_64_sl20a_8GB_base"
EDITED = "kvm/sl6.4_x86_64_sl11d_20GB_batch"
SECRET = "kvm/sl5.3_x86_32_sl05c_8GB_ec2"
SEED = "Zq8xK3seedvalue"
SETTLED = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: far from the racy window
OTHER_SITE = ("--base-url", "https://www.star.bnl.gov/vm/")


def repository(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo",
        {
            **image_entries(f"{PLAIN}.img", b"plain bytes\n", "---\nkernel: 3.10\n---\n# Plain\n"),
            **image_entries(f"{EDITED}.img", b"edited bytes\n", "First *text*.\n"),
            **image_entries(
                f"{SECRET}.img", b"seeded bytes\n", f"Boot, then:\n\n    SEED={SEED}\n"
            ),
        },
    )


def build(repo: Path, tmp_path: Path, *extra: str) -> dict:
    done = run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), "--private-output",
                   str(tmp_path / "members"), *extra, env=SETTLED)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return read_catalog(tmp_path / "site")


def files_of(repo: Path, image: str) -> list[Path]:
    return [repo / f"{image}{suffix}" for suffix in (".img", ".checksum", ".txt")]


def test_unchanged_images_are_not_opened_and_read_the_same(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    first = build(repo, tmp_path)
    watch = OpenWatch([*files_of(repo, PLAIN), *files_of(repo, EDITED), *files_of(repo, SECRET)])
    try:
        # Another base URL: the whole build runs (an unchanged run would not even read the tree:
        # see test_unchanged_run), but what the files say does not depend on it.
        second = build(repo, tmp_path, *OTHER_SITE)
        # Only the description holding a secret is read again: its text as written is kept
        # nowhere, and the members-only copy needs it.
        assert watch.touched() == set(files_of(repo, SECRET))
        assert [{**i, "permalink": None} for i in second["images"]] == [
            {**i, "permalink": None} for i in first["images"]
        ]
        (repo / f"{EDITED}.txt").write_text("Second **text**.\n")
        third = build(repo, tmp_path, *OTHER_SITE)
        assert watch.touched() == set(files_of(repo, EDITED) + files_of(repo, SECRET))
        build(repo, tmp_path, *OTHER_SITE)  # nothing changed since: the tree is not read at all
        assert watch.touched() == set()
    finally:
        watch.close()
    edited = {i["id"]: i for i in third["images"]}[EDITED]
    assert edited["description"] == "Second **text**."
    members = (tmp_path / "members" / "images" / SECRET / "index.html").read_text()
    public = (tmp_path / "site" / "images" / SECRET / "index.html").read_text()
    assert f"SEED={SEED}" in members and SEED not in public


def test_kept_reads_never_hold_a_secret(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    build(repo, tmp_path)
    state = b"".join(p.read_bytes() for p in (tmp_path / "state").rglob("*") if p.is_file())
    assert b"First *text*." in state  # the other descriptions are kept
    assert SEED.encode() not in state


def test_other_settings_read_the_headers_again(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    config = tmp_path / "catalog.yaml"
    config.write_text("vm-formats:\n  xen: [qcow2]\n  kvm: [raw]\n")
    watch = OpenWatch([repo / f"{PLAIN}.img"])
    try:
        found = build(repo, tmp_path, "--config", str(config))
        assert watch.touched() == {repo / f"{PLAIN}.img"}
    finally:
        watch.close()
    codes = {(p["path"], p["code"]) for p in found["problems"]}
    assert (f"{PLAIN}.img", "format_vm_mismatch") in codes


def test_a_file_replaced_under_its_old_times_is_read_again(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    build(repo, tmp_path)
    path = repo / f"{EDITED}.txt"
    st = path.stat()
    path.write_text("Other *text*.\n")  # as long as "First *text*.\n"
    assert path.stat().st_size == st.st_size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # `touch -r`: only ctime tells
    found = {i["id"]: i for i in build(repo, tmp_path)["images"]}
    assert found[EDITED]["description"] == "Other *text*."


def test_a_kept_read_decodes_to_the_values_and_types_of_a_fresh_read(tmp_path: Path) -> None:
    front = "---\nkernel: 3.10\nusers: [alice, {name: bob, ids: [1, 2.5]}]\nday: 2020-01-02\n---\n"
    repo = write_tree(
        tmp_path / "repo",
        {
            **image_entries(f"{PLAIN}.img", b"plain bytes\n", f"{front}# Plain\n\n*one*\n"),
            **image_entries("virtualbox/sl7.1_x86_64_sl20a_8GB_raw.img", b"raw\n", "Raw.\n"),
            **image_entries("kvm/sl7.2_x86_64_sl20a_8GB_none.img", b"no text\n"),
        },
    )
    config = Config(repository=repo, state=tmp_path / "state", output=tmp_path / "site")
    rules = parse_rules(config, BUILD)
    scanned = scan(repo)
    assert len(scanned.images) == 3
    reads = {}
    for entry in scanned.images:
        name = parse_name(entry.relpath, entry.name, entry.is_dir, rules.known)[0]
        fresh = reads[entry.id] = read_files(scanned.root, entry, name, rules)
        kept = decode(encode(fresh))
        assert kept == fresh, entry.relpath
        assert repr(kept) == repr(fresh), entry.relpath  # also list / tuple / dict order
    assert reads[PLAIN].description.fields["users"][1] == {"name": "bob", "ids": [1, 2.5]}
    assert reads["virtualbox/sl7.1_x86_64_sl20a_8GB_raw"].format_problems


@pytest.mark.parametrize("value", ["", "[]", "{}", "[" * 5000, '{"format": 1}'])
def test_a_damaged_kept_read_is_read_again_not_a_crash(value: str) -> None:
    assert decode(value) is None


def test_new_rows_are_written_as_the_parse_goes_and_stale_ones_dropped_at_its_end(
    tmp_path: Path,
) -> None:
    """A first build does not hold every new row until the end (100,000 of them: 300 MB)."""
    state = open_state(tmp_path / "state", lambda: 1.0)
    store = StateReadStore(state, 1.0, "kept_images")
    store.put("xen/gone", "k", "old")
    store.save(["xen/gone"])
    ids = [f"xen/n{n}" for n in range(WRITE_ROWS + 5)]
    for image_id in ids:
        store.put(image_id, "k", "v")

    def rows() -> set[str]:
        with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
            return {row[0] for row in db.execute("SELECT image_id FROM kept_images")}

    assert rows() == {"xen/gone", *ids[:WRITE_ROWS]}  # written before `save`
    store.save(ids)
    assert rows() == set(ids)  # the rest written, the image no longer there dropped
    state.close()


def test_a_batch_lookup_finds_only_values_kept_under_their_key(tmp_path: Path) -> None:
    """`get_many` answers as `get` would for each image, and counts its hits the same way
    (so `save` still tells stale rows from kept ones)."""
    state = open_state(tmp_path / "state", lambda: 1.0)
    store = StateReadStore(state, 1.0, "kept_images")
    for n in range(5):
        store.put(f"xen/n{n}", f"k{n}", f"v{n}")
    store.put("xen/gone", "k", "old")
    store.save([f"xen/n{n}" for n in range(5)] + ["xen/gone"])
    wanted = [("xen/n0", "k0"), ("xen/n1", "other"), ("xen/n2", "k2"), ("xen/new", "k")]
    found = store.get_many(wanted)
    assert found == {"xen/n0": "v0", "xen/n2": "v2"}
    assert found == {i: v for i, k in wanted if (v := store.get(i, k)) is not None}
    assert store.get_many([]) == {}
    store.save([i for i, _ in wanted])  # images no longer there: n3, n4 and gone dropped

    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        kept = {row[0] for row in db.execute("SELECT image_id FROM kept_images")}
    assert kept == {"xen/n0", "xen/n1", "xen/n2"}
    state.close()
