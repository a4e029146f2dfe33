"""History as cron sees it: tombstones keep permalinks alive, the feed tells what changed."""

from __future__ import annotations

import fcntl
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from generator.publish.output_checks import output_lock_path
from tests.conftest import CLI, ROOT, image_files, read_catalog, run_cli, write_tree

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"
ATOM = "{http://www.w3.org/2005/Atom}"
EPOCH = 4_102_444_800  # 2100-01-01: a clock far from the files' times, so nothing is racy


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo", image_files({f"xen/{IMG}_{n}.img": f"image {n}" * 100 for n in range(5)})
    )


def build(repo: Path, tmp_path: Path, at: int, *extra: str):
    return run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), "--base-url", "https://www.star.bnl.gov/vm/",
                   *extra, env={"SOURCE_DATE_EPOCH": str(at)})  # fmt: skip


def entries(site: Path) -> list[tuple[str, str, str]]:
    feed = ET.parse(site / "feed.xml").getroot()
    return [
        (e.findtext(f"{ATOM}id"), e.find(f"{ATOM}category").get("term"), e.findtext(f"{ATOM}title"))
        for e in feed.findall(f"{ATOM}entry")
    ]


def mtimes(site: Path) -> dict[str, int]:
    return {str(p.relative_to(site)): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


def test_first_build_announces_nothing_then_changes_become_news(repo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert build(repo, tmp_path, EPOCH).returncode == 0
    assert entries(site) == []
    (repo / f"xen/{IMG}_1.txt").write_text("Now with a description.\n")
    write_tree(repo, {f"xen/{IMG}_9.img": b"new image"})
    assert build(repo, tmp_path, EPOCH + 60).returncode == 0
    kinds = [(kind, title) for _, kind, title in entries(site)]
    assert kinds == [("changed", f"New description: xen/{IMG}_1"), ("added", f"Added: xen/{IMG}_9")]
    catalog = read_catalog(site)
    one = next(i for i in catalog["images"] if i["id"] == f"xen/{IMG}_1")
    assert (
        one["first_seen"] == "2100-01-01T00:00:00Z"
        and one["last_changed"] == "2100-01-01T00:01:00Z"
    )


def test_removed_image_keeps_its_permalink_as_a_tombstone(repo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert build(repo, tmp_path, EPOCH).returncode == 0
    permalink = site / f"images/xen/{IMG}_2/index.html"
    assert "Removed from the repository" not in permalink.read_text()
    for suffix in (".img", ".checksum"):
        (repo / f"xen/{IMG}_2{suffix}").unlink()
    assert build(repo, tmp_path, EPOCH + 86400).returncode == 0
    page = permalink.read_text()
    assert "Removed from the repository on" in page and "2100-01-02" in page
    assert f"{IMG}_2.img" in page
    catalog = read_catalog(site)
    assert [r["id"] for r in catalog["removed"]] == [f"xen/{IMG}_2"]
    assert f"xen/{IMG}_2" not in {i["id"] for i in catalog["images"]}
    assert [(kind, title) for _, kind, title in entries(site)] == [
        ("removed", f"Removed: xen/{IMG}_2")
    ]
    index = (site / "index.html").read_text()
    assert "Recently removed" in index and f"images/xen/{IMG}_2/" in index
    sitemap = (site / "sitemap.xml").read_text()
    assert f"https://www.star.bnl.gov/vm/images/xen/{IMG}_2/" in sitemap
    # it comes back: the tombstone goes, the news says so
    write_tree(repo, {f"xen/{IMG}_2.img": b"restored"})
    assert build(repo, tmp_path, EPOCH + 2 * 86400).returncode == 0
    assert "Removed from the repository" not in permalink.read_text()
    assert entries(site)[0][1:] == ("added", f"Added: xen/{IMG}_2")


def test_feed_is_valid_atom_with_stable_entry_ids(repo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(repo, tmp_path, EPOCH)
    (repo / f"xen/{IMG}_0.checksum").write_text("0" * 32 + f"  {IMG}_0.img\n")
    build(repo, tmp_path, EPOCH + 60)
    first = entries(site)
    (repo / f"xen/{IMG}_3.txt").write_text("described\n")
    build(repo, tmp_path, EPOCH + 120)
    second = entries(site)
    assert second[1:] == first and len(second) == 2  # old entries keep their ids
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.feed.title and parsed.feed.id and parsed.feed.updated
    for entry in parsed.entries:
        assert entry.id.startswith("urn:uuid:") and entry.title and entry.updated
        assert entry.link.startswith("https://www.star.bnl.gov/vm/images/xen/")
    root = ET.parse(site / "feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    for element in (root, *root.findall(f"{ATOM}entry")):  # RFC 4287: exactly one of each
        for tag in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{tag}")) == 1
    assert root.find(f"{ATOM}author/{ATOM}name").text
    assert (
        root.find(f"{ATOM}link[@rel='self']").get("href") == "https://www.star.bnl.gov/vm/feed.xml"
    )


def test_a_run_that_finds_nothing_new_rewrites_nothing(repo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert build(repo, tmp_path, EPOCH).returncode == 0
    before, generated = mtimes(site), read_catalog(site)["generated_at"]
    link = (tmp_path / "site").readlink()
    again = build(repo, tmp_path, EPOCH + 3600)
    assert again.returncode == 0 and "site unchanged" in again.stderr
    assert mtimes(site) == before and (tmp_path / "site").readlink() == link
    assert read_catalog(site)["generated_at"] == generated == "2100-01-01T00:00:00Z"


def test_a_rebuilt_state_does_not_flood_the_feed(repo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(repo, tmp_path, EPOCH)
    (repo / f"xen/{IMG}_4.txt").write_text("news\n")
    build(repo, tmp_path, EPOCH + 60)
    assert len(entries(site)) == 1
    for path in (tmp_path / "state").glob("state.sqlite*"):
        path.write_bytes(b"garbage" * 100)
    done = build(repo, tmp_path, EPOCH + 120)
    assert done.returncode == 0, done.stderr
    assert "state_rebuilt" in read_catalog(site)["problems"][0]["code"]
    assert entries(site) == []  # history restarts quietly; images are not all "added"


def test_two_concurrent_runs_one_exits_75(repo: Path, tmp_path: Path) -> None:
    """The first run holds the locks while it works; a second one started then gives up at once."""
    write_tree(repo, {f"xen/{IMG}_big.img": b"\0" * (256 << 20)})
    command = [*CLI, "build", "--repository", str(repo), "--output",
               str(tmp_path / "site"), "--state", str(tmp_path / "state"), "--jobs", "1"]  # fmt: skip
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lock = output_lock_path(tmp_path / "site")
    deadline = time.monotonic() + 30
    while not _locked(lock):  # wait until the first run really holds its lock
        assert time.monotonic() < deadline and first.poll() is None
    second = run_cli(*command[3:])
    assert first.wait(timeout=120) == 0
    assert second.returncode == 75
    assert second.stderr.strip().endswith(
        "another run holds the lock on this state directory; try again later"
    )


def _locked(path: Path) -> bool:
    if not path.exists():
        return False
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
