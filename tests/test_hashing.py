"""The read path: the same MD5 as md5sum, alone or with a helper thread, and a clean stop."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from generator.read.scan import FileStat
from generator.verify.hashing import HELPER_MIN_SIZE, Interrupted, hash_file, md5_of

MIB = 1 << 20


def md5sum(path: Path) -> str:
    return subprocess.run(["md5sum", path], check=True, capture_output=True, text=True).stdout[:32]


@pytest.mark.parametrize("helper", [False, True])
@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 3 * MIB + 12345])
def test_md5_matches_md5sum(tmp_path: Path, helper: bool, size: int) -> None:
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(size))
    seen: list[int] = []
    fd = os.open(path, os.O_RDONLY)
    try:
        md5, count = md5_of(fd, seen.append, helper=helper)
    finally:
        os.close(fd)
    assert (md5, count, sum(seen)) == (md5sum(path), size, size)


def test_stop_ends_the_helper_thread(tmp_path: Path) -> None:
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(6 * MIB))
    stop = threading.Event()
    before = threading.active_count()
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(Interrupted):
            md5_of(fd, lambda count: stop.set(), stop, helper=True)
    finally:
        os.close(fd)
    assert threading.active_count() == before


def test_helper_read_still_notices_a_changing_file(tmp_path: Path) -> None:
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(HELPER_MIN_SIZE + MIB))
    member = FileStat.of("image.img", path.stat())
    grown: list[int] = []

    def append_once(count: int) -> None:
        if not grown:
            grown.append(count)
            with path.open("ab") as handle:
                handle.write(b"more")

    changing = hash_file(tmp_path, member, on_bytes=append_once, spare_core=True)
    steady = hash_file(tmp_path, FileStat.of("image.img", path.stat()), spare_core=True)
    assert changing.changing and changing.md5 is None
    assert steady.md5 == md5sum(path) and not steady.changing
