"""A one-line progress bar for hashing, for people at a terminal only (never in logs)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

from generator.units import human_bytes

WIDTH = 24


class Progress:
    """Bytes read so far, rate and time left, redrawn at most every `interval` seconds.

    `advance` is called from every hashing thread, so the counter is guarded by a lock.
    """

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.2,
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.interval = interval
        self.total = 0
        self.done = 0
        self.started = 0.0
        self.drawn = 0.0
        self.shown = False
        self._lock = threading.Lock()

    def start(self, total_bytes: int) -> None:
        self.total = total_bytes
        self.started = self.clock()
        self.drawn = self.started - self.interval  # draw at the first bytes: show it started

    def advance(self, count: int) -> None:
        with self._lock:
            self.done += count
            now = self.clock()
            if now - self.drawn < self.interval:
                return
            self.drawn = now
            self._draw(line(self.done, self.total, now - self.started))

    def finish(self) -> None:
        """Erase the bar so the problems and the summary line start on a clean line."""
        with self._lock:
            if self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self.shown = False

    def _draw(self, text: str) -> None:
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self.shown = True


def line(done: int, total: int, elapsed: float) -> str:
    """`[#####-------]  40%  1.2 GiB of 3.0 GiB  610.0 MiB/s  0:03 left`."""
    fraction = min(1.0, done / total) if total else 1.0
    filled = int(fraction * WIDTH)
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if rate > 0 else None
    eta = "--:--" if left is None else clock_text(left)
    return (
        f"[{'#' * filled}{'-' * (WIDTH - filled)}] {fraction:4.0%}  {human_bytes(done)} of "
        f"{human_bytes(total)}  {human_bytes(int(rate))}/s  {eta} left"
    )


def clock_text(seconds: float) -> str:
    """`0:07`, `12:34`, `1:02:03`."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
