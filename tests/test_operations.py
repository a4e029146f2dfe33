"""Running as a service: a first run spread by a byte budget, the page cache, news-only logs,
and a hook that copies the published site to another host."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from generator.read.header_reader import HEAD_BYTES
from generator.read.scan import FileStat
from generator.verify.verdict import within_budget
from tests.conftest import image_files, read_catalog, run_cli, write_tree

MIB = 1 << 20
BIG, MIDDLE, SMALL = (f"xen/sl7.3_x86_64_sl20a_8GB_{n}.img" for n in ("big", "middle", "small"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    sizes = ((BIG, 3 * MIB), (MIDDLE, 2 * MIB), (SMALL, 1 * MIB))
    return write_tree(root, image_files({relpath: os.urandom(size) for relpath, size in sizes}))


def later() -> dict[str, str]:
    """A run clock a minute ahead: digests of files written just now are not racy."""
    return {"SOURCE_DATE_EPOCH": str(int(time.time()) + 60)}


def build(tmp_path: Path, repo: Path, *args: str):
    where = ["--repository", str(repo), "--state", str(tmp_path / "state")]
    return run_cli("build", *where, "--output", str(tmp_path / "site"), *args, env=later())


def statuses(site: Path) -> dict[str, str]:
    return {i["path"]: i["status"] for i in read_catalog(site)["images"]}


def test_hash_budget_spreads_the_first_run_and_pending_neither_fails_nor_mails(
    tmp_path: Path, repo: Path
) -> None:
    first = build(tmp_path, repo, "--hash-budget", "4MB", "--quiet", "--jobs", "1")
    assert (first.returncode, first.stderr) == (0, "")  # nothing for cron to mail
    site = tmp_path / "site"
    assert statuses(site) == {BIG: "verified", MIDDLE: "pending", SMALL: "verified"}
    page = (site / "images/xen/sl7.3_x86_64_sl20a_8GB_middle/index.html").read_text()
    assert "Pending" in page and "--hash-budget" in page
    second = build(tmp_path, repo, "--hash-budget", "4MB")
    assert second.returncode == 0, second.stderr
    assert "1 files hashed (2097152 bytes read), 2 digests reused" in second.stderr
    assert set(statuses(site).values()) == {"verified"}


def test_summary_counts_pending_files_and_verify_keeps_no_report_of_them(
    tmp_path: Path, repo: Path
) -> None:
    where = ["--repository", str(repo), "--state", str(tmp_path / "state")]
    first = run_cli("verify", *where, "--hash-budget", "1MB", env=later())
    assert first.returncode == 0
    assert "1 files hashed" in first.stderr and "2 files pending" in first.stderr
    again = run_cli("verify", *where, "--hash-budget", "2MB", env=later())
    assert "1 files hashed (2097152 bytes read)" in again.stderr, again.stderr
    assert "1 files pending" in again.stderr


def test_a_file_larger_than_the_budget_is_read_when_first_in_line() -> None:
    files = [FileStat(name, size, size, 0, 0, 0) for name, size in (("a", 9), ("b", 5), ("c", 3))]
    chosen, deferred = within_budget(files, 4)
    assert [f.relpath for f in chosen] == ["a"] and [f.relpath for f in deferred] == ["b", "c"]
    chosen, deferred = within_budget(files, 12)
    assert [f.relpath for f in chosen] == ["a", "c"] and [f.relpath for f in deferred] == ["b"]


def cached_bytes(path: Path) -> int:
    """How much of `path` is in the page cache, as util-linux `fincore` reports it."""
    done = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                          check=True, capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def evict(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    assert cached_bytes(path) == 0


@pytest.mark.parametrize("keep", [False, True])
def test_hashed_pages_leave_the_page_cache_unless_keep_cache(tmp_path: Path, keep: bool) -> None:
    """A 40 MiB file goes through the helper thread, a 4 MiB one through the plain loop."""
    root = tmp_path / "repo"
    write_tree(root, image_files({BIG: os.urandom(40 * MIB), SMALL: os.urandom(4 * MIB)}))
    images = [root / BIG, root / SMALL]
    for image in images:
        evict(image)
    where = ["--repository", str(root), "--state", str(tmp_path / "state"), "--jobs", "1"]
    done = run_cli("verify", *where, *(["--keep-cache"] if keep else []), env=later())
    assert done.returncode == 0 and "2 files hashed" in done.stderr, done.stderr
    for image in images:  # the kernel may reclaim a few pages of its own accord: margins
        size, cached = image.stat().st_size, cached_bytes(image)
        assert cached > size * 0.9 if keep else cached < size * 0.01, (image, cached)
        # The head stays for the header reader, which reads it right after hashing.
        assert keep or cached >= HEAD_BYTES, (image, cached)


def test_log_tells_news_once_and_verbose_logs_everything(tmp_path: Path, repo: Path) -> None:
    log = tmp_path / "catalog.log"
    (repo / "xen/sl7.3_x86_64_sl20a_8GB_small.checksum").write_text(
        "0" * 32 + "  sl7.3_x86_64_sl20a_8GB_small.img\n"
    )
    (repo / "xen/stray.txt").write_text("no image")  # a warning: orphan_description
    logging = ("--quiet", "--log-file", str(log))
    first = build(tmp_path, repo, *logging)
    assert first.returncode == 1 and "MD5 is" in first.stderr
    news = log.read_text().splitlines()
    problems = read_catalog(tmp_path / "site")["problems"]
    assert len(news) == len(problems) + 1 and all(" build: new: '" in n for n in news[:-1])
    assert "5 problems" in news[-1] and "site published" in news[-1]
    unchanged = build(tmp_path, repo, *logging)
    assert (unchanged.returncode, unchanged.stdout, unchanged.stderr) == (1, "", "")
    lines = log.read_text().splitlines()[len(news) :]
    assert len(lines) == 1 and "site unchanged" in lines[0]
    (repo / "xen/stray.txt").unlink()
    resolved = build(tmp_path, repo, *logging)
    assert resolved.returncode == 1 and resolved.stderr == ""
    lines = log.read_text().splitlines()[len(news) + 1 :]
    assert len(lines) == 2 and " build: resolved: 'xen/stray.txt': warning: " in lines[0]
    build(tmp_path, repo, *logging, "--verbose")
    lines = log.read_text().splitlines()[len(news) + 3 :]
    assert len(lines) == len(problems) - 1 + 2 and "new: " not in "".join(lines)
    assert "Site written to" in lines[-1]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


RSYNC = 'rsync -a --checksum --delay-updates --delete-after "$1"/ {dest}/'


def test_publish_command_rsyncs_the_live_copy_to_another_directory(
    tmp_path: Path, repo: Path
) -> None:
    dest = tmp_path / "www" / "vm"
    dest.mkdir(parents=True)
    command = (
        RSYNC.format(dest=dest)
        + ' && printf %s "$STAR_VM_CATALOG_SITE" > '
        + str(tmp_path / "said")
    )
    first = build(tmp_path, repo, "--publish-command", command)
    assert first.returncode == 0, first.stderr
    site = tmp_path / "site"
    assert (tmp_path / "said").read_text() == str(site.resolve())
    assert tree_bytes(dest) == tree_bytes(site) and (dest / "catalog.json").is_file()
    gone = "images/xen/sl7.3_x86_64_sl20a_8GB_small/index.html"
    for name in ("sl7.3_x86_64_sl20a_8GB_small.img", "sl7.3_x86_64_sl20a_8GB_small.checksum"):
        (repo / "xen" / name).unlink()
    (dest / "stray.html").write_text("not the catalog's")
    second = build(tmp_path, repo, "--publish-command", command)
    assert second.returncode == 0, second.stderr
    assert tree_bytes(dest) == tree_bytes(site)
    assert "Removed from the repository" in (dest / gone).read_text()  # the tombstone page
    assert not (dest / "stray.html").exists()  # --delete-after: dest mirrors the live copy
    assert not list(dest.rglob(".~tmp~*"))  # --delay-updates leaves no temporary files


def test_failed_publish_command_exits_4_and_says_so_even_under_quiet(
    tmp_path: Path, repo: Path
) -> None:
    done = build(
        tmp_path, repo, "--quiet", "--publish-command", "echo host unreachable >&2; exit 7"
    )
    assert done.returncode == 4
    assert "failed with exit code 7 (host unreachable)" in done.stderr
    assert done.stderr.startswith("star-vm-catalog: 'echo host unreachable")
    assert len(read_catalog(tmp_path / "site")["images"]) == 3  # published here all the same


@pytest.mark.parametrize("command", ["build", "verify", "check"])
def test_help_of_every_command_shows_an_example(command: str) -> None:
    done = run_cli(command, "--help")
    assert done.returncode == 0
    example = done.stdout.split("\nexample:\n", 1)[1]
    assert example.lstrip().startswith(f"star-vm-catalog {command} --repository ")
