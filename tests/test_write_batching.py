"""State writes grouped into few transactions, without losing what a killed run has hashed.

Transactions are counted where SQLite leaves them: the frames each commit appends to the WAL
(automatic checkpoints off, so the WAL only grows). One commit per file or per statement writes
at least a page each; rows grouped in one transaction share their pages.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from generator.catalog.history import update_history
from generator.digests import Digest
from generator.state.database import STATE_FILE, State, open_state
from generator.state.group_commit import INTERVAL, LARGE
from generator.verify.hashing import FileDigest
from tests.conftest import Clock, config_for, image_files, verify, write_tree

IMG = "sl7_x86_64_sl20a_8GB_small{n}"
FINGERPRINT = (4096, 1_700_000_000_000_000_000, 1_700_000_000_000_000_000, 42)


def wal_frames(state: Path) -> int:
    """Pages appended to the WAL since it was last reset (header 32 bytes, frame header 24)."""
    wal = state / f"{STATE_FILE}-wal"
    page = 4096
    return max(0, (wal.stat().st_size - 32) // (page + 24)) if wal.exists() else 0


def no_checkpoints(state: State) -> State:
    state.connection.execute("PRAGMA wal_autocheckpoint = 0")
    return state


def digest(n: int, bytes_read: int = 4096) -> FileDigest:
    md5 = Digest("md5", f"{n:032x}")
    return FileDigest(f"xen/{IMG.format(n=n)}.img", (md5,), read_at=1.0e9,
                      bytes_read=bytes_read, fingerprint=FINGERPRINT, hashed_at=1.0e9 + 5)  # fmt: skip


def stored(state_dir: Path) -> set[str]:
    """The files whose digests another process would find now (committed rows only)."""
    db = sqlite3.connect(f"file:{state_dir / STATE_FILE}?mode=ro", uri=True)
    try:
        query = "SELECT f.relpath FROM files f JOIN file_digests d USING (relpath)"
        return {row[0] for row in db.execute(query)}
    finally:
        db.close()


def test_many_small_digests_share_few_commits(tmp_path: Path) -> None:
    state = no_checkpoints(open_state(tmp_path, Clock()))
    before = wal_frames(tmp_path)
    for n in range(400):
        state.record(digest(n))
    state.flush()
    assert len(stored(tmp_path)) == 400
    # One commit per file wrote 2-3 pages each (files, file_digests): over 800 frames.
    assert wal_frames(tmp_path) - before < 100
    state.close()


def test_a_digest_waits_for_its_commit_at_most_the_interval(tmp_path: Path) -> None:
    state = open_state(tmp_path, Clock())
    state.record(digest(0))  # the first of a run is committed at once
    assert stored(tmp_path) == {digest(0).relpath}
    started = time.monotonic()
    state.record(digest(1))  # the next waits, with nothing else to record: the timer commits
    while digest(1).relpath not in stored(tmp_path):
        assert time.monotonic() - started < INTERVAL + 1.5, "never committed without a close"
        time.sleep(0.02)
    assert time.monotonic() - started >= INTERVAL * 0.5  # it was grouped, not committed alone
    state.close()


def test_a_large_file_is_committed_at_once(tmp_path: Path) -> None:
    state = open_state(tmp_path, Clock())
    state.record(digest(0))
    state.record(digest(1))  # queued
    state.record(digest(2, bytes_read=LARGE))
    assert stored(tmp_path) == {digest(n).relpath for n in range(3)}  # with what waited
    state.close()


def test_closing_commits_what_waits_and_a_changing_file_is_forgotten(tmp_path: Path) -> None:
    state = open_state(tmp_path, Clock())
    for n in range(3):
        state.record(digest(n))
    state.record(FileDigest(digest(1).relpath, changing=True))  # the later outcome wins
    state.close()
    assert stored(tmp_path) == {digest(0).relpath, digest(2).relpath}
    again = open_state(tmp_path, Clock())
    assert set(again.files) == {digest(0).relpath, digest(2).relpath}
    again.close()


def test_the_history_of_a_build_is_one_transaction(tmp_path: Path) -> None:
    images = {f"xen/{IMG.format(n=n)}.img": f"image {n}" for n in range(150)}
    write_tree(tmp_path / "repo", image_files(images))
    result, _ = verify(config_for(tmp_path), Clock())
    state = no_checkpoints(open_state(tmp_path / "history", Clock()))
    before = wal_frames(tmp_path / "history")
    history = update_history(state.connection, result.catalog, 1.0e9)
    assert len(history.first_seen) == 150 and len(history.versions) == 150
    # A commit per statement (an image row, a version row, its key) wrote 450 frames or more.
    assert wal_frames(tmp_path / "history") - before < 400
    state.close()
