"""Files of the unpublished copy written in place: still never through a link planted there."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from generator.publish.copies import current_build, publish
from generator.publish.output_checks import builds_dir
from generator.site.deferred import Chunked
from tests.conftest import write_tree

SITE = {"index.html": b"<p>a</p>", "images/xen/x/index.html": b"x", "catalog.json": b"{}"}


def published_twice(tmp_path: Path) -> tuple[Path, Path]:
    """A site published twice: the output, and the copy the next run writes (holding SITE)."""
    output = tmp_path / "site"
    publish(SITE, output)
    publish(SITE | {"index.html": b"b"}, output)
    inactive = builds_dir(output) / "a"
    assert (
        current_build(output) != inactive and (inactive / "index.html").read_bytes() == b"<p>a</p>"
    )
    return output, inactive


@pytest.mark.parametrize(
    "relpath",
    ["index.html", "images/xen/y/index.html"],
    ids=["a file of the copy", "a new path no manifest lists"],
)
def test_a_link_planted_in_the_copy_is_replaced_not_followed(tmp_path: Path, relpath: str) -> None:
    victim = write_tree(tmp_path / "victim", {"data.html": "precious"}) / "data.html"
    output, inactive = published_twice(tmp_path)
    (inactive / relpath).unlink(missing_ok=True)
    (inactive / relpath).parent.mkdir(exist_ok=True)
    (inactive / relpath).symlink_to(victim)
    publish(SITE | {relpath: b"c"}, output)
    assert victim.read_text() == "precious"
    assert not (output / relpath).is_symlink() and (output / relpath).read_bytes() == b"c"


def test_a_hard_link_planted_at_a_file_of_the_copy_is_never_written_through(
    tmp_path: Path,
) -> None:
    victim = write_tree(tmp_path / "victim", {"data.json": "precious"}) / "data.json"
    output, inactive = published_twice(tmp_path)
    (inactive / "catalog.json").unlink()
    os.link(victim, inactive / "catalog.json")
    publish(SITE | {"index.html": b"c", "catalog.json": b'{"new": 1}'}, output)
    assert victim.read_text() == "precious"
    assert (output / "catalog.json").read_bytes() == b'{"new": 1}'


def test_a_temporary_file_of_an_older_killed_run_is_cleared_when_its_file_is_rewritten(
    tmp_path: Path,
) -> None:
    """Older versions wrote `.NAME.tmp` and renamed it; a killed one left it in its journal."""
    output, inactive = published_twice(tmp_path)
    (inactive / ".index.html.tmp").write_bytes(b"half a page")
    journal = {path: None for path in SITE}
    (inactive.parent / "a.manifest.json").write_text(json.dumps(journal))
    result = publish(SITE | {"index.html": b"c"}, output)
    assert result.written == 3 and (output / "index.html").read_bytes() == b"c"
    assert not (output / ".index.html.tmp").exists()
    assert sorted(str(p.relative_to(output)) for p in output.rglob("*") if p.is_file()) == sorted(
        SITE
    )


def test_a_fifo_planted_at_a_file_of_the_copy_is_replaced_without_waiting(tmp_path: Path) -> None:
    output, inactive = published_twice(tmp_path)
    (inactive / "index.html").unlink()
    os.mkfifo(inactive / "index.html")  # opened for writing, it would wait for a reader forever
    publish(SITE | {"index.html": b"c"}, output)
    assert (output / "index.html").read_bytes() == b"c"


def test_a_rewritten_page_shrinks_to_its_new_bytes(tmp_path: Path) -> None:
    output, _ = published_twice(tmp_path)
    publish(SITE | {"index.html": b"c", "catalog.json": b"{" + b" " * 5000 + b"}"}, output)
    publish(SITE | {"index.html": b"d", "catalog.json": b"{}"}, output)
    publish(SITE | {"index.html": b"e", "catalog.json": b"[]"}, output)
    assert (output / "catalog.json").read_bytes() == b"[]"
    assert (builds_dir(output) / "b" / "catalog.json").read_bytes() == b"{}"


def chunked(*parts: bytes, made: list[int] | None = None) -> Chunked:
    """A file made in parts, as catalog.json is; `made` counts the times its parts are made."""

    def make() -> list[bytes]:
        if made is not None:
            made.append(1)
        return list(parts)

    return Chunked(make)


def manifest_digest(output: Path, relpath: str) -> str:
    copy = current_build(output)
    assert copy is not None
    return json.loads((copy.parent / f"{copy.name}.manifest.json").read_text())[relpath]


def test_a_chunked_file_is_made_once_and_kept_when_its_bytes_are_the_same(
    tmp_path: Path,
) -> None:
    """Made once per publish (it was digested, then made again to be written); a copy already
    holding its bytes keeps the file as it is, mtime and all."""
    output = tmp_path / "site"
    parts = (b'{"images": [\n', b"1,\n" * 3000, b"2\n]}\n")
    for n in range(3):  # the third run writes the copy the first one wrote
        made: list[int] = []
        publish(
            SITE | {"index.html": b"%d" % n, "catalog.json": chunked(*parts, made=made)}, output
        )
        assert len(made) == 1
    copy = current_build(output)
    assert copy is not None and (copy / "catalog.json").read_bytes() == b"".join(parts)
    before = (copy / "catalog.json").stat()
    os.utime(copy / "catalog.json", ns=(before.st_atime_ns, before.st_mtime_ns - 10**9))
    kept = (copy / "catalog.json").stat().st_mtime_ns
    publish(SITE | {"index.html": b"0", "catalog.json": chunked(*parts)}, output)
    publish(SITE | {"index.html": b"1", "catalog.json": chunked(*parts)}, output)
    assert current_build(output) == copy and (copy / "catalog.json").stat().st_mtime_ns == kept
    assert manifest_digest(output, "catalog.json") == hashlib.sha256(b"".join(parts)).hexdigest()


@pytest.mark.parametrize(
    "parts",
    [
        (b'{"images": [\n', b"1,\n" * 3000, b"3\n]}\n"),  # the last part differs
        (b'{"images": [\n', b"9,\n" * 3000, b"2\n]}\n"),  # a middle one
        (b'{"images": [\n', b"1,\n" * 10, b"2\n]}\n"),  # shorter
        (b'{"images": [\n', b"1,\n" * 9000, b"2\n]}\n"),  # longer
    ],
    ids=["last part", "middle part", "shorter", "longer"],
)
def test_a_chunked_file_is_written_from_where_it_differs(
    tmp_path: Path, parts: tuple[bytes, ...]
) -> None:
    output = tmp_path / "site"
    first = (b'{"images": [\n', b"1,\n" * 3000, b"2\n]}\n")
    for n in range(2):
        publish(SITE | {"index.html": b"%d" % n, "catalog.json": chunked(*first)}, output)
    result = publish(SITE | {"index.html": b"2", "catalog.json": chunked(*parts)}, output)
    assert (output / "catalog.json").read_bytes() == b"".join(parts)
    assert manifest_digest(output, "catalog.json") == hashlib.sha256(b"".join(parts)).hexdigest()
    assert result.written == 2  # index.html and catalog.json


@pytest.mark.parametrize("planted", ["hard link", "symbolic link", "fifo"])
def test_a_chunked_file_never_writes_through_what_is_planted_at_its_path(
    tmp_path: Path, planted: str
) -> None:
    victim = write_tree(tmp_path / "victim", {"data.json": "precious"}) / "data.json"
    output, inactive = published_twice(tmp_path)
    path = inactive / "catalog.json"
    path.unlink()
    if planted == "hard link":
        os.link(victim, path)
    elif planted == "symbolic link":
        path.symlink_to(victim)
    else:
        os.mkfifo(path)  # opened to be read, it would wait for a writer forever
    publish(SITE | {"index.html": b"c", "catalog.json": chunked(b'{"new":', b" 1}")}, output)
    assert victim.read_text() == "precious"
    assert not (output / "catalog.json").is_symlink()
    assert (output / "catalog.json").read_bytes() == b'{"new": 1}'
