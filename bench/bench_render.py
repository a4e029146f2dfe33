"""Rendering image pages (issue 17): milliseconds per page for `render.image_files`, the loop
that makes every image's `index.html` and `image.json`, over a synthetic 10,000-image catalog.

In this process, without the build around it, so the figure is the rendering alone. Each run
gets a fresh Jinja environment (templates compiled, shared parts rendered, as a build's first
page pays). Target: a third of the 1.0-1.2 ms of CPU per page measured before the shared parts
and macros (2026-12-02, the same benchmark at commit b32d39d).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.bench_site import synthetic_catalog
from generator.resources import content_dir
from generator.site.catalog_file import image_records
from generator.site.content import load_content
from generator.site.record_lines import RecordLines
from generator.site.render import environment, image_files
from generator.site.views import make_nav

PAGES = 10_000
TARGET_MS = 0.4
BASE_URL = "https://www.star.bnl.gov/vm/"


def render_times(repeats: int, count: int = PAGES) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds of each run of `image_files`, and the number of pages made."""
    catalog = synthetic_catalog(count)
    nav = make_nav(3, "Benchmark", load_content(content_dir()), "", "")
    records = RecordLines(catalog.images, made=image_records(catalog))
    walls, cpus, pages = [], [], 0
    for _ in range(repeats):
        env = environment()
        wall, cpu = time.perf_counter(), time.process_time()
        files = image_files(env, catalog, nav, BASE_URL, records=records)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        pages = sum(path.endswith("index.html") for path in files)
    return walls, cpus, pages


def render_pages(work: Path, repeats: int) -> tuple[float, list[str]]:
    """The median wall milliseconds per page, and the lines that report it."""
    walls, cpus, pages = render_times(repeats)
    assert pages == PAGES, f"{pages} image pages rendered, {PAGES} expected"
    per_page = [1000 * seconds / pages for seconds in walls]
    median = statistics.median(per_page)
    cpu = 1000 * statistics.median(cpus) / pages
    lines = [
        f"  image_files, {pages:,} pages: wall median {median:.3f} ms/page, best "
        f"{min(per_page):.3f}; CPU {cpu:.3f} ms/page; {statistics.median(walls):.2f} s a run",
        f"  target <= {TARGET_MS} ms/page (a third of 1.0-1.2 ms before)",
    ]
    return median, lines
