"""The read path: the same digests as md5sum/sha256sum, alone or with a helper thread, from one
read, and a clean stop."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

import pytest

from generator.digests import Digest, algorithm_set, has_all, hex_of
from generator.errors import ConfigError
from generator.read.scan import FileStat
from generator.verify.hashing import (
    BUFFERS,
    HELPER_CHUNK,
    HELPER_MIN_SIZE,
    Interrupted,
    digests_of,
    hash_file,
    split,
)

MIB = 1 << 20


def md5sum(path: Path) -> str:
    return subprocess.run(["md5sum", path], check=True, capture_output=True, text=True).stdout[:32]


def sha256sum(path: Path) -> str:
    done = subprocess.run(["sha256sum", path], check=True, capture_output=True, text=True)
    return done.stdout[:64]


def bytes_read_by_this_process() -> int:
    """`rchar` of /proc/self/io: every byte any thread of the process got from read()."""
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["rchar"])


@pytest.mark.parametrize("helper", [False, True])
@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 3 * MIB + 12345])
def test_md5_matches_md5sum(tmp_path: Path, helper: bool, size: int) -> None:
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(size))
    seen: list[int] = []
    fd = os.open(path, os.O_RDONLY)
    try:
        digests, count = digests_of(fd, ("md5",), seen.append, helper=helper)
    finally:
        os.close(fd)
    assert (digests, count, sum(seen)) == ((Digest("md5", md5sum(path)),), size, size)


@pytest.mark.parametrize("helper", [False, True])
def test_md5_and_sha256_come_from_one_read(tmp_path: Path, helper: bool) -> None:
    size = 12 * MIB + 4321
    path = tmp_path / "image.img"
    data = os.urandom(size)
    path.write_bytes(data)
    seen: list[int] = []
    fd = os.open(path, os.O_RDONLY)
    try:
        before = bytes_read_by_this_process()
        digests, count = digests_of(fd, ("md5", "sha256"), seen.append, helper=helper)
        read = bytes_read_by_this_process() - before
    finally:
        os.close(fd)
    assert digests == (
        Digest("md5", hashlib.md5(data).hexdigest()),
        Digest("sha256", hashlib.sha256(data).hexdigest()),
    )
    assert digests == (Digest("md5", md5sum(path)), Digest("sha256", sha256sum(path)))
    assert count == sum(seen) == size
    assert size <= read < size + MIB  # the file once (plus /proc/self/io), not once per digest


def test_the_helper_thread_hashes_part_of_the_set_on_the_same_bytes(tmp_path: Path) -> None:
    """MD5 here, SHA-256 on the reading helper; with SHA-512, MD5 and SHA-256 here. Each digest
    equals what coreutils computes, and every byte was read once for all three."""
    assert split(("md5", "sha256")) == ((0,), (1,))
    assert split(("md5", "sha256", "sha512")) == ((0, 1), (2,))
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(9 * MIB + 77))
    fd = os.open(path, os.O_RDONLY)
    try:
        before = bytes_read_by_this_process()
        digests, count = digests_of(fd, ("md5", "sha256", "sha512"), helper=True)
        read = bytes_read_by_this_process() - before
    finally:
        os.close(fd)
    sha512 = subprocess.run(["sha512sum", path], capture_output=True, text=True).stdout[:128]
    assert digests == (
        Digest("md5", md5sum(path)),
        Digest("sha256", sha256sum(path)),
        Digest("sha512", sha512),
    )
    assert count == 9 * MIB + 77 <= read < count + MIB


def coreutils_sum(algorithm: str, path: Path) -> str:
    """What `md5sum`, `sha256sum` or `sha512sum` prints for `path` (the hex part)."""
    done = subprocess.run([f"{algorithm}sum", path], check=True, capture_output=True, text=True)
    return done.stdout.split()[0]


@pytest.mark.parametrize(
    "algorithms", [("md5", "sha256"), ("md5", "sha512"), ("md5", "sha256", "sha512")]
)
def test_every_split_of_a_configurable_set_gives_what_coreutils_prints(
    tmp_path: Path, algorithms: tuple[str, ...]
) -> None:
    """Whichever hashers the helper takes (with md5+sha512, MD5 moves to the helper), every
    digest covers every byte once, in order, across more buffers than circulate and a last
    buffer that is not full."""
    mine, theirs = split(algorithms)
    assert mine and theirs and sorted(mine + theirs) == list(range(len(algorithms)))
    size = (BUFFERS + 3) * HELPER_CHUNK + 4321
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(size))
    fd = os.open(path, os.O_RDONLY)
    try:
        digests, count = digests_of(fd, algorithms, helper=True)
    finally:
        os.close(fd)
    assert count == size
    assert digests == tuple(Digest(a, coreutils_sum(a, path)) for a in algorithms)


def test_hash_file_takes_the_algorithm_set(tmp_path: Path) -> None:
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(3 * MIB))
    member = FileStat.of("image.img", path.stat())
    both = hash_file(tmp_path, member, algorithms=("md5", "sha256"))
    alone = hash_file(tmp_path, member)
    assert both.digests == (Digest("md5", md5sum(path)), Digest("sha256", sha256sum(path)))
    assert alone.digests == (Digest("md5", md5sum(path)),)
    assert both.bytes_read == alone.bytes_read == 3 * MIB


def test_stop_ends_the_helper_thread(tmp_path: Path) -> None:
    path = tmp_path / "image.img"
    path.write_bytes(os.urandom(6 * MIB))
    stop = threading.Event()
    before = threading.active_count()
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(Interrupted):
            digests_of(fd, ("md5",), lambda count: stop.set(), stop, helper=True)
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
    assert changing.changing and changing.digests == ()
    assert steady.digests == (Digest("md5", md5sum(path)),) and not steady.changing


def test_algorithm_set_is_ordered_deduplicated_and_always_checks_md5() -> None:
    assert algorithm_set(["sha256", "md5", "sha256"]) == ("md5", "sha256")
    assert algorithm_set(["sha512"]) == ("md5", "sha512")
    with pytest.raises(ConfigError, match="'crc32': unknown digest algorithm"):
        algorithm_set(["sha256", "crc32"])


def test_digest_lookup_by_algorithm() -> None:
    digests = (Digest("md5", "a" * 32), Digest("sha256", "b" * 64))
    assert hex_of(digests) == "a" * 32 and hex_of(digests, "sha256") == "b" * 64
    assert hex_of(digests, "sha512") is None and hex_of(()) is None
    assert has_all(digests, ("md5", "sha256")) and not has_all(digests[:1], ("md5", "sha256"))
