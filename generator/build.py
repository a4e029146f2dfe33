"""The table of contents of a run: scan, parse, verify, catalog, render, publish."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.catalog import CATALOG_FIELDS, Catalog, iso_time, make_catalog, make_image
from generator.config import Config
from generator.demo import demo_repository
from generator.errors import RepositoryError
from generator.hashing import FileDigest
from generator.lock import hold_lock
from generator.names import KnownValues
from generator.pages import load_content
from generator.parse import ParsedImage, parse_all
from generator.publish import output_lock_path, publish
from generator.render import render_site
from generator.resources import content_dir
from generator.scan import scan
from generator.verify import Digester, PlainDigester, digest_all, evaluate


@dataclass
class RunStats:
    """Figures for the summary line."""

    files_hashed: int = 0
    bytes_read: int = 0
    digests_reused: int = 0


@dataclass
class RunResult:
    catalog: Catalog
    stats: RunStats
    repository: Path
    output: Path | None = None


def source_clock() -> Callable[[], float]:
    """The run's clock: SOURCE_DATE_EPOCH when set (reproducible builds), else the real time."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH")
    if fixed and fixed.isdigit():
        return lambda: float(fixed)
    return time.time


def repository_of(config: Config) -> Path:
    """The configured repository, or the bundled demo when none is given."""
    root = config.repository if config.repository is not None else demo_repository()
    if not root.is_dir():
        raise RepositoryError(
            f"'{root}': repository is not a directory; check --repository or the mount"
        )
    return root


def known_values(config: Config) -> KnownValues:
    return KnownValues(
        config.known_vms, config.known_os, config.known_arch, config.known_word_sizes
    )


def run(
    config: Config,
    command: str,
    clock: Callable[[], float] | None = None,
    digester: Digester | None = None,
) -> RunResult:
    """Run `check`, `verify` or `build` under the state lock (and the output lock for build)."""
    clock = clock or source_clock()
    repository = repository_of(config)
    with hold_lock(config.state_dir(repository) / "lock", "state directory"):
        catalog, stats = make(config, repository, command != "check", clock, digester)
        if command != "build":
            return RunResult(catalog, stats, repository)
        files = render_site(catalog, load_content(content_dir()), config.title, config.base_url)
        with hold_lock(output_lock_path(config.output), "output directory"):
            publish(files, config.output)
    return RunResult(catalog, stats, repository, config.output)


def make(
    config: Config,
    repository: Path,
    hash_images: bool,
    clock: Callable[[], float],
    digester: Digester | None,
) -> tuple[Catalog, RunStats]:
    """Scan, parse and verify into a catalog (no files written)."""
    scanned = scan(repository, config.ignore)
    parsed = parse_all(scanned, known_values(config), CATALOG_FIELDS)
    stats = RunStats()
    digests = None
    if hash_images and config.verify:
        digests = hash_all(
            parsed, scanned.root, digester or PlainDigester(clock), config.jobs, stats
        )
    images = [make_image(p, evaluate(p.entry, p.checksum, digests)) for p in parsed]
    return make_catalog(str(repository), iso_time(clock()) or "", images, scanned.problems), stats


def hash_all(
    parsed: list[ParsedImage], root: Path, digester: Digester, jobs: int, stats: RunStats
) -> dict[str, FileDigest]:
    def count(result: FileDigest) -> None:
        if result.reused:
            stats.digests_reused += 1
        elif result.md5 or result.changing:
            stats.files_hashed += 1
            stats.bytes_read += result.bytes_read

    members = [m for p in parsed for m in p.entry.members]
    return digest_all(root, members, digester, jobs, on_done=count)
