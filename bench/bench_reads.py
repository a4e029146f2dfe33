"""Reading on every core (`generator/parallel.py`): `check` of 5,000 STAR-like images, on
every core the process may run on against the same command confined to one core (`taskset
-c 0`: no worker is forked). `check` reads every description and header and hashes nothing,
so the ratio is the read stage's own; `builds_10k` shows what it gives a whole build.

Run: `python -m bench reads_5k` (part of `make bench`). Needs `taskset` (util-linux) and two
free cores: under load from others the ratio tells little, compare the CPU column.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.measure import Series, catalog, interleave
from bench.trees import star_like_repository

COUNT = 5_000
TARGET_RATIO = 0.65  # two cores: half the read stage, plus start-up and the scan


def measure(work: Path, repeats: int) -> tuple[Series, Series]:
    """(every core, one core) series of `check` over the same tree, alternating."""
    repo = work / "reads"
    star_like_repository(repo, COUNT)
    time.sleep(2.1)  # as a real repository: older than its racy window
    check = catalog("check", "--repository", str(repo), "--quiet")
    series = interleave(
        repeats,
        {
            f"check, {COUNT:,} images, every core": lambda _: check,
            "the same under taskset -c 0": lambda _: ["taskset", "-c", "0", *check],
        },
    )
    every, one = series.values()
    return every, one
