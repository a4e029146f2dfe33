"""`build` end to end on STAR-like trees (issue 17): full, unchanged, one edit, one addition.

Every image has a `.txt` description and a `.checksum`, as STAR's do. Each case runs the CLI as
cron would (a fresh interpreter, publishing included) and is compared with the full build of the
same run: a one-image change must cost about one image, not the whole catalog.

The full build is also set against MkDocs 1.6 building as many plain pages (the same
descriptions, one page each) in the same run: the issue's yardstick, measured here rather than
quoted, since this machine's speed changes from hour to hour. And against `cp -r` of the site it
wrote: a floor no build of that site goes below, since making its files and folders is part of
every full build.

Nothing is deleted between the timed runs of a series (each full build, MkDocs build and copy
writes into new folders; they are deleted afterwards): on this machine's disk, creating files
right after 30,000 were deleted took up to four times as long (the same 20,000 files written in
1.1 s, then in 4.3 s right after deleting them), so each run's figure depended on the one
before it.

Run: `python -m bench builds_10k` (part of `make bench`), `python -m bench builds_100k` (opt-in:
about 10 minutes of data set-up and full builds).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Sample, Series, catalog, timed
from bench.trees import VMS, add_image, description_text, star_like_repository
from generator.read.stored_reads import RACY_SECONDS

# (ratio of the full build, seconds) at 10,000 images; the full build itself: seconds only.
TARGETS_10K = {"full": (None, 5.0), "unchanged": (0.1, 1.0), "edited": (0.15, 1.5),
               "added": (0.2, 2.0)}  # fmt: skip
MKDOCS_RATIO = 0.1  # the full build against MkDocs on as many pages: "10x ahead of it"


@dataclass
class Cases:
    """The four series of one tree size."""

    full: Series
    unchanged: Series
    edited: Series
    added: Series
    mkdocs: Series | None = None  # the yardstick of the full build (10,000 images)
    copy: Series | None = None  # `cp -r` of the site the full build wrote: its file floor

    def all(self) -> dict[str, Series]:
        return {"full": self.full, "unchanged": self.unchanged, "edited": self.edited,
                "added": self.added}  # fmt: skip


def command(repo: Path, state: Path, output: Path) -> list[str]:
    return catalog("build", "--repository", str(repo), "--state", str(state),
                   "--output", str(output), "--quiet")  # fmt: skip


def measure_builds(work: Path, count: int, repeats: int, full_runs: int) -> Cases:
    """Full builds on fresh state and output, then changes against one settled site."""
    repo = work / f"builds-{count}"
    if not repo.exists():
        star_like_repository(repo, count)
        # A real repository's files are older than this: reads of files written within
        # RACY_SECONDS are not kept, which would make every build after the first read all.
        time.sleep(RACY_SECONDS + 1)
    full = Series(f"full build ({count:,} images)")
    for n in range(full_runs):  # each into new folders: nothing is deleted between timed runs
        state, output = work / f"builds-state-{count}-{n}", work / f"builds-site-{count}-{n}"
        full.samples.append(timed(command(repo, state, output)))
    copy = site_copies(work / f"builds-site-{count}-0", full_runs)
    mkdocs = None  # the yardstick of the full build, at 10,000 images
    if count == 10_000:
        mkdocs = Series(f"MkDocs 1.6, {count:,} plain pages")
        mkdocs.samples += [mkdocs_build(work, count) for _ in range(full_runs)]
    settled = command(repo, work / f"builds-state-{count}-0", work / f"builds-site-{count}-0")
    # Both copies of the site written (a build that finds nothing new writes none, so one
    # change is needed for the second copy), then up to date and every read kept.
    edit_description(repo, 4 * repeats, "settling")
    settle()
    for _ in range(2):
        timed(settled)
    cases = Cases(full, Series("unchanged"), Series("one description edited"),
                  Series("one image added"), mkdocs, copy)  # fmt: skip
    for n in range(repeats):
        cases.unchanged.samples.append(timed(settled))
        edit_description(repo, 4 * n, f"round {n}")
        settle()
        cases.edited.samples.append(timed(settled))
        add_image(repo, count + n)
        settle()
        cases.added.samples.append(timed(settled))
        settle()  # so the added image's build may be answered again unchanged
    for n in range(1, full_runs):  # the other full builds' sites and states, now
        output = work / f"builds-site-{count}-{n}"
        shutil.rmtree(work / f"builds-state-{count}-{n}")
        shutil.rmtree(output.parent / f".{output.name}.builds")
        output.unlink()
    return cases


def site_copies(output: Path, runs: int) -> Series:
    """`cp -r` of the copy of the site `output` links to, into a new folder, `runs` times."""
    series = Series("cp -r of the site written")
    site = output.resolve()
    targets = [output.parent / f"site-copy-{n}" for n in range(runs)]
    for target in targets:
        series.samples.append(timed(["cp", "-r", str(site), str(target)]))
    for target in targets:
        shutil.rmtree(target)
    return series


def mkdocs_build(work: Path, count: int) -> Sample:
    """MkDocs 1.6 building `count` pages of the tree's descriptions (one folder per hypervisor,
    its own theme), fresh output each time. The navigation lists the index only: a navigation
    of every page would put 10,000 links into each page and make MkDocs many times slower, an
    easier yardstick than plain pages are."""
    project = work / f"mkdocs-{count}"
    if not project.exists():
        docs = project / "docs"
        for vm in VMS:
            (docs / vm).mkdir(parents=True)
        (docs / "index.md").write_text("# STAR VM images\n")
        for n in range(count):
            (docs / VMS[n % len(VMS)] / f"n{n:06d}.md").write_text(description_text(n))
        (project / "mkdocs.yml").write_text("site_name: STAR VM images\nnav:\n  - index.md\n")
    site = project / f"site-{len(list(project.glob('site-*')))}"  # a new folder each run
    os.environ["DISABLE_MKDOCS_2_WARNING"] = "true"  # its notice of MkDocs 2.0 on every run
    config = str(project / "mkdocs.yml")
    return timed([sys.executable, "-m", "mkdocs", "build", "-q", "-f", config, "-d", str(site)])


def settle() -> None:
    """Let a change age past RACY_SECONDS, as it has when cron comes by: a build of a tree
    changed within that tick is not remembered, so the next one would read it all again."""
    time.sleep(RACY_SECONDS + 0.5)


def edit_description(repo: Path, n: int, when: str) -> None:
    """Append a line to image `n`'s description (a `xen/` image: `n` is a multiple of 4)."""
    edited = next((repo / "xen").glob(f"*_n{n:06d}.txt"))
    edited.write_text(description_text(n) + f"\nEdited in {when}.\n")


def report(cases: Cases) -> list[str]:
    full = cases.full.median
    lines = []
    for name, series in cases.all().items():
        ratio = "" if name == "full" else f", {series.median / full:.3f} of the full build"
        lines.append(
            f"  {series.label:<28} wall median {series.median:7.3f} s{ratio}; best "
            f"{series.best:7.3f} s; CPU {series.cpu:7.3f} s; peak RSS {series.peak_mib:7.1f} MiB"
        )
    if cases.copy is not None:
        copy = cases.copy
        lines.append(
            f"  {copy.label:<28} wall median {copy.median:7.3f} s; the full build takes "
            f"{full / copy.median:.1f} times it; CPU {copy.cpu:7.3f} s"
        )
    if cases.mkdocs is not None:
        mkdocs = cases.mkdocs
        lines.append(
            f"  {mkdocs.label:<28} wall median {mkdocs.median:7.3f} s; the full build takes "
            f"{full / mkdocs.median:.3f} of it (target {MKDOCS_RATIO}); CPU {mkdocs.cpu:7.3f} s"
        )
    return lines


def verdicts(cases: Cases) -> dict[str, tuple[float, float]]:
    """Per case: (figure, target) where figure <= target means met (both ratio and seconds)."""
    out = {}
    full = cases.full.median
    for name, series in cases.all().items():
        ratio, seconds = TARGETS_10K[name]
        worst = series.median / seconds
        if ratio is not None:
            worst = max(worst, series.median / full / ratio)
        elif cases.mkdocs is not None:  # the full build: also against MkDocs
            worst = max(worst, full / cases.mkdocs.median / MKDOCS_RATIO)
        out[name] = (worst, 1.0)
    return out
