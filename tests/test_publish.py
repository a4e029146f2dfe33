"""Publishing as the web server sees it: always a whole site, unchanged bytes never rewritten."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.publish.copies import builds_dir, current_build, publish
from tests.conftest import add_checksum, read_catalog, run_cli, write_tree

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"
SITE_A = {"index.html": b"<p>a</p>", "images/xen/x/index.html": b"x", "catalog.json": b"{}"}


def mtimes(site: Path) -> dict[str, int]:
    return {str(p.relative_to(site)): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


def test_output_is_a_symlink_swapped_between_two_copies(tmp_path: Path) -> None:
    output = tmp_path / "site"
    first = publish(SITE_A, output)
    assert output.is_symlink() and first.changed and first.written == 3
    assert (output / "index.html").read_bytes() == b"<p>a</p>"
    second = publish({**SITE_A, "index.html": b"<p>b</p>"}, output)
    assert second.build != first.build and (output / "index.html").read_bytes() == b"<p>b</p>"
    assert (first.build / "index.html").read_bytes() == b"<p>a</p>"  # the old copy is intact
    third = publish({**SITE_A, "index.html": b"<p>c</p>"}, output)
    assert third.build == first.build and (third.written, third.kept) == (1, 2)
    assert (output / "index.html").read_bytes() == b"<p>c</p>"


def test_files_gone_from_the_site_are_removed_with_their_directories(tmp_path: Path) -> None:
    output = tmp_path / "site"
    publish(SITE_A, output)
    publish(SITE_A | {"index.html": b"b"}, output)
    smaller = {"index.html": b"c", "catalog.json": b"{}"}
    publish(smaller, output)
    assert sorted(mtimes(output)) == ["catalog.json", "index.html"]
    assert not (output / "images").exists()


def test_same_bytes_publish_nothing(tmp_path: Path) -> None:
    output = tmp_path / "site"
    publish(SITE_A, output)
    before, target = mtimes(output), os.readlink(output)
    assert not publish(dict(SITE_A), output).changed
    assert mtimes(output) == before and os.readlink(output) == target


def test_strays_are_cleaned_and_manifests_stay_outside_the_site(tmp_path: Path) -> None:
    output = tmp_path / "site"
    for n in range(3):
        publish({**SITE_A, "index.html": f"{n}".encode()}, output)
    (builds_dir(output) / "20240101T000000-stray").mkdir()
    publish({**SITE_A, "index.html": b"last"}, output)
    copies = sorted(p.name for p in builds_dir(output).iterdir() if p.is_dir())
    assert copies == ["a", "b"] and current_build(output).name in copies
    assert not list(output.rglob("*manifest*")) and not list(output.rglob("*.tmp"))


def test_a_copy_left_half_written_is_rewritten_whole(tmp_path: Path) -> None:
    output = tmp_path / "site"
    publish(SITE_A, output)
    publish(SITE_A | {"index.html": b"b"}, output)
    inactive = next(
        p for p in builds_dir(output).iterdir() if p.is_dir() and p != current_build(output)
    )
    (inactive / "index.html").write_bytes(b"garbage from a killed run")
    (inactive.parent / f"{inactive.name}.manifest.json").unlink()  # as a killed run leaves it
    result = publish(SITE_A | {"index.html": b"c"}, output)
    assert result.written == 3 and (output / "index.html").read_bytes() == b"c"
    assert (output / "catalog.json").read_bytes() == b"{}"


def test_a_plain_directory_from_an_older_layout_is_migrated(tmp_path: Path) -> None:
    output = write_tree(tmp_path / "site", {"index.html": "old"})
    publish(SITE_A, output)
    assert output.is_symlink() and (output / "index.html").read_bytes() == b"<p>a</p>"


def test_disk_errors_leave_the_published_site_untouched(tmp_path: Path) -> None:
    output = tmp_path / "site"
    publish(SITE_A, output)
    with pytest.raises(Exception, match="published site is unchanged"):
        publish({**SITE_A, "index.html/oops": b"a file where a directory must be"}, output)
    assert (output / "index.html").read_bytes() == b"<p>a</p>"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "repo", {f"xen/{IMG}_{n}.img": f"image {n}" * 100 for n in range(6)}
    )
    for n in range(6):
        add_checksum(root / f"xen/{IMG}_{n}.img")
    return root


def build(repo: Path, tmp_path: Path, *extra: str, env: dict[str, str] | None = None):
    return run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), *extra, env=env)  # fmt: skip


@pytest.mark.parametrize("point", ["hashing", "rendering", "publishing"])
def test_killed_build_leaves_the_previous_site_and_the_next_run_completes(
    repo: Path, tmp_path: Path, point: str
) -> None:
    assert build(repo, tmp_path).returncode == 0
    site = tmp_path / "site"
    before = {p: (site / p).read_bytes() for p in mtimes(site)}
    (repo / f"xen/{IMG}_0.txt").write_text("A new description.\n")
    killed = build(repo, tmp_path, env={"STAR_VM_CATALOG_CRASH_AT": point})
    assert killed.returncode == -9
    assert {p: (site / p).read_bytes() for p in mtimes(site)} == before
    done = build(repo, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "A new description." in (site / f"images/xen/{IMG}_0/index.html").read_text()


def test_vanished_repository_keeps_the_published_site(repo: Path, tmp_path: Path) -> None:
    assert build(repo, tmp_path).returncode == 0
    before = read_catalog(tmp_path / "site")
    for path in sorted((repo / "xen").iterdir())[:-4]:
        path.unlink()
    done = build(repo, tmp_path)
    assert done.returncode == 3
    assert "published images are still there; keeping the published site" in done.stderr
    assert read_catalog(tmp_path / "site") == before
    accepted = build(repo, tmp_path, "--accept-removals")
    assert accepted.returncode == 0 and len(read_catalog(tmp_path / "site")["images"]) == 2


def test_empty_repository_never_replaces_a_published_catalog(repo: Path, tmp_path: Path) -> None:
    assert build(repo, tmp_path).returncode == 0
    for path in (repo / "xen").iterdir():
        path.unlink()
    assert build(repo, tmp_path).returncode == 3
    assert len(read_catalog(tmp_path / "site")["images"]) == 6


def test_quiet_prints_only_new_errors_and_the_log_only_news(repo: Path, tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    (repo / f"xen/{IMG}_1.checksum").write_text("0" * 32 + f"  {IMG}_1.img\n")
    first = build(repo, tmp_path, "--quiet", "--log-file", str(log))
    assert first.returncode == 1 and first.stderr.count("\n") == 1 and "MD5 is" in first.stderr
    logged = log.read_text()
    assert logged.count("MD5 is") == 1 and "new: " in logged
    again = build(repo, tmp_path, "--quiet", "--log-file", str(log))
    assert again.returncode == 1 and again.stderr == "" and again.stdout == ""
    added = log.read_text()[len(logged) :].splitlines()
    assert len(added) == 1 and "images, " in added[0]  # the summary: nothing new
