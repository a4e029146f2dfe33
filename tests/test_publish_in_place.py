"""Files of the unpublished copy written in place: still never through a link planted there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator.publish.copies import current_build, publish
from generator.publish.output_checks import builds_dir
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
