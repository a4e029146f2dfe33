"""Wall time and peak memory of child processes, repeated and summarized by the median."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Sample:
    """One child run: wall and CPU seconds (start-up included), peak RSS in KiB, its stderr."""

    seconds: float
    cpu: float
    peak_kib: int
    stderr: str


@dataclass
class Series:
    """Repeated runs of one command."""

    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def best(self) -> float:
        """The least disturbed run: other people's work on the cores only ever adds time."""
        return min(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        """Median CPU time (user + system): the work done, whatever else ran meanwhile."""
        return statistics.median(s.cpu for s in self.samples)

    @property
    def peak_mib(self) -> float:
        return max(s.peak_kib for s in self.samples) / 1024

    def spread(self) -> str:
        times = sorted(s.seconds for s in self.samples)
        return f"{times[0]:.3f}-{times[-1]:.3f}"


GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def timed(command: Sequence[str], cwd: Path | None = None) -> Sample:
    """Run `command` to completion and time it, start-up included.

    Peak RSS comes from GNU time when installed: a child started straight from this process
    inherits this process's peak in `ru_maxrss` (the kernel keeps the larger of the two at
    exec), so `wait4` alone would report at least the benchmark runner's own size.
    """
    prefix = [GNU_TIME, "-f", "%M"] if GNU_TIME else []
    started = time.perf_counter()
    child = subprocess.Popen(
        [*prefix, *command], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed ({code}): {stderr}")
    peak = usage.ru_maxrss
    if GNU_TIME:
        stderr, _, last = stderr.rstrip("\n").rpartition("\n")
        peak = int(last)
    return Sample(seconds, usage.ru_utime + usage.ru_stime, peak, stderr)


def interleave(
    repeats: int, commands: dict[str, Callable[[int], Sequence[str]]]
) -> dict[str, Series]:
    """Run each command once per round, alternating, so load from others hits all alike."""
    series = {label: Series(label) for label in commands}
    for round_ in range(repeats):
        for label, make in commands.items():
            series[label].samples.append(timed(make(round_)))
    return series


def catalog(*args: str) -> list[str]:
    """The catalog CLI as cron would start it: a fresh interpreter every time."""
    return [sys.executable, "-m", "generator", *args]


def summary_field(stderr: str, words: str) -> int:
    """A number from the run's summary line, e.g. 'files hashed' -> 0."""
    last = stderr.strip().splitlines()[-1]
    for part in last.replace("(", ",").split(","):
        if part.strip().endswith(words):
            return int(part.split()[0])
    raise ValueError(f"no '{words}' in summary line: {last}")
