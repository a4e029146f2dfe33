"""Issue 9: the worst description up to the size cap is read and rendered in at most 2 s.

Each hostile input is written to a file and read with `read_description`, the function a
build calls for every `.txt` (in the main thread, as a build does). For scale, ordinary
descriptions are rendered with and without the Markdown time limit: the limit must cost
nothing measurable.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from generator.catalog.model import CATALOG_FIELDS
from generator.markup import render_markdown
from generator.read.description import MAX_DESCRIPTION_BYTES, read_description

TARGET_S = 2.0
CAP = MAX_DESCRIPTION_BYTES
ALIAS_BOMB = (
    "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(
        f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]\n"
        for a, b in zip("abcdef", "bcdefg", strict=True)
    )
)
ORDINARY = """---
kernel: 2.6.18
maintainer: STAR software group
---
# Scientific Linux 5.3 for EC2

Built from the [STAR](https://www.star.bnl.gov/) base image with **sl05c** libraries.

| part | size |
|---|---|
| OS | 2GB |
| swap | 1GB |

```
md5sum -c sl5.3_x86_32_sl05c_8GB_ec2.checksum
```

* item one
* item two
"""


def hostile_inputs() -> dict[str, str]:
    """The inputs of issue 9 (and upstream Python-Markdown #798), each at most at the cap."""
    return {
        "nested [ to the cap": "[" * (CAP - 1),
        "nested [a]( to the cap": "[a](" * (CAP // 4 - 1),
        "alias bomb (7 levels)": f"---\n{ALIAS_BOMB}---\nbody\n",
        "5,000-deep YAML lists": "---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\nbody\n",
        "16 KiB of [ in YAML, [ body": "---\nx: " + "[" * 16_000 + "\n---\n" + "[" * 200_000,
        "over the cap (1 MiB text)": ("word " * 12 + "\n") * 17_000,
    }


def measure(work: Path, repeats: int) -> tuple[list[str], float]:
    """Lines to print and the slowest median over the hostile inputs."""
    lines, worst = [], 0.0
    path = work / "hostile.txt"
    for label, text in hostile_inputs().items():
        path.write_text(text)
        times, codes = [], set()
        for _ in range(repeats):
            started = time.perf_counter()
            _, problems = read_description(path, "xen/hostile.txt", CATALOG_FIELDS)
            times.append(time.perf_counter() - started)
            codes = {p.code for p in problems}
        median = statistics.median(times)
        worst = max(worst, median)
        shown = ", ".join(sorted(codes)) or "no problem"
        lines.append(f"  {label:<30} median {median:6.3f} s, max {max(times):6.3f} s; {shown}")
    lines.append(f"  slowest median {worst:.3f} s (limit {TARGET_S:.1f} s)")
    lines.append(ordinary_cost())
    return lines, worst


def ordinary_cost(count: int = 500) -> str:
    """Per-description render time of an ordinary description, with and without the limit."""
    _, body = ORDINARY.split("---\n", 2)[1:]
    results = {}
    for limit in (None, 1.0, None, 1.0):
        started = time.perf_counter()
        for _ in range(count):
            render_markdown(body, limit)
        results.setdefault(limit, []).append((time.perf_counter() - started) / count * 1e6)
    plain, limited = min(results[None]), min(results[1.0])
    return (
        f"  ordinary description: {limited:.0f} µs with the time limit, {plain:.0f} µs without "
        f"(best of 2 x {count})"
    )
