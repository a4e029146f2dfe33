"""Issue 9, parts 2 and 3: files are opened as the scan saw them; one bad file is one problem.

Races are made deterministic by swapping a file between the scan and the read (the same
functions a run calls, in the same order); everything else goes through the real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.catalog.model import CATALOG_FIELDS
from generator.cli import main
from generator.config import Config
from generator.read.description import read_description
from generator.read.disk_formats import detect_format
from generator.read.parse import parse_image
from generator.read.safe_open import NotAsScanned, open_scanned
from generator.read.scan import scan
from generator.session import BUILD, parse_rules
from generator.verify.hashing import hash_file
from tests.conftest import (
    UNPRIVILEGED_UID,
    Fifo,
    as_unprivileged,
    codes_of,
    image_entries,
    image_files,
    read_catalog,
    run_cli,
    write_tree,
)

IMG = "sl5.3_x86_32_sl05c_8GB"
SECRET = "root:$6$private-hash-from-outside"


def fail_on_constant(name: str) -> None:
    raise AssertionError(f"catalog.json holds {name}, which is not JSON")


def strict_catalog(site: Path) -> dict:
    """catalog.json as a strict parser reads it: no NaN/Infinity, valid UTF-8."""
    return json.loads((site / "catalog.json").read_bytes().decode("utf-8"),
                      parse_constant=fail_on_constant)  # fmt: skip


def build(repo: Path, tmp_path: Path, *extra: str, epoch: int = 4_102_444_800):
    return run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), *extra,
                   env={"SOURCE_DATE_EPOCH": str(epoch)})  # fmt: skip


def image_tree(root: Path, count: int = 1) -> Path:
    return write_tree(
        root, image_files({f"xen/{IMG}_{n}.img": f"image {n} " * 50 for n in range(count)})
    )


# --- 2. Files are opened safely, once, as what the scan saw ---------------------------------


def test_fifos_named_like_image_and_sidecars_never_block_a_build(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_tree(root, {
        **image_entries(f"xen/{IMG}_0.img", "image 0 " * 50),
        f"xen/{IMG}_1.img": "image 1 " * 50,
        f"xen/{IMG}_fifo.img": Fifo(), f"xen/{IMG}_1.checksum": Fifo(), f"xen/{IMG}_0.txt": Fifo(),
    })  # fmt: skip
    started = time.monotonic()
    done = build(root, tmp_path)
    assert time.monotonic() - started < 120
    assert done.returncode == 1, done.stderr
    catalog = strict_catalog(tmp_path / "site")
    assert {i["id"]: i["status"] for i in catalog["images"]} == {
        f"xen/{IMG}_0": "verified",
        f"xen/{IMG}_1": "missing_checksum",
    }
    for name in (f"{IMG}_fifo.img", f"{IMG}_1.checksum", f"{IMG}_0.txt"):
        assert "not_regular_file" in codes_of(catalog, f"xen/{name}")


def scanned_member(root: Path, relpath: str):
    images = scan(root).images
    return next(m for image in images for m in image.members if m.relpath == relpath)


def test_image_swapped_for_a_link_to_dev_zero_is_changing_and_read_not_at_all(
    tmp_path: Path,
) -> None:
    root = image_tree(tmp_path / "repo")
    relpath = f"xen/{IMG}_0.img"
    member = scanned_member(root, relpath)
    (root / relpath).unlink()
    (root / relpath).symlink_to("/dev/zero")
    started = time.monotonic()
    result = hash_file(root, member)
    assert time.monotonic() - started < 5
    assert result.changing and result.digests == () and result.bytes_read == 0


def test_image_swapped_for_a_fifo_is_changing_without_blocking(tmp_path: Path) -> None:
    root = image_tree(tmp_path / "repo")
    relpath = f"xen/{IMG}_0.img"
    member = scanned_member(root, relpath)
    (root / relpath).unlink()
    os.mkfifo(root / relpath)
    assert hash_file(root, member).changing
    found = detect_format(root / relpath, member.size, member, root)
    assert [issue.code for issue in found.issues] == ["unreadable"]


def test_image_swapped_for_another_file_of_the_repository_is_changing(tmp_path: Path) -> None:
    """A link inside the repository passes the path check; the inode check still refuses it."""
    root = image_tree(tmp_path / "repo", 2)
    relpath = f"xen/{IMG}_0.img"
    member = scanned_member(root, relpath)
    (root / relpath).unlink()
    (root / relpath).symlink_to(f"{IMG}_1.img")
    assert hash_file(root, member).changing


def test_a_link_the_scan_followed_inside_the_repository_is_still_read(tmp_path: Path) -> None:
    root = image_tree(tmp_path / "repo")
    os.makedirs(root / "store")
    os.rename(root / f"xen/{IMG}_0.img", root / "store/disk.img")
    (root / f"xen/{IMG}_0.img").symlink_to("../store/disk.img")
    done = build(root, tmp_path)
    statuses = {i["id"]: i["status"] for i in read_catalog(tmp_path / "site")["images"]}
    assert statuses[f"xen/{IMG}_0"] == "verified", done.stderr


def test_sidecars_swapped_for_links_outside_are_never_read(tmp_path: Path) -> None:
    """Today's race published a private file (6 of 20 runs); swapped after the scan, never."""
    root = image_tree(tmp_path / "repo")
    write_tree(root, {f"xen/{IMG}_0.txt": "---\nkernel: 2.6\n---\nA fine image.\n"})
    private = tmp_path / "private.txt"
    private.write_text(f"{SECRET}\n")
    scanned = scan(root)
    for sidecar in (f"xen/{IMG}_0.txt", f"xen/{IMG}_0.checksum"):
        (root / sidecar).unlink()
        (root / sidecar).symlink_to(private)
    rules = parse_rules(Config(repository=root), BUILD)
    [entry] = scanned.images
    parsed = parse_image(scanned.root, entry, rules)
    shown = json.dumps([parsed.description.text, parsed.description.html,
                        parsed.checksum.error if parsed.checksum else None])  # fmt: skip
    assert "private-hash" not in shown
    codes = {p.code for p in parsed.problems}
    assert {"unreadable_description", "invalid_checksum"} <= codes
    assert parsed.checksum is not None and "leading out of the repository" in parsed.checksum.error


def test_sidecar_rewritten_after_the_scan_is_not_taken_for_what_was_scanned(
    tmp_path: Path,
) -> None:
    root = image_tree(tmp_path / "repo")
    write_tree(root, {f"xen/{IMG}_0.txt": "short\n"})
    scanned = scan(root)
    replacement = tmp_path / "repo/xen/new.txt"
    replacement.write_text("a different, longer description\n")
    os.replace(replacement, root / f"xen/{IMG}_0.txt")
    entry = scanned.images[0]
    description, problems = read_description(
        root / entry.description.relpath, entry.description.relpath, CATALOG_FIELDS,
        entry.description, scanned.root,
    )  # fmt: skip
    assert description.text == ""
    assert [p.code for p in problems] == ["unreadable_description"]
    assert "replaced" in problems[0].message


def test_open_scanned_refuses_a_device_even_without_a_scan(tmp_path: Path) -> None:
    with pytest.raises(NotAsScanned):
        open_scanned(None, "/dev/null", None)


# --- 3. One bad file is one problem, never a stopped run ------------------------------------

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)
HOSTILE_FRONT_MATTER = {
    "date": "released: 2020-13-45\n",
    "recursive": "a: &a [*a]\n",
    "surrogate": 'name: "\\ud800"\n',
    "bigint": "n: " + "9" * 5000 + "\n",
    "deep": "x: " + "[" * 5000 + "]" * 5000 + "\n",
    "bomb": ALIAS_BOMB,
    "long": "x: '" + "y" * 20_000 + "'\n",
}


def test_each_hostile_front_matter_is_one_problem_and_the_rest_publishes(
    tmp_path: Path,
) -> None:
    names = [*HOSTILE_FRONT_MATTER, "fine", "nan"]
    root = write_tree(tmp_path / "repo", image_files({f"xen/{IMG}_{n}.img": n for n in names}))
    texts = {
        **HOSTILE_FRONT_MATTER,
        "fine": "kernel: '2.6'\n",
        "nan": "a: .nan\nb: -.inf\nc: .inf\n",
    }
    for name, text in texts.items():
        (root / f"xen/{IMG}_{name}.txt").write_text(f"---\n{text}---\nBody of {name}.\n")
    done = build(root, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    catalog = strict_catalog(tmp_path / "site")
    assert os.path.getsize(tmp_path / "site/catalog.json") < 200_000
    images = {i["id"].rsplit("_", 1)[1]: i for i in catalog["images"]}
    assert set(images) == set(names)
    for name in HOSTILE_FRONT_MATTER:
        # The text of a description whose front matter failed is shown whole, as Markdown.
        codes = codes_of(catalog, f"xen/{IMG}_{name}.txt")
        assert "invalid_front_matter" in codes, name
        assert codes <= {"invalid_front_matter", "description_too_complex"}, name
        assert images[name]["description"].endswith(f"Body of {name}.")
    assert images["fine"]["kernel"] == "2.6"
    assert (images["nan"]["a"], images["nan"]["b"], images["nan"]["c"]) == ("nan", "-inf", "inf")


def test_nested_brackets_at_the_size_cap_render_as_plain_text_in_time(tmp_path: Path) -> None:
    """Python-Markdown takes hours on 256 KiB of `[`; the limit shows it escaped instead."""
    path = tmp_path / "d.txt"
    path.write_text("<b>" + "[" * (256 * 1024 - 10))
    started = time.monotonic()
    description, problems = read_description(path, "xen/d.txt", CATALOG_FIELDS)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert [p.code for p in problems] == ["description_too_complex"]
    assert description.html.startswith("<pre>&lt;b&gt;[[[")


def test_ordinary_markdown_is_still_rendered_under_the_time_limit(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_text("| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n[link](https://x.org)\n")
    description, problems = read_description(path, "xen/d.txt", CATALOG_FIELDS)
    assert problems == []
    assert "<table>" in description.html and "<pre><code>code" in description.html


def test_checksum_with_too_many_lines_is_one_invalid_checksum(tmp_path: Path) -> None:
    root = image_tree(tmp_path / "repo", 2)
    line = (root / f"xen/{IMG}_0.checksum").read_text()
    (root / f"xen/{IMG}_0.checksum").write_text(line * 10_001)
    done = run_cli("check", "--repository", str(root))
    assert done.returncode == 1
    assert f"xen/{IMG}_0.checksum': error: checksum file has more than 10000 lines" in done.stderr


def test_feed_stays_valid_xml_with_control_characters_in_names(tmp_path: Path) -> None:
    root = image_tree(tmp_path / "repo")
    assert build(root, tmp_path).returncode == 0
    odd = f"xen/{IMG}_bell\x07\x1b[31m.img"
    write_tree(root, image_entries(odd, "odd image"))
    done = build(root, tmp_path, epoch=4_102_448_400)
    assert done.returncode == 0, done.stderr
    feed = ET.parse(tmp_path / "site/feed.xml").getroot()
    titles = [e.text for e in feed.iter("{http://www.w3.org/2005/Atom}title")]
    assert f"Added: xen/{IMG}_bell\\x07\\x1b[31m" in titles
    assert any(i["name"] == odd[4:] for i in strict_catalog(tmp_path / "site")["images"])


def half_migrate(state: Path) -> None:
    """What an interrupted migration by hand could leave: version 3 without its column."""
    connection = sqlite3.connect(state / "state.sqlite")
    connection.execute("ALTER TABLE images DROP COLUMN record")
    connection.commit()
    connection.close()


def corrupt(state: Path) -> None:
    """Destroy the pages after the header, so the database opens but cannot be read."""
    path = state / "state.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [half_migrate, corrupt])
def test_damaged_state_still_publishes_and_keeps_tombstones(tmp_path: Path, damage) -> None:
    root = image_tree(tmp_path / "repo", 5)
    assert build(root, tmp_path).returncode == 0
    (root / f"xen/{IMG}_4.img").unlink()
    assert build(root, tmp_path, epoch=4_102_448_400).returncode == 0
    damage(tmp_path / "state")
    (root / f"xen/{IMG}_3.img").unlink()
    done = build(root, tmp_path, epoch=4_102_452_000)
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    catalog = strict_catalog(tmp_path / "site")
    assert len(catalog["images"]) == 3
    assert {t["id"] for t in catalog["removed"]} == {f"xen/{IMG}_3", f"xen/{IMG}_4"}
    for n in (3, 4):
        page = tmp_path / f"site/images/xen/{IMG}_{n}/index.html"
        assert "Removed from the repository on" in page.read_text()
    assert {p["code"] for p in catalog["problems"]} & {"state_not_saved", "state_rebuilt"}, (
        done.stderr
    )


def test_read_only_state_still_publishes_and_keeps_tombstones(tmp_path: Path) -> None:
    """As an unprivileged user whose state directory and database became read-only.

    Outside pytest's temporary root: other pytest sessions on this machine take the search
    permission off it at start-up, which would lock the unprivileged user out midway.
    """
    base = Path(tempfile.mkdtemp(prefix="star-vm-readonly-"))
    try:
        base.chmod(0o755)
        read_only_state_run(tmp_path, base)
    finally:
        shutil.rmtree(base)


def read_only_state_run(tmp_path: Path, base: Path) -> None:
    root = image_tree(base / "repo", 5)
    work = base / "work"
    work.mkdir()
    os.chown(work, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
    args = ["build", "--repository", str(root), "--output", str(work / "site"),
            "--state", str(work / "state"), "--quiet"]  # fmt: skip
    # The same runs here first import every module the child needs (it cannot read root's
    # Python): the page of a removed image, say, needs a codec no other page does.
    warm_root = image_tree(tmp_path / "warm-repo", 5)
    warm = ["build", "--repository", str(warm_root), "--output", str(tmp_path / "warm"),
            "--state", str(tmp_path / "warm-state"), "--quiet"]  # fmt: skip
    assert main(warm) == 0
    (warm_root / f"xen/{IMG}_4.img").unlink()
    assert main(warm) == 0
    os.environ["SOURCE_DATE_EPOCH"] = "4102444800"
    try:
        assert as_unprivileged(main, args) == 0
        (root / f"xen/{IMG}_4.img").unlink()
        os.environ["SOURCE_DATE_EPOCH"] = "4102448400"
        assert as_unprivileged(main, args) == 0
        for path in (work / "state").iterdir():
            if path.name != "lock":
                path.chmod(0o444)
        (work / "state").chmod(0o555)
        (root / f"xen/{IMG}_3.img").unlink()
        os.environ["SOURCE_DATE_EPOCH"] = "4102452000"
        assert as_unprivileged(main, args) == 0
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    catalog = strict_catalog(work / "site")
    assert len(catalog["images"]) == 3
    assert {t["id"] for t in catalog["removed"]} == {f"xen/{IMG}_3", f"xen/{IMG}_4"}
    assert {p["code"] for p in catalog["problems"]} & {"state_not_used", "state_not_saved"}


def test_longest_possible_names_of_odd_shapes_are_parsed_quickly(tmp_path: Path) -> None:
    """255 bytes is the most a name can hold; no shape of it may make a regex crawl."""
    names = [
        "sl5_x86_64_sl05c_" + "9" * 230 + "GB_a.img",
        "sl" + "5." * 110 + "_x86_64_sl05c_1GB_a.img",
        "_" * 251 + ".img",
        "a." * 127 + "i",
        "MD5 (" + "x" * 245 + ".img",
    ]
    root = write_tree(tmp_path / "repo", {f"xen/{name}": "x" for name in names})
    started = time.monotonic()
    done = run_cli("check", "--repository", str(root))
    assert time.monotonic() - started < 60
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    assert "5 images" in done.stderr.splitlines()[-1]


def test_vm_directory_swapped_for_a_link_outside_is_never_read(tmp_path: Path) -> None:
    """O_NOFOLLOW guards the last component only; the inode check guards the directories."""
    root = image_tree(tmp_path / "repo")
    write_tree(root, {f"xen/{IMG}_0.txt": "A fine image.\n"})
    outside = write_tree(tmp_path / "outside", {f"{IMG}_0.img": SECRET, f"{IMG}_0.txt": SECRET})
    scanned = scan(root)
    os.rename(root / "xen", tmp_path / "moved-away")
    (root / "xen").symlink_to(outside)
    [entry] = scanned.images
    parsed = parse_image(scanned.root, entry, parse_rules(Config(repository=root), BUILD))
    assert "private-hash" not in parsed.description.text + parsed.description.html
    assert "unreadable_description" in {p.code for p in parsed.problems}
    result = hash_file(scanned.root, parsed.entry.members[0])
    assert result.changing and result.bytes_read == 0
