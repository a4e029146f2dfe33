"""`verify` answers from its last report only while the whole tree is provably unchanged."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from generator import build as run
from generator.config import Config
from generator.session import RunResult
from generator.state.database import STATE_FILE
from generator.verify.cached import RACY_SECONDS
from generator.verify.report import tree_signature
from tests.conftest import Clock, config_for, image_entries, run_cli, write_tree
from tests.open_watch import OpenWatch

IMAGE = "xen/sl7.3_x86_64_sl20a_8GB_base.img"
BAD = "kvm/sl6.4_x86_64_sl11d_20GB_batch.qcow2"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_tree(root, image_entries(IMAGE, b"good bytes " * 300))
    write_tree(root, image_entries(BAD, b"bad bytes " * 300))
    (root / "kvm/sl6.4_x86_64_sl11d_20GB_batch.checksum").write_text(f"{'0' * 32}  x.qcow2\n")
    return root


def verify(config: Config, clock: Clock) -> RunResult:
    return run.verify(config, clock, reuse_report=True)


def reports_kept(tmp_path: Path) -> int:
    """`verify` reports kept (a build keeps its own record: `publish.unchanged_run`)."""
    with sqlite3.connect(tmp_path / "state" / STATE_FILE) as db:
        sql = "SELECT count(*) FROM snapshots WHERE command = 'verify'"
        count = db.execute(sql).fetchone()[0]
    db.close()
    return count


def test_unchanged_tree_reuses_the_report_without_opening_images(
    tmp_path: Path, repo: Path
) -> None:
    config, clock = config_for(tmp_path), Clock()
    first = verify(config, clock)
    assert first.catalog is not None and reports_kept(tmp_path) == 1
    watch = OpenWatch([repo / IMAGE, repo / BAD])
    try:
        again = verify(config, clock)
        assert watch.touched() == set()
    finally:
        watch.close()
    assert again.catalog is None
    assert again.summary == first.summary and not again.summary.ok
    assert (again.stats.files_hashed, again.stats.digests_reused) == (0, 2)


def test_command_line_output_is_the_same_from_a_kept_report(tmp_path: Path, repo: Path) -> None:
    args = ["verify", "--repository", str(repo), "--state", str(tmp_path / "state")]
    env = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: the tree is long settled
    first, second = run_cli(*args, env=env), run_cli(*args, env=env)
    assert first.returncode == second.returncode == 1
    lines_first, lines_second = first.stderr.splitlines(), second.stderr.splitlines()
    assert lines_first[:-1] == lines_second[:-1]
    assert any("error: MD5 is" in line for line in lines_second)
    assert lines_second[-1].startswith("2 images, 0 files hashed (0 bytes read), 2 digests reused")


CHANGES = {
    "touch_image": lambda r: os.utime(r / IMAGE, (1, 1)),
    "edit_checksum": lambda r: (r / "xen/sl7.3_x86_64_sl20a_8GB_base.checksum").write_text(
        f"{'1' * 32}  sl7.3_x86_64_sl20a_8GB_base.img\n"
    ),
    "new_image": lambda r: write_tree(r, image_entries("xen/sl7_x86_64_sl20a_8GB_new.img", b"new")),
    "removed_sidecar": lambda r: (r / "kvm/sl6.4_x86_64_sl11d_20GB_batch.checksum").unlink(),
    "new_member_dir": lambda r: (r / "xen/empty_dir").mkdir(),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_means_a_full_run(tmp_path: Path, repo: Path, change: str) -> None:
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    CHANGES[change](repo)
    clock.advance(1)
    assert verify(config, clock).catalog is not None


def test_changed_settings_mean_a_full_run(tmp_path: Path, repo: Path) -> None:
    clock = Clock()
    verify(config_for(tmp_path), clock)
    assert verify(config_for(tmp_path, known_os=("centos",)), clock).catalog is not None


def test_report_of_a_racy_tree_is_not_kept(tmp_path: Path, repo: Path) -> None:
    newest = max(max(p.stat().st_mtime, p.stat().st_ctime) for p in repo.rglob("*"))
    clock = Clock(newest + RACY_SECONDS / 2)
    verify(config_for(tmp_path), clock)
    assert reports_kept(tmp_path) == 0


def test_any_new_digest_voids_the_kept_report(tmp_path: Path, repo: Path) -> None:
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    clock.advance(1)
    scrub = run.build(config_for(tmp_path, rehash_older_than=0.5), clock)
    assert scrub.stats.files_hashed == 2 and reports_kept(tmp_path) == 0
    assert verify(config, clock).catalog is not None


def test_due_scrub_means_a_full_run(tmp_path: Path, repo: Path) -> None:
    clock = Clock()
    verify(config_for(tmp_path), clock)
    clock.advance(3)
    result = verify(config_for(tmp_path, rehash_older_than=2), clock)
    assert result.catalog is not None and result.stats.files_hashed == 2
    quiet = verify(config_for(tmp_path, rehash_older_than=2), clock)
    assert quiet.catalog is None


def test_report_with_an_unreadable_image_is_not_kept(tmp_path: Path, repo: Path) -> None:
    (repo / IMAGE).unlink()
    (repo / IMAGE).symlink_to(repo / "missing.img")  # unreadable: tried again each run
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    assert reports_kept(tmp_path) == 0


def test_symlink_to_a_directory_is_never_vouched_for(tmp_path: Path, repo: Path) -> None:
    (repo / "vmware").symlink_to(repo / "kvm")
    assert tree_signature(repo, (), Clock()) is None
    config, clock = config_for(tmp_path), Clock()
    verify(config, clock)
    assert verify(config, clock).catalog is not None


def test_signature_sees_a_symlinked_file_change(tmp_path: Path, repo: Path) -> None:
    hidden = repo / ".incoming"
    hidden.mkdir()
    (hidden / "real.img").write_bytes(b"one")
    (repo / "xen/sl7_x86_64_sl20a_8GB_link.img").symlink_to(hidden / "real.img")
    before = tree_signature(repo, (".*",), Clock())
    (hidden / "real.img").write_bytes(b"two")
    after = tree_signature(repo, (".*",), Clock())
    assert before and after and before.digest != after.digest
