"""Helpers for the incremental verification tests: real trees, a settable clock, inotify."""

from __future__ import annotations

import ctypes
import os
import struct
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from generator import build as run
from generator.config import Config
from generator.read.names import split_extension
from generator.session import RunResult
from generator.verify.verdict import Digester

IN_ACCESS = 0x001
IN_OPEN = 0x020
EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)


class Clock:
    """A clock the test moves by hand; starts on a whole second a minute after now, so well
    after the files were written (not racy) whatever the date the tests run on."""

    def __init__(self, now: float | None = None) -> None:
        self.now = float(int(time.time()) + 60) if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, days: float) -> None:
        self.now += days * 86400

    def iso(self, form: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
        return time.strftime(form, time.gmtime(self.now))


def add_image(root: Path, relpath: str, data: bytes) -> Path:
    """Write an image and its `.checksum`, made by the real md5sum."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    write_checksum(path)
    return path


def write_checksum(path: Path) -> None:
    line = subprocess.run(
        ["md5sum", path.name], cwd=path.parent, check=True, capture_output=True, text=True
    ).stdout
    stem = split_extension(path.name)[0]
    (path.parent / f"{stem}.checksum").write_text(line)


def add_directory_image(root: Path, relpath: str, members: dict[str, bytes]) -> Path:
    """A multi-file image: a directory of members and one `.checksum` listing them all."""
    directory = root / relpath
    directory.mkdir(parents=True)
    for name, data in members.items():
        (directory / name).write_bytes(data)
    lines = subprocess.run(
        ["md5sum", *sorted(members)], cwd=directory, check=True, capture_output=True, text=True
    ).stdout
    (directory.parent / f"{directory.name}.checksum").write_text(lines)
    return directory


def config_for(tmp_path: Path, **changes: object) -> Config:
    base = Config(
        repository=tmp_path / "repo", state=tmp_path / "state", output=tmp_path / "site", jobs=2
    )
    return replace(base, **changes)


def verify(
    config: Config, clock: Clock, digester: Digester | None = None
) -> tuple[RunResult, dict[str, str]]:
    """Run `verify` in this process; also return each image's status by id."""
    result = run.verify(config, clock, digester)
    return result, {image.id: image.status for image in result.catalog.images}


def cli(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """The real command line in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


class OpenWatch:
    """Kernel-reported opens and reads of some files (inotify), from any process."""

    def __init__(self, paths: list[Path]) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        self.paths: dict[int, Path] = {}
        for path in paths:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(path), IN_OPEN | IN_ACCESS)
            assert wd >= 0, os.strerror(ctypes.get_errno())
            self.paths[wd] = path

    def touched(self) -> set[Path]:
        """The watched files opened or read since the last call."""
        seen: set[Path] = set()
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return seen
            offset = 0
            while offset < len(data):
                wd, _mask, _cookie, length = EVENT.unpack_from(data, offset)
                seen.add(self.paths[wd])
                offset += EVENT.size + length

    def close(self) -> None:
        os.close(self.fd)
