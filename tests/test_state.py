"""The state database: schema versions, survival of kill -9, and recovery from corruption."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from generator.digests import Digest
from generator.read.scan import FileStat
from generator.state.database import (
    FEW_FILES,
    MIGRATIONS,
    SCHEMA_VERSION,
    STATE_FILE,
    migrate,
    open_state,
)
from generator.verify.cached import CachedDigester, RehashPolicy
from generator.verify.verdict import digest_all
from tests.conftest import CLI, Clock, config_for, image_entries, run_cli, verify, write_tree
from tests.open_watch import OpenWatch

IMAGE = "xen/sl7.3_x86_64_sl20a_8GB_base.img"
MIB = 1 << 20


def test_new_state_has_the_current_schema(tmp_path: Path) -> None:
    state = open_state(tmp_path, Clock())
    tables = {r[0] for r in state.connection.execute("SELECT name FROM sqlite_master")}
    mode = state.connection.execute("PRAGMA journal_mode").fetchone()[0]
    version = state.connection.execute("PRAGMA user_version").fetchone()[0]
    state.close()
    assert {"files", "images"} <= tables and mode == "wal"
    assert version == SCHEMA_VERSION == len(MIGRATIONS) and state.problems == []


def test_migrate_from_every_older_version(tmp_path: Path) -> None:
    for start in range(SCHEMA_VERSION):
        db = sqlite3.connect(tmp_path / f"v{start}.sqlite", isolation_level=None)
        for number in range(start):
            db.executescript(MIGRATIONS[number])
        db.execute(f"PRAGMA user_version = {start}")
        migrate(db)
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.close()


def schema_9_rows(db: sqlite3.Connection, count: int) -> tuple[list[tuple], list[tuple]]:
    """Rows as a build of schema 9 wrote them: a published record and kept reads of 1-2 kB."""
    images, reads = [], []
    for n in range(count):
        image_id = f"kvm/sl7.{n % 10}_x86_64_sl20a_8GB_n{n:06d}"
        record = json.dumps({"id": image_id, "description": f"line {n} " * 150})
        images.append((image_id, 1.0, 2.0, None, None, f"{n:032x}", None, None, record, None))
        reads.append((image_id, f"{n:064x}", "[" + f'"{n}",' * 300 + "0]"))
    db.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", images)
    db.executemany("INSERT INTO stored_reads VALUES (?, ?, ?)", reads)
    return images, reads


def test_large_rows_move_to_rowid_tables_and_keep_their_values(tmp_path: Path) -> None:
    """Rows of 1-2 kB in a table WITHOUT ROWID spill into an overflow page each: migration 10
    moves `images` and `stored_reads` into rowid tables, every value kept, and the file is
    compacted once: as small as a state made with the new tables."""
    sizes = {}
    for version in (9, SCHEMA_VERSION):
        db = sqlite3.connect(tmp_path / f"v{version}.sqlite", isolation_level=None)
        for number in range(9):
            db.executescript(MIGRATIONS[number])
        db.execute("PRAGMA user_version = 9")
        if version == SCHEMA_VERSION:
            migrate(db)  # on the empty tables: the new layout, filled below
        images, reads = schema_9_rows(db, 2000)
        if version == 9:
            migrate(db)  # on the filled tables: every row copied over
            assert db.execute("SELECT * FROM images ORDER BY id").fetchall() == sorted(images)
            assert db.execute("SELECT * FROM stored_reads ORDER BY image_id").fetchall() == sorted(
                reads
            )
            assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0  # compacted once
        sql = "SELECT sql FROM sqlite_master WHERE name IN ('images', 'stored_reads')"
        assert not any("WITHOUT ROWID" in row[0] for row in db.execute(sql))
        sizes[version] = db.execute("PRAGMA page_count").fetchone()[0]
        db.close()
    old = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    for number in range(9):
        old.executescript(MIGRATIONS[number])
    schema_9_rows(old, 2000)
    before = old.execute("PRAGMA page_count").fetchone()[0]
    old.close()
    assert sizes[9] == sizes[SCHEMA_VERSION] and sizes[9] < 0.6 * before


def state_of_schema_3(path: Path, rows: list[tuple]) -> None:
    """A database as the previous release left it: md5 a column of `files`."""
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path, isolation_level=None)
    for number in range(3):
        db.executescript(MIGRATIONS[number])
    db.execute("PRAGMA user_version = 3")
    db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


def test_digests_of_the_previous_schema_are_reused_not_read_again(tmp_path: Path) -> None:
    image = write_tree(tmp_path / "repo", image_entries(IMAGE, os.urandom(3 * MIB))) / IMAGE
    md5 = subprocess.run(["md5sum", image], capture_output=True, text=True).stdout[:32]
    st, clock = image.stat(), Clock()
    fingerprint = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    old = [(IMAGE, *fingerprint, md5, clock.now, clock.now)]  # hashed a minute after written
    state_of_schema_3(tmp_path / "state" / STATE_FILE, old)
    watch = OpenWatch([image])
    try:
        result, statuses = verify(config_for(tmp_path, digests=("md5",)), clock)
        touched = watch.touched()
    finally:
        watch.close()
    assert image not in touched and result.stats.files_hashed == 0
    assert result.stats.digests_reused == 1 and statuses == {IMAGE[:-4]: "verified"}
    assert result.catalog.images[0].md5 == md5
    with sqlite3.connect(tmp_path / "state" / STATE_FILE) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(files)")]
        digests = db.execute("SELECT * FROM file_digests").fetchall()
        version = db.execute("PRAGMA user_version").fetchone()[0]
    db.close()
    assert "md5" not in columns and digests == [(IMAGE, "md5", md5)] and version == SCHEMA_VERSION


def test_a_cached_digest_lacking_an_algorithm_of_the_set_is_read_again(tmp_path: Path) -> None:
    image = write_tree(tmp_path / "repo", image_entries(IMAGE, os.urandom(MIB))) / IMAGE
    verify(config_for(tmp_path, digests=("md5",)), Clock())  # stores MD5 only
    member = FileStat.of(IMAGE, image.stat())
    both = ("md5", "sha256")
    state = open_state(tmp_path / "state", Clock())
    try:
        upgraded = CachedDigester(state, Clock(), algorithms=both)
        assert CachedDigester(state, Clock()).reuse(member) is not None
        assert upgraded.reusable(member) is None  # shown with MD5 alone until it is read
        assert upgraded.plan_rehash([(member,)], RehashPolicy()) == (MIB, 0)  # no budget: now
        assert upgraded.reuse(member) is None
        read = digest_all(tmp_path / "repo", [member], upgraded, jobs=1)[IMAGE]
    finally:
        state.close()
    sha256 = subprocess.run(["sha256sum", image], capture_output=True, text=True).stdout[:64]
    assert not read.reused and read.digests[1] == Digest("sha256", sha256)
    state = open_state(tmp_path / "state", Clock())
    try:
        again = CachedDigester(state, Clock(), algorithms=both).reuse(member)
    finally:
        state.close()
    assert again is not None and again.reused and again.digests == read.digests


def test_a_digester_told_its_files_reads_their_rows_alone(tmp_path: Path) -> None:
    """An edit build verifies a handful of files: their rows are looked up by path instead of
    every row of the state being read; a longer list reads them all, as without one."""
    names = [f"kvm/sl6.{n}_x86_64_sl11d_20GB_batch.img" for n in range(3)]
    files = {k: v for n in names for k, v in image_entries(n, n.encode()).items()}
    repo = write_tree(tmp_path / "repo", files)
    verify(config_for(tmp_path), Clock())
    members = [FileStat.of(name, (repo / name).stat()) for name in names]
    state = open_state(tmp_path / "state", Clock())
    try:
        assert set(state.file_rows(names[:1])) == {names[0]}
        assert set(state.file_rows([*names[:1], "kvm/absent.img"])) == {names[0]}
        told = CachedDigester(state, Clock(), paths=names[1:2])
        assert told.reuse(members[1]) is not None and told.reuse(members[0]) is None  # not told
        assert told.reuse(members[1]) == CachedDigester(state, Clock()).reuse(members[1])
        assert set(state.file_rows(names[:1] * (FEW_FILES + 1))) == set(names)  # every row
    finally:
        state.close()


def test_images_table_keeps_first_seen(tmp_path: Path) -> None:
    write_tree(tmp_path / "repo", image_entries(IMAGE, b"x" * 1000))
    config, clock = config_for(tmp_path), Clock()
    start = clock.now
    seen = []
    for days in (0, 0.01, 2):  # last_seen moves to the hour: a quiet run writes nothing
        clock.now = start + days * 86400
        verify(config, clock)
        with sqlite3.connect(tmp_path / "state" / STATE_FILE) as db:
            seen += db.execute(
                "SELECT id, first_seen, last_seen, removed_at FROM images"
            ).fetchall()
        db.close()
    image = "xen/sl7.3_x86_64_sl20a_8GB_base"
    assert seen == [
        (image, start, start, None),
        (image, start, start, None),
        (image, start, start + 2 * 86400, None),
    ]


def corrupt_pages(path: Path) -> None:
    """Overwrite everything after the first page (schema survives, table pages do not)."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xa5" * (size - 4096))


@pytest.mark.parametrize("damage", ["garbage", "pages"])
def test_corrupt_state_is_moved_aside_and_rebuilt(tmp_path: Path, damage: str) -> None:
    repo = tmp_path / "repo"
    for n in range(40):
        write_tree(repo, image_entries(f"xen/sl7_x86_64_sl20a_8GB_n{n:03d}.img", os.urandom(2000)))
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    path = tmp_path / "state" / STATE_FILE
    if damage == "garbage":
        path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    else:
        corrupt_pages(path)
    result, statuses = verify(config, clock)
    codes = [p.code for p in result.catalog.problems]
    assert codes == ["state_rebuilt"] and set(statuses.values()) == {"verified"}
    assert result.stats.files_hashed == 40
    assert (tmp_path / "state" / f"{STATE_FILE}.corrupt-{clock.iso('%Y%m%dT%H%M%SZ')}").exists()
    again, _ = verify(config, clock)
    assert again.stats.digests_reused == 40 and again.catalog.problems == []


def test_state_from_a_newer_version_is_left_alone(tmp_path: Path) -> None:
    write_tree(tmp_path / "repo", image_entries(IMAGE, b"x" * 1000))
    path = tmp_path / "state" / STATE_FILE
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    before = path.read_bytes()
    result, statuses = verify(config_for(tmp_path), Clock())
    assert [p.code for p in result.catalog.problems] == ["state_not_used"]
    assert statuses == {"xen/sl7.3_x86_64_sl20a_8GB_base": "verified"}
    assert path.read_bytes() == before


def test_corrupt_state_warns_on_the_command_line(tmp_path: Path) -> None:
    write_tree(tmp_path / "repo", image_entries(IMAGE, b"x" * 1000))
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / STATE_FILE).write_bytes(b"\0" * 5000)
    args = ["verify", "--repository", str(tmp_path / "repo"), "--state", str(tmp_path / "state")]
    done = run_cli(*args)
    assert done.returncode == 0
    assert "warning: state database cannot be read" in done.stderr
    assert "1 files hashed" in done.stderr


def rows_in(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            count = db.execute("SELECT count(*) FROM files").fetchone()[0]
        db.close()
        return count
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_finished_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for n in range(8):
        write_tree(repo, image_entries(f"xen/sl7_x86_64_sl20a_8GB_small{n}.img", os.urandom(MIB)))
    big = repo / "kvm/sl7_x86_64_sl20a_8GB_big.img"
    big.parent.mkdir()
    with big.open("wb") as handle:
        handle.truncate(1 << 30)  # sparse: costs no disk, still ~2 s of MD5 on one core
    (big.parent / "sl7_x86_64_sl20a_8GB_big.checksum").write_text(
        f"cd573cfaace07e7949bc0c46028904ff  {big.name}\n"
    )
    state = tmp_path / "state"
    args = ["verify", "--repository", str(repo), "--state", str(state), "--jobs", "2"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(time.time()) + 60)}
    child = subprocess.Popen(
        [*CLI, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while rows_in(state / STATE_FILE) < 8 and child.poll() is None:
        assert time.monotonic() < deadline, "the small files were never recorded"
        time.sleep(0.01)
    assert child.poll() is None, "the run finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert rows_in(state / STATE_FILE) == 8
    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stderr
    assert "1 files hashed (1073741824 bytes read), 8 digests reused" in done.stderr


def bytes_read_by(pid: int) -> int:
    """The kernel's count of bytes a process has read (`rchar` in /proc/<pid>/io)."""
    with open(f"/proc/{pid}/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("rchar"))


def test_interrupt_stops_reading_at_once(tmp_path: Path) -> None:
    big = tmp_path / "repo/kvm/sl7_x86_64_sl20a_8GB_big.img"
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        handle.truncate(16 << 30)  # sparse; reading it all would take half a minute
    state = tmp_path / "state"
    args = ["verify", "--repository", str(tmp_path / "repo"), "--state", str(state), "--jobs", "1"]
    child = subprocess.Popen([*CLI, *args], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while bytes_read_by(child.pid) < 64 * MIB:
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=10)  # the reading thread stops within one chunk
    assert child.returncode == 130
    assert "interrupted; digests already read are kept" in stderr
    assert rows_in(state / STATE_FILE) == 0


def test_versions_read_back_as_catalog_json_lists_them(tmp_path: Path) -> None:
    """Newest first, times in ISO form, a NULL column left out, the columns in their order."""
    from generator.catalog.model import iso_time
    from generator.state.versions import published_versions

    state = open_state(tmp_path, lambda: 0.0)
    try:
        state.connection.executemany(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("xen/a", 86400.5, "added", "m1", "s1", 8, None),
                ("xen/a", 172800.0, "changed", "m2", None, None, None),
                ("kvm/b", 0.0, "renamed", "m3", "s3", 9, "kvm/c"),
            ],
        )
        versions = published_versions(state.connection, iso_time)
    finally:
        state.close()
    assert versions == {
        "kvm/b": [
            {"at": "1970-01-01T00:00:00Z", "event": "renamed", "md5": "m3", "sha256": "s3",
             "size_bytes": 9, "moved_from": "kvm/c"},
        ],
        "xen/a": [
            {"at": "1970-01-03T00:00:00Z", "event": "changed", "md5": "m2"},
            {"at": "1970-01-02T00:00:00Z", "event": "added", "md5": "m1", "sha256": "s1",
             "size_bytes": 8},
        ],
    }  # fmt: skip
    assert [list(v) for v in versions["kvm/b"]] == [
        ["at", "event", "md5", "sha256", "size_bytes", "moved_from"]
    ]
