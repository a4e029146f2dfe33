"""Run the benchmarks: `python -m bench [NAME ...] [--repeat N]`; data lives in a temp dir."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.cases import BENCHMARKS, OPT_IN, Outcome
from bench.measure import catalog, timed

DESCRIPTIONS = {
    "one_gib": "one 1 GiB file, verify --jobs 1 md5+sha256 vs md5sum, warm cache, start-up in",
    "one_gib_md5": "one 1 GiB file, verify --jobs 1 with digests: [md5] vs md5sum",
    "one_gib_sha512": "one 1 GiB file, verify --jobs 1 md5+sha256+sha512 vs md5sum",
    "two_gib": "two 1 GiB files, verify --jobs 2 md5+sha256 vs md5sum a b (sequential)",
    "noop_10k": "10,000 images, nothing changed: verify wall time",
    "noop_100k": "100,000 images, nothing changed: verify vs find -printf '%s %T@'",
    "one_change_10k": "10,000 images, one touched per run: the full pipeline (no target)",
    "publish_10k": "10,000-image site, one page changed: publish vs writing every file",
    "site_10k": "10,000-image index in Chromium: time to usable, keystroke re-filter",
    "site_100k": "100,000-image index in Chromium, the same targets (66-111 s measured)",
    "hostile_descriptions": "worst descriptions (nested brackets, alias bomb, deep YAML): <= 2 s",
    "page_cache": "1 GiB file, verify with pages dropped vs --keep-cache: speed, fincore after",
    "builds_10k": "10,000 STAR-like images: build full, unchanged, one edited, one added",
    "builds_100k": "100,000 STAR-like images, the same (opt-in, about 10 minutes): time, peak RSS",
    "render_pages": "10,000 image pages rendered in-process (render.image_files): ms per page",
    "reads_5k": "check of 5,000 STAR-like images on every core vs under taskset -c 0",
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of star-vm-catalog; each ratio is measured against its "
        "reference in the same run, alternating, and summarized by medians.",
        epilog="benchmarks:\n" + "\n".join(f"  {k:<10} {v}" for k, v in DESCRIPTIONS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (default: 5)")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}; see --help")
    return args


def cache_bytecode(work: Path) -> None:
    """Time the catalog as an installed wheel runs: from compiled bytecode.

    `pip install` compiles the package, so a cron run never compiles it; a checkout run with
    PYTHONDONTWRITEBYTECODE set would compile every module of `generator` on every start
    (about 0.1 s of CPU). The children keep bytecode under the work directory (the checkout
    stays untouched), written by one untimed warm-up build of the demo that imports nearly
    every module, YAML and every digest included.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(work / "bytecode")
    warm = work / "warm-up"
    warm.mkdir()
    (warm / "config.yaml").write_text("digests: [md5, sha256, sha512]\nquiet: true\n")
    options = ("--state", str(warm / "state"), "--config", str(warm / "config.yaml"))
    timed(catalog("build", "--output", str(warm / "site"), *options))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="star-vm-bench-") as tmp:
        work = Path(tmp)
        os.environ["XDG_STATE_HOME"] = str(work / "xdg-state")
        os.environ["XDG_CACHE_HOME"] = str(work / "xdg-cache")
        cache_bytecode(work)
        print(
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, {args.repeat} runs each"
            ", bytecode cached"
        )
        for name in args.names or [n for n in BENCHMARKS if n not in OPT_IN]:
            started = time.monotonic()
            print(f"\n{name}: {DESCRIPTIONS[name]}", flush=True)
            outcome = BENCHMARKS[name](work, args.repeat)
            print("\n".join(outcome.lines))
            print(f"  ({time.monotonic() - started:.0f} s including data set-up)", flush=True)
            outcomes.append(outcome)
    print("\nsummary:")
    for o in outcomes:
        verdict = "met" if o.met else "MISSED"
        target = f"target <= {o.target:<5} {verdict}" if o.target is not None else "(for scale)"
        print(f"  {o.name:<14} {o.figure:7.3f} {o.unit:<9} {target}")
    return 0 if all(o.met for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
