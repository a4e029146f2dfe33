"""A build whose inputs are all as at the last build answers with that build's report.

Each test runs the real command line. The clock is SOURCE_DATE_EPOCH a minute ahead, so the
tree written by the test is settled (as a repository is when cron comes by), and a run told to
crash when it starts reading (`STAR_VM_CATALOG_CRASH_AT=reading`) proves which way it went:
answered from the last report, it exits normally; any input changed, it reads and is killed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import image_entries, run_cli, write_tree

IMG = "sl6.4_x86_64_sl13b_20GB_worker"
KILLED = -9


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files = {}
    for n in range(3):
        files |= image_entries(f"kvm/{IMG}{n}.img", f"image {n}\n", f"# Worker {n}\n")
    files["xen/sl5.3_x86_32_sl05c_8GB_ec2.img"] = b"bytes that do not match\n"
    files["xen/sl5.3_x86_32_sl05c_8GB_ec2.checksum"] = (
        f"{'0' * 32}  sl5.3_x86_32_sl05c_8GB_ec2.img\n"
    )
    return write_tree(tmp_path / "repo", files)  # with one damaged image: exit code 1


class Builds:
    """`build` runs of one repository, output and state, at a clock the test can move."""

    def __init__(self, tmp_path: Path, repo: Path) -> None:
        self.tmp_path, self.repo = tmp_path, repo
        self.now = int(time.time()) + 60

    def run(self, *extra: str, crash: bool = False, days: int = 0):
        env = {"SOURCE_DATE_EPOCH": str(self.now + days * 86400)}
        if crash:
            env["STAR_VM_CATALOG_CRASH_AT"] = "reading"
        return run_cli(
            "build", "--repository", str(self.repo), "--output", str(self.tmp_path / "site"),
            "--state", str(self.tmp_path / "state"), *extra, env=env,
        )  # fmt: skip


def site_files(site: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(site)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in site.rglob("*")
        if p.is_file()
    }


def test_unchanged_build_answers_with_the_last_report(tmp_path: Path, repo: Path) -> None:
    builds = Builds(tmp_path, repo)
    first = builds.run()
    assert first.returncode == 1, first.stderr
    before = site_files(tmp_path / "site")
    again = builds.run(crash=True)
    assert again.returncode == 1, again.stderr
    problems = first.stderr.splitlines()[:-1]
    assert "but the checksum file says" in "".join(problems)
    assert again.stderr.splitlines() == [
        *problems,
        "4 images, 0 files hashed (0 bytes read), 4 digests reused, 5 problems, "
        "1 integrity failures; site unchanged",
    ]
    assert site_files(tmp_path / "site") == before
    quiet = builds.run("--quiet", crash=True)
    assert (quiet.returncode, quiet.stderr) == (1, "")  # no news for cron mail


def _edit(repo: Path) -> None:
    (repo / f"kvm/{IMG}1.txt").write_text("# Worker 9\n")  # same size, new bytes


def _touch(repo: Path) -> None:
    path = repo / f"kvm/{IMG}0.img"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))


def _chmod(repo: Path) -> None:
    (repo / f"kvm/{IMG}2.checksum").chmod(0o600)


def _add(repo: Path) -> None:
    write_tree(repo, image_entries(f"kvm/{IMG}7.img", "image 7\n"))


def _remove(repo: Path) -> None:
    (repo / f"kvm/{IMG}0.txt").unlink()


def _rename(repo: Path) -> None:
    (repo / f"kvm/{IMG}0.txt").rename(repo / f"kvm/{IMG}0.md")


CHANGES: dict[str, Callable[[Path], None]] = {
    "edited description": _edit,
    "touched image": _touch,
    "chmod of a checksum": _chmod,
    "added image": _add,
    "removed description": _remove,
    "renamed file": _rename,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_to_the_tree_reads_it_again(
    tmp_path: Path, repo: Path, change: Callable[[Path], None]
) -> None:
    builds = Builds(tmp_path, repo)
    assert builds.run().returncode == 1
    change(repo)
    builds.now += 60  # the change is settled too: only the tree tells
    assert builds.run(crash=True).returncode == KILLED
    assert builds.run().returncode == 1
    assert builds.run(crash=True).returncode == 1  # and the new tree is remembered


def _remove_state(tmp_path: Path) -> None:
    for path in (tmp_path / "state").iterdir():
        if path.name.startswith("state.sqlite"):
            path.unlink()


def _replace_site(tmp_path: Path) -> None:
    (tmp_path / "site").unlink()  # the link to the published copy: the site is gone


def _nothing(_: Path) -> None:
    """Leave the tree, state and site alone: the arguments or the day change."""


RATE = ("--rehash-older-than", "0")  # every digest is due again at once
OTHERS: dict[str, tuple[Callable[[Path], None], tuple[str, ...], tuple[str, ...], int]] = {
    "another setting": (_nothing, (), ("--base-url", "https://www.star.bnl.gov/vm/"), 0),
    "the next day": (_nothing, (), (), 1),
    "state deleted": (_remove_state, (), (), 0),
    "published site gone": (_replace_site, (), (), 0),
    "rehash due": (_nothing, RATE, RATE, 0),
}


@pytest.mark.parametrize("case", OTHERS.values(), ids=OTHERS.keys())
def test_settings_day_state_and_site_are_inputs_too(tmp_path: Path, repo: Path, case) -> None:
    damage, first, second, days = case
    builds = Builds(tmp_path, repo)
    assert builds.run(*first).returncode == 1
    assert builds.run(*first, crash=True).returncode == (KILLED if first else 1)
    damage(tmp_path)
    assert builds.run(*second, crash=True, days=days).returncode == KILLED


def test_racy_tree_is_not_remembered(tmp_path: Path, repo: Path) -> None:
    """A file changed within the timestamp tick of the walk might change again unseen."""
    builds = Builds(tmp_path, repo)
    builds.now = int(time.time())  # the clock of a run right after the files were written
    assert builds.run().returncode == 1
    assert builds.run(crash=True).returncode == KILLED


def last_build_rows(state) -> dict[str, float]:
    return dict(state.connection.execute("SELECT command, made_at FROM snapshots"))


def test_the_last_builds_problems_are_written_only_when_they_change(tmp_path: Path) -> None:
    """Builds after an edited description report the problems of the build before: those are
    kept once, by their digest, and read back with the record that names them."""
    from generator.problems import problem
    from generator.publish.unchanged_run import (
        PROBLEMS,
        LastBuild,
        load_last_build,
        save_last_build,
    )
    from generator.state.database import open_state
    from generator.verify.hashing import FileDigest
    from generator.verify.report import Summary

    problems = [
        problem("missing_checksum", f"kvm/{IMG}{n}.img", command="md5sum x") for n in range(3)
    ]
    state = open_state(tmp_path, lambda: 0.0)
    try:
        save_last_build(state, LastBuild("k1", Summary(3, 3, 0, problems), "site1"), 1.0)
        save_last_build(state, LastBuild("k2", Summary(3, 3, 0, problems), "site2"), 2.0)
        assert last_build_rows(state)[PROBLEMS] == 1.0  # the same problems: not written again
        last = load_last_build(state, "k2")
        assert last == LastBuild("k2", Summary(3, 3, 0, problems), "site2")
        assert load_last_build(state, "k1") is None
        state.record(FileDigest("kvm/new.img"))  # voids the record, not the problems
        assert load_last_build(state) is None and PROBLEMS in last_build_rows(state)
        odd = [
            *problems[:2],
            problem("missing_checksum", "kvm/a\0b.img", command="md5sum x"),
        ]  # the separator of the fields
        undecodable = [problem("missing_checksum", "kvm/\udcff.img", command="md5sum x")]
        for n, found in enumerate((problems[:2], odd, odd, undecodable, [])):
            save_last_build(state, LastBuild(f"k{n}", Summary(3, 3, 0, found), "s"), 3.0 + n)
            assert load_last_build(state, f"k{n}") == LastBuild(
                f"k{n}", Summary(3, 3, 0, found), "s"
            )
        assert last_build_rows(state)[PROBLEMS] == 7.0  # each change written
    finally:
        state.close()
