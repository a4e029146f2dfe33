"""Hashing a 1 GiB file with and without dropping its pages from the page cache (issue 13).

Measured per run, alternating: `verify --jobs 1` with a fresh state (so the file is read), by
default (pages dropped behind the reader) and with `--keep-cache`; each from a cold cache (the
file evicted first: a first run over NFS) and from a warm one (the file read just before: what
the hashing benchmarks measure). After each run, util-linux `fincore` tells how much of the file
is still cached. Target: dropping costs at most 5 % of the warm hashing time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
from pathlib import Path

from bench.measure import Series, catalog, timed
from bench.trees import big_image_repository

GIB = 1 << 30
TARGET_RATIO = 1.05


def cached_bytes(path: Path) -> int:
    done = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def prepare_cache(path: Path, warm: bool) -> None:
    """Evict the file (clean pages only, hence the fsync), then read it again if `warm`."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        if warm:
            while handle.read(1 << 20):
                pass


def measure(work: Path, repeats: int) -> tuple[list[str], float]:
    """Returns the result lines and the warm ratio (dropping / keeping)."""
    repo = work / "cache-1gib"
    (image,) = big_image_repository(repo, 1, GIB)
    modes = {(cache, warm): Series(f"{cache}, {'warm' if warm else 'cold'} start")
             for warm in (True, False) for cache in ("drop", "keep")}  # fmt: skip
    left: dict[tuple[str, bool], list[int]] = {mode: [] for mode in modes}
    for round_ in range(repeats):
        for (cache, warm), series in modes.items():
            prepare_cache(image, warm)
            state = work / f"cache-state-{cache}-{warm}-{round_}"
            flags = ["--keep-cache"] if cache == "keep" else []
            command = catalog("verify", "--repository", str(repo), "--state", str(state),
                              "--jobs", "1", *flags)  # fmt: skip
            series.samples.append(timed(command))
            left[cache, warm].append(cached_bytes(image))
    lines = []
    for mode, series in modes.items():
        mib = statistics.median(left[mode]) / (1 << 20)
        rate = GIB / series.median / (1 << 20)
        lines.append(
            f"  {series.label:<18} wall median {series.median:6.3f} s (best {series.best:.3f} s, "
            f"{rate:5.0f} MiB/s); CPU {series.cpu:.3f} s; left in the page cache {mib:6.1f} MiB"
        )
    ratio = modes["drop", True].median / modes["keep", True].median
    cold = modes["drop", False].median / modes["keep", False].median
    cpu = modes["drop", True].cpu / modes["keep", True].cpu
    lines.append(
        f"  dropping / keeping: warm {ratio:.3f} of wall medians (target <= {TARGET_RATIO}), "
        f"{cpu:.3f} of CPU; cold {cold:.3f} of wall medians"
    )
    return lines, ratio
