"""Incremental verification: a digest is reused only while the file provably has not changed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from generator.read.scan import FileStat, scan
from generator.state.database import open_state
from generator.verify.cached import (
    RACY_SECONDS,
    CachedDigester,
    Candidate,
    RehashPolicy,
    pick_rehash,
    trusted,
)
from generator.verify.hashing import FileDigest
from generator.verify.verdict import digest_all, evaluate
from tests.conftest import Clock, config_for, directory_image, image_entries, verify, write_tree
from tests.open_watch import OpenWatch

IMAGE = "xen/sl7.3_x86_64_sl20a_8GB_base.img"
OTHER = "kvm/sl6.4_x86_64_sl11d_20GB_batch.qcow2"
IMAGE_ID = "xen/sl7.3_x86_64_sl20a_8GB_base"
KIB = 1024


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write_tree(repo, image_entries(IMAGE, b"original bytes " * 1000))
    write_tree(repo, image_entries(OTHER, b"other image " * 500))
    return repo


def test_unchanged_files_are_not_opened(tmp_path: Path, tree: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    first, statuses = verify(config, clock)
    assert first.stats.files_hashed == 2 and set(statuses.values()) == {"verified"}
    watch = OpenWatch([tree / IMAGE, tree / OTHER])
    try:
        second, statuses = verify(config, clock)
        assert watch.touched() == set()
        assert (second.stats.files_hashed, second.stats.bytes_read) == (0, 0)
        assert second.stats.digests_reused == 2 and set(statuses.values()) == {"verified"}
        os.utime(tree / IMAGE)  # control: the watch does see a file that must be read again
        third, _ = verify(config, clock)
        assert watch.touched() == {tree / IMAGE}
        assert third.stats.files_hashed == 1
    finally:
        watch.close()


def edit_keeping_mtime(path: Path) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # `touch -r`: only ctime tells


def replace_by_rename(path: Path) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    fresh = path.with_name(".incoming")
    fresh.write_bytes(bytes(data))
    os.utime(fresh, ns=(st.st_atime_ns, st.st_mtime_ns))
    fresh.rename(path)


CHANGES = {
    "touched": lambda p: os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9)),
    "edited_mtime_restored": edit_keeping_mtime,
    "truncated": lambda p: os.truncate(p, 100),
    "replaced_new_inode": replace_by_rename,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_changed_files_are_read_again(tmp_path: Path, tree: Path, change: str) -> None:
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    CHANGES[change](tree / IMAGE)
    clock.advance(0.01)
    result, statuses = verify(config, clock)
    assert result.stats.files_hashed == 1 and result.stats.digests_reused == 1
    image = result.catalog.get(IMAGE_ID)
    assert image is not None
    assert image.md5 == hashlib.md5((tree / IMAGE).read_bytes()).hexdigest()
    assert statuses[IMAGE_ID] == ("verified" if change == "touched" else "mismatch")


@pytest.mark.parametrize("field", ["size", "mtime_ns", "ctime_ns", "inode"])
def test_each_fingerprint_field_alone_breaks_trust(field: str) -> None:
    member = FileStat("xen/a.img", 10, 4096, 5 * 10**9, 6 * 10**9, 77)
    row = (10, 5 * 10**9, 6 * 10**9, 77, "0" * 32, 100.0, 99.0)
    assert trusted(row, member)
    changed = member._replace(**{field: getattr(member, field) + 1})
    assert not trusted(row, changed)


def test_racy_entry_is_read_again_then_trusted(tmp_path: Path, tree: Path) -> None:
    ctime = (tree / IMAGE).stat().st_ctime_ns / 1e9
    config = config_for(tmp_path)
    clock = Clock(ctime + RACY_SECONDS / 2)  # hashed within the timestamp granularity
    first, _ = verify(config, clock)
    assert first.stats.files_hashed == 2
    clock.now = ctime + 60
    second, _ = verify(config, clock)  # stat unchanged, but the entry was racy: read again
    assert second.stats.files_hashed == 2
    third, _ = verify(config, clock)
    assert third.stats.files_hashed == 0 and third.stats.digests_reused == 2


def write_in_same_tick(tree: Path, state_dir: Path, hashed_after: float) -> None:
    """Rewrite the image, then make the stored stat match it, as a write in the same tick would.

    On a filesystem with 1-2 s timestamps such a write leaves size, mtime and ctime unchanged;
    here the stored row is brought up to the new stat so the fingerprint compares equal.
    """
    path = tree / IMAGE
    data = bytearray(path.read_bytes())
    data[7] ^= 0x55
    path.write_bytes(bytes(data))
    st = path.stat()
    with sqlite3.connect(state_dir / "state.sqlite") as db:
        db.execute(
            "UPDATE files SET mtime_ns = ?, ctime_ns = ?, inode = ?, hashed_at = ? "
            "WHERE relpath = ?",
            (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_ctime_ns / 1e9 + hashed_after, IMAGE),
        )
    db.close()


@pytest.mark.parametrize(("hashed_after", "reread"), [(0.5, True), (1.9, True), (30.0, False)])
def test_write_in_the_same_tick_is_caught_by_the_racy_rule(
    tmp_path: Path, tree: Path, hashed_after: float, reread: bool
) -> None:
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    write_in_same_tick(tree, tmp_path / "state", hashed_after)
    result, statuses = verify(config, clock)
    assert result.stats.files_hashed == (1 if reread else 0)
    # Only the racy rule tells the edit apart; a trusted stale entry would still say verified.
    assert statuses[IMAGE_ID] == ("mismatch" if reread else "verified")


def test_edited_checksum_alone_is_compared_without_reading(tmp_path: Path, tree: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    checksum = tree / "xen/sl7.3_x86_64_sl20a_8GB_base.checksum"
    good = checksum.read_text()
    checksum.write_text("0" * 32 + good[32:])
    result, statuses = verify(config, clock)
    assert statuses[IMAGE_ID] == "mismatch" and result.stats.files_hashed == 0
    checksum.write_text(good)
    result, statuses = verify(config, clock)
    assert statuses[IMAGE_ID] == "verified" and result.stats.files_hashed == 0


def test_reused_digest_keeps_its_read_time(tmp_path: Path, tree: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    first_read = clock.iso()
    clock.advance(3)
    result, _ = verify(config, clock)
    image = result.catalog.get(IMAGE_ID)
    assert image is not None and image.verified_at == first_read != clock.iso()
    assert result.stats.digests_reused == 2


def test_file_changing_while_read_is_never_cached(tmp_path: Path, tree: Path) -> None:
    path, clock = tree / IMAGE, Clock()
    state = open_state(tmp_path / "state", clock)
    grown = []

    def append_once(count: int) -> None:
        if not grown:
            grown.append(count)
            with path.open("ab") as handle:
                handle.write(b"still copying")

    digester = CachedDigester(state, clock, on_bytes=append_once)
    member = FileStat.of(IMAGE, path.stat())
    results = digest_all(tree, [member], digester, jobs=1)
    state.close()
    assert results[IMAGE].changing and results[IMAGE].digests == ()
    assert open_state(tmp_path / "state", clock).files == {}
    result, statuses = verify(config_for(tmp_path), clock)  # the next run tries again
    assert statuses[IMAGE_ID] == "mismatch" and result.stats.files_hashed == 2


def test_changing_file_loses_its_old_entry(tmp_path: Path, tree: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    state = open_state(tmp_path / "state", clock)
    assert IMAGE in state.files
    state.record(FileDigest(IMAGE, changing=True))
    state.close()
    assert IMAGE not in open_state(tmp_path / "state", clock).files


def test_file_vanishing_mid_run_is_reported(tmp_path: Path, tree: Path) -> None:
    scanned = scan(tree)
    (tree / IMAGE).unlink()
    state = open_state(tmp_path / "state", Clock())
    results = digest_all(
        tree, [m for e in scanned.images for m in e.members], CachedDigester(state, Clock()), 2
    )
    state.close()
    assert results[IMAGE].vanished and results[OTHER].digests
    entry = next(e for e in scanned.images if e.id == IMAGE_ID)
    verdict = evaluate(entry, None, results)
    assert verdict.status == "changing"
    assert [p.code for p in verdict.problems] == ["changing"]


def test_members_are_hashed_in_parallel(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(
        repo,
        directory_image(
            "vmware/centOS5_x86_64_sl10c_40GB_analysis",
            {"disk-s001.vmdk": b"a" * 256 * KIB, "disk-s002.vmdk": b"b" * 200 * KIB},
        ),
    )
    both_reading = threading.Barrier(2, timeout=10)
    waited: set[int] = set()

    def meet(count: int) -> None:
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            both_reading.wait()  # breaks (and fails the run) unless two reads overlap

    clock = Clock()
    state = open_state(tmp_path / "state", clock)
    digester = CachedDigester(state, clock, on_bytes=meet)
    members = [m for e in scan(repo).images for m in e.members]
    results = digest_all(repo, members, digester, jobs=2)
    state.close()
    assert len(waited) == 2 and all(r.digests for r in results.values())


def test_largest_files_are_read_first(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for size in (3, 9, 1, 5):
        write_tree(repo, image_entries(f"xen/sl7_x86_64_sl20a_8GB_s{size}.img", b"x" * size * KIB))
    order: list[str] = []

    class Recording(CachedDigester):
        """The real digester, noting the order reads start (completion order can tie)."""

        def digest(self, root: Path, member: FileStat, spare_core: bool = False) -> FileDigest:
            order.append(member.relpath)
            return super().digest(root, member, spare_core)

    clock = Clock()
    state = open_state(tmp_path / "state", clock)
    members = [m for e in scan(repo).images for m in e.members]
    digest_all(repo, members, Recording(state, clock), 1)
    state.close()
    assert [p.rsplit("_", 1)[1] for p in order] == ["s9.img", "s5.img", "s3.img", "s1.img"]


def scrub_tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for letter in "abcd":
        write_tree(
            repo,
            image_entries(f"xen/sl7_x86_64_sl20a_8GB_{letter}.img", letter.encode() * 64 * KIB),
        )
    return repo


def reread(result) -> list[str]:
    """Images whose bytes this run read, by the detail field of their names."""
    return sorted(
        image.detail
        for image in result.catalog.images
        if image.verified_at == result.catalog.generated_at
    )


def test_rehash_budget_is_obeyed_and_rotates_through_the_oldest(tmp_path: Path) -> None:
    scrub_tree(tmp_path)
    config, clock = config_for(tmp_path, rehash_budget=128 * KIB), Clock()
    first = run_with(config_for(tmp_path), clock)
    assert first.stats.files_hashed == 4
    seen = []
    for _ in range(3):
        clock.advance(1)
        result = run_with(config, clock)
        assert result.stats.bytes_read <= 128 * KIB and result.stats.files_hashed == 2
        seen.append(reread(result))
    assert seen == [["a", "b"], ["c", "d"], ["a", "b"]]


def test_rehash_older_than_days(tmp_path: Path) -> None:
    scrub_tree(tmp_path)
    config, clock = config_for(tmp_path, rehash_older_than=1.5), Clock()
    run_with(config, clock)
    clock.advance(1)
    assert run_with(config, clock).stats.files_hashed == 0
    clock.advance(1)
    assert reread(run_with(config, clock)) == ["a", "b", "c", "d"]


def test_changed_files_use_the_budget_first(tmp_path: Path) -> None:
    repo = scrub_tree(tmp_path)
    config, clock = config_for(tmp_path, rehash_budget=128 * KIB), Clock()
    run_with(config_for(tmp_path), clock)
    clock.advance(1)
    os.utime(repo / "xen/sl7_x86_64_sl20a_8GB_d.img", (clock.now, clock.now - 10))
    result = run_with(config, clock)
    assert reread(result) == ["a", "d"] and result.stats.bytes_read == 128 * KIB


def run_with(config, clock: Clock):
    return verify(config, clock)[0]


def test_pick_rehash_skips_what_does_not_fit() -> None:
    big = Candidate(1.0, 300, ("big",))
    small = Candidate(2.0, 100, ("small",))
    newest = Candidate(3.0, 100, ("newest",))
    policy = RehashPolicy(budget=250)
    assert pick_rehash([newest, small, big], 0, policy, 10.0) == [small, newest]
    assert pick_rehash([newest, small, big], 200, policy, 10.0) == []
    assert pick_rehash([newest, small, big], 0, RehashPolicy(), 10.0) == [big, small, newest]
