"""Publishing as the web server sees it: always a whole site, unchanged bytes never rewritten."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from generator.errors import EXIT_CRASH
from generator.failpoints import FAIL_POINTS, FAIL_VARIABLE, POINTS
from generator.identity import program_identity
from generator.publish.copies import current_build, publish
from generator.publish.manifest import manifest_parts, manifest_path, read_manifest
from generator.publish.output_checks import UnsafeOutputError, builds_dir
from generator.site import records
from generator.site.page_memo import pages_parts
from tests.conftest import image_files, read_catalog, run_cli, write_tree

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


def test_what_the_tool_did_not_write_in_the_build_area_is_kept(tmp_path: Path) -> None:
    """Nothing but the copies' recorded files is ever deleted; manifests stay outside the site."""
    output = tmp_path / "site"
    for n in range(3):
        publish({**SITE_A, "index.html": f"{n}".encode()}, output)
    stray = write_tree(builds_dir(output) / "20240101T000000-stray", {"notes.txt": "mine"})
    publish({**SITE_A, "index.html": b"last"}, output)
    assert (stray / "notes.txt").read_text() == "mine"
    copies = sorted(p.name for p in builds_dir(output).iterdir() if p.is_dir())
    assert copies == ["20240101T000000-stray", "a", "b"] and current_build(output).name in "ab"
    assert not list(output.rglob("*manifest*")) and not list(output.rglob("*.tmp"))


def test_a_copy_left_half_written_is_rewritten_whole(tmp_path: Path) -> None:
    output = tmp_path / "site"
    publish(SITE_A, output)
    publish(SITE_A | {"index.html": b"b"}, output)
    inactive = builds_dir(output) / "a"
    assert current_build(output) != inactive
    (inactive / "index.html").write_bytes(b"garbage from a killed run")
    # A killed run leaves its journal: every path listed as ours, no digest trusted.
    journal = {path: None for path in SITE_A}
    (inactive.parent / "a.manifest.json").write_text(json.dumps(journal))
    (inactive / "mine.txt").write_text("not in any manifest")
    result = publish(SITE_A | {"index.html": b"c"}, output)
    assert result.written == 3 and (output / "index.html").read_bytes() == b"c"
    assert (output / "catalog.json").read_bytes() == b"{}"
    assert (output / "mine.txt").read_text() == "not in any manifest"  # not ours: kept


def test_a_damaged_journal_trusts_no_file_of_its_copy_and_deletes_nothing_else(
    tmp_path: Path,
) -> None:
    output = tmp_path / "site"
    publish(SITE_A, output)
    publish(SITE_A | {"index.html": b"b"}, output)
    inactive = builds_dir(output) / "a"
    (inactive / "catalog.json").write_bytes(b"half written")
    (inactive.parent / "a.journal.json").write_text('["index.ht')
    (inactive / "mine.txt").write_text("not in any manifest")
    result = publish(SITE_A | {"index.html": b"c"}, output)
    assert result.build == inactive and (result.written, result.kept) == (3, 0)
    assert (output / "catalog.json").read_bytes() == b"{}"
    assert (output / "mine.txt").read_text() == "not in any manifest"
    assert not (inactive.parent / "a.journal.json").exists()


def test_a_copy_with_no_manifest_at_all_is_moved_aside_not_deleted(tmp_path: Path) -> None:
    """An older version deleted the manifest before writing: nothing says those files are ours."""
    output = tmp_path / "site"
    publish(SITE_A, output)
    write_tree(builds_dir(output) / "b", {"index.html": "half", "keep/me.txt": "kept"})
    publish(SITE_A | {"index.html": b"new"}, output)
    assert (output / "index.html").read_bytes() == b"new" and not (output / "keep").exists()
    [aside] = builds_dir(output).glob("b.unrecorded-*")
    assert (aside / "keep/me.txt").read_text() == "kept"


def test_a_manifest_naming_paths_outside_its_copy_deletes_nothing_there(tmp_path: Path) -> None:
    output = tmp_path / "site"
    victim = write_tree(tmp_path / "victim", {"data.txt": "precious"})
    publish(SITE_A, output)
    publish(SITE_A | {"index.html": b"b"}, output)
    manifest = builds_dir(output) / "a.manifest.json"
    planted = json.loads(manifest.read_text()) | {"../../victim/data.txt": "0" * 64}
    manifest.write_text(json.dumps(planted))
    publish(SITE_A | {"index.html": b"c"}, output)
    assert (victim / "data.txt").read_text() == "precious"
    # A journal naming them (as a killed run's would name its files) deletes nothing there.
    outside = ["../../victim/data.txt", "images/../../../victim/data.txt", "/etc/hostname"]
    (builds_dir(output) / "b.journal.json").write_text(json.dumps(outside))
    publish(SITE_A | {"index.html": b"d"}, output)
    assert (victim / "data.txt").read_text() == "precious"
    assert (output / "index.html").read_bytes() == b"d"


def test_a_manifest_is_read_with_outside_paths_dropped_and_odd_digests_untrusted(
    tmp_path: Path,
) -> None:
    """Checked in place as it is read: the paths that stay inside, a digest only where the
    manifest holds a text."""
    output = tmp_path / "site"
    publish(SITE_A, output)
    build = current_build(output)
    recorded = json.loads(manifest_path(build).read_text())
    odd = {"../x": "0" * 64, "/etc/hostname": "1" * 64, "a/../../y": None, "z.html": 7}
    manifest_path(build).write_text(json.dumps(recorded | odd))
    assert read_manifest(build) == recorded | {"z.html": None}


def test_a_manifest_read_for_publishing_shares_the_equal_digests_of_the_new_one(
    tmp_path: Path,
) -> None:
    """The two manifests held while a copy is updated hold one object per unchanged digest."""
    output = tmp_path / "site"
    publish(SITE_A, output)
    build = current_build(output)
    recorded = read_manifest(build)
    new = {path: "".join(digest) for path, digest in recorded.items() if digest}
    new["index.html"] = "2" * 64
    shared = read_manifest(build, share=new)
    assert shared == recorded
    assert shared["catalog.json"] is new["catalog.json"]
    assert shared["index.html"] is not new["index.html"]


def test_a_folder_of_a_copy_replaced_by_a_link_is_never_written_or_deleted_through(
    tmp_path: Path,
) -> None:
    output = tmp_path / "site"
    victim = write_tree(tmp_path / "victim", {"xen/x/index.html": "precious"})
    publish(SITE_A, output)
    publish(SITE_A | {"index.html": b"b"}, output)
    inactive = builds_dir(output) / "a"
    shutil.rmtree(inactive / "images")
    (inactive / "images").symlink_to(victim)
    for site in ({"index.html": b"c"}, SITE_A | {"images/xen/x/index.html": b"new"}):
        with pytest.raises(UnsafeOutputError, match="images': is a symbolic link"):
            publish(site, output)
        assert (victim / "xen/x/index.html").read_text() == "precious"
    assert (output / "index.html").read_bytes() == b"b"


def test_a_plain_site_of_an_older_version_is_moved_aside_and_kept(tmp_path: Path) -> None:
    old = {
        "index.html": "old",
        "catalog.json": json.dumps({"schema_version": 1, "images": [], "problems": []}),
        "notes/added-by-hand.txt": "keep me",
    }
    output = write_tree(tmp_path / "site", old)
    publish(SITE_A, output)
    assert output.is_symlink() and (output / "index.html").read_bytes() == b"<p>a</p>"
    publish(SITE_A | {"index.html": b"b"}, output)  # and later runs keep it too
    [legacy] = builds_dir(output).glob("legacy-*")
    assert {p: (legacy / p).read_text() for p in old} == old


def test_a_folder_without_our_catalog_is_refused_untouched(tmp_path: Path) -> None:
    output = write_tree(tmp_path / "www", {"index.html": "someone else's", "catalog.json": "{}"})
    before = mtimes(output)
    with pytest.raises(UnsafeOutputError, match="not a site this tool published"):
        publish(SITE_A, output)
    assert mtimes(output) == before and (output / "index.html").read_text() == "someone else's"
    assert not builds_dir(output).exists()


def test_disk_errors_leave_the_published_site_untouched(tmp_path: Path) -> None:
    output = tmp_path / "site"
    publish(SITE_A, output)
    with pytest.raises(Exception, match="published site is unchanged"):
        publish({**SITE_A, "index.html/oops": b"a file where a directory must be"}, output)
    assert (output / "index.html").read_bytes() == b"<p>a</p>"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo", image_files({f"xen/{IMG}_{n}.img": f"image {n}" * 100 for n in range(6)})
    )


def build(repo: Path, tmp_path: Path, *extra: str, env: dict[str, str] | None = None):
    return run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), *extra, env=env)  # fmt: skip


@pytest.mark.parametrize("point", POINTS)
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


@pytest.mark.parametrize("point", FAIL_POINTS)
def test_a_bug_exits_70_with_its_traceback_and_leaves_a_whole_site(
    repo: Path, tmp_path: Path, point: str
) -> None:
    """An exception the program does not expect (`FAIL_AT`, as a bug raises one) is not exit 1,
    which the service and cron take for routine problems: 70, the traceback on stderr and one
    line in the log, even with --quiet. The live site is a whole one: the last published,
    the new one once publishing is done (a failure as the run reports)."""
    log = tmp_path / "run.log"
    assert build(repo, tmp_path).returncode == 0
    site = tmp_path / "site"
    before = {p: (site / p).read_bytes() for p in mtimes(site)}
    (repo / f"xen/{IMG}_0.txt").write_text("A new description.\n")
    failed = build(repo, tmp_path, "--quiet", "--log-file", str(log), env={FAIL_VARIABLE: point})
    assert failed.returncode == EXIT_CRASH == 70
    assert "Traceback (most recent call last)" in failed.stderr
    assert (
        f"unexpected error: generator.failpoints.Failpoint: failure asked for at '{point}'"
        in failed.stderr
    )
    [logged] = [line for line in log.read_text().splitlines() if "unexpected error" in line]
    assert "please report it" in logged and "Traceback" not in log.read_text()
    page = site / f"images/xen/{IMG}_0/index.html"
    if point == "reporting":  # published before it failed
        assert "A new description." in page.read_text()
        assert build(repo, tmp_path).returncode == 0
        return
    assert {p: (site / p).read_bytes() for p in mtimes(site)} == before
    done = build(repo, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "A new description." in page.read_text()


def test_a_build_killed_while_writing_journals_the_paths_it_may_touch(
    repo: Path, tmp_path: Path
) -> None:
    """The copy's manifest stays the last complete one; the journal beside it lists the files
    the killed run may have written (the edited image's, the shared ones), not the others."""
    site, builds = tmp_path / "site", builds_dir(tmp_path / "site")
    settled = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: every file read and trusted at once
    for n in range(2):  # both copies made
        (repo / f"xen/{IMG}_1.txt").write_text(f"Description {n}.\n")
        assert build(repo, tmp_path, env=settled).returncode == 0
    target = builds / ("a" if current_build(site).name == "b" else "b")
    manifest = (builds / f"{target.name}.manifest.json").read_bytes()
    (repo / f"xen/{IMG}_0.txt").write_text("A new description.\n")
    killed = build(repo, tmp_path, env=settled | {"STAR_VM_CATALOG_CRASH_AT": "publishing"})
    assert killed.returncode == -9
    assert (builds / f"{target.name}.manifest.json").read_bytes() == manifest
    journal = json.loads((builds / f"{target.name}.journal.json").read_text())
    assert {f"images/xen/{IMG}_0/index.html", "catalog.json"} <= set(journal)
    assert f"images/xen/{IMG}_2/index.html" not in journal
    assert len(journal) < len(json.loads(manifest)) / 2
    assert build(repo, tmp_path, env=settled).returncode == 0
    assert not list(builds.glob("*.journal.json"))
    assert "A new description." in (site / f"images/xen/{IMG}_0/index.html").read_text()
    recorded = json.loads((builds / f"{current_build(site).name}.manifest.json").read_text())
    assert recorded == {
        p: hashlib.sha256((site / p).read_bytes()).hexdigest() for p in mtimes(site)
    }


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


def test_a_manifest_written_in_parts_is_the_json_of_it_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Slices of a few entries, a line each: JSON of the whole manifest (sorted, compact within
    a line, escaped), and of the whole record of page keys, for any number of entries; read
    back a line at a time."""
    monkeypatch.setattr(records, "JSON_SLICE", 3)
    slices: list[int] = []  # the entries `take` is given at each call: a line's
    for count in (0, 1, 3, 4, 7):
        files: dict[str, str | None] = {f'images/é{n}/"x".html': f"{n:064x}" for n in range(count)}
        if count:
            files["z/journaled.html"] = None
        written = b"".join(manifest_parts(files))
        assert json.loads(written) == files and list(json.loads(written)) == sorted(files)
        assert written.count(b"\n") == max(0, (len(files) - 1) // 3)
        path = tmp_path / f"{count}.json"
        path.write_bytes(written)
        slices.clear()
        read = records.read_sorted_object(path, lambda part: slices.append(len(part)) or part)
        assert read == files
        assert slices == ([min(3, len(files) - n) for n in range(0, len(files), 3)] or [0])
        keys = {path: f"{n:064x}" for n, path in enumerate(files)}
        record = {"program": program_identity(), "pages": keys}
        assert json.loads(b"".join(pages_parts(keys))) == record


# Files laid out otherwise (by hand, another tool, damage): read as `json.loads` reads them.
OTHER_LAYOUTS = [
    b'{"a":"1",\n"b":"2"}',  # the layout itself
    b"{}",
    b'{"a":"1"}\n',  # a final newline
    b'{"a":"1",\r\n"b":"2"}',
    b'{\n"a":"1"}',
    b'{"a":\n"1"}',
    b'{"a":"1",\n"a":"2",\n"b":"3"}',  # a repeated path: the last digest, the first place
    b'{"a":"1",\n}',
    b'{"a":"1",\n,\n"b":"2"}',
    b'{"a":"1",\n }',  # entries of blanks only: a stray comma
    b'{ ,\n"a":"1"}',
    b'{"a":"1",\n\t,\n"b":"2"}',
    b'{"a":"1",\n',
    b"{",
    b'["a"]',
    b'{"a":"\xff"}',
    b'\xef\xbb\xbf{"a":"1"}',
    b' {"a":"1"}',
    b'{"a":"1"} {"b":"2"}',
    b'{"a":"1",\n"b":"2"}\x00',
]


@pytest.mark.parametrize("text", OTHER_LAYOUTS)
def test_a_flat_object_is_read_as_json_reads_it_whatever_its_layout(
    tmp_path: Path, text: bytes
) -> None:
    path = tmp_path / "object.json"
    path.write_bytes(text)
    try:
        expected = json.loads(text.decode("utf-8"))
    except ValueError:
        expected = None
    if not isinstance(expected, dict):
        with pytest.raises(ValueError):
            records.read_sorted_object(path, lambda part: part)
        return
    read = records.read_sorted_object(path, lambda part: part)
    assert read == expected and list(read) == list(expected)
