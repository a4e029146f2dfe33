"""Publishing a 10,000-image site: one changed image against writing every file again.

Target (issue 6): a one-image change publishes in under 1 s. The reference, measured in the same
run, is writing the whole site into a new directory (what a build without reuse would cost).
Also reported for scale: the whole `build` command, end to end, for a no-op and a one-image change.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from bench.bench_site import synthetic_catalog
from bench.measure import Series, catalog, timed
from bench.trees import synthetic_repository
from generator.publish.copies import publish
from generator.resources import content_dir
from generator.site.content import load_content
from generator.site.render import render_site, write_files

TARGET_S = 1.0


def one_change(files: dict[str, bytes], n: int) -> dict[str, bytes]:
    """The same site with one image page edited (as a new description would)."""
    page = sorted(p for p in files if p.startswith("images/"))[n]
    return {**files, page: files[page] + f"<!-- change {n} -->".encode()}


def publish_times(work: Path, repeats: int) -> tuple[list[float], list[float], int]:
    files = render_site(synthetic_catalog(10_000), load_content(content_dir()), "Benchmark")
    output = work / "publish-site"
    publish(files, output)
    ours, full = [], []
    for n in range(repeats):
        os.sync()  # start each measurement with no dirty pages left by the one before
        started = time.perf_counter()
        publish(one_change(files, n), output)
        ours.append(time.perf_counter() - started)
        os.sync()
        started = time.perf_counter()
        write_files(files, work / f"publish-full-{n}")
        os.sync()  # the reference pays for durability too, as publish does with syncfs
        full.append(time.perf_counter() - started)
    return ours, full, len(files)


def cli_times(work: Path, repeats: int) -> tuple[Series, Series]:
    """`build` end to end on 10,000 tiny images: nothing changed, then one description edited."""
    repo = work / "publish-repo"
    synthetic_repository(repo, 10_000)
    command = catalog("build", "--repository", str(repo), "--state", str(work / "publish-state"),
                      "--output", str(work / "publish-cli-site"), "--quiet")  # fmt: skip
    for _ in range(3):  # settle the racy entries of freshly written files
        timed(command)
    noop, change = Series("build, nothing changed"), Series("build, one description edited")
    stems = sorted(p.name.removesuffix(".img") for p in (repo / "xen").glob("*.img"))
    for n in range(repeats):
        noop.samples.append(timed(command))
        (repo / "xen" / f"{stems[n]}.txt").write_text(f"edited {n}\n")
        change.samples.append(timed(command))
    return noop, change


def measure(work: Path, repeats: int) -> tuple[list[str], float]:
    ours, full, count = publish_times(work, repeats)
    median, reference = statistics.median(ours), statistics.median(full)
    lines = [
        f"  publish one changed page of {count} files: median {median:.3f} s, best {min(ours):.3f} s",
        f"  write all {count} files into a new directory: median {reference:.3f} s",
        f"  ratio {median / reference:.3f} (target: under {TARGET_S:.0f} s)",
    ]
    noop, change = cli_times(work, repeats)
    lines += [f"  {s.label:<32} wall median {s.median:6.3f} s" for s in (noop, change)]
    return lines, median
