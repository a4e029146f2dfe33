"""Kernel-reported opens and reads of files (inotify): proof a run did or did not read them."""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

IN_ACCESS = 0x001
IN_OPEN = 0x020
EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)


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
