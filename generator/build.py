"""The table of contents of a run: scan, parse, verify, catalog, render, publish."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.catalog import CATALOG_FIELDS, Catalog, iso_time, make_catalog, make_image
from generator.config import Config
from generator.errors import ConfigError, RepositoryError
from generator.hashing import FileDigest
from generator.incremental import CachedDigester, RehashPolicy
from generator.lock import hold_lock
from generator.names import KnownValues
from generator.parse import ParsedImage, parse_all
from generator.problems import Problem
from generator.progress import Progress
from generator.scan import scan
from generator.state import open_state
from generator.verify import Digester, digest_all, evaluate


@dataclass
class RunStats:
    """Figures for the summary line."""

    files_hashed: int = 0
    bytes_read: int = 0
    digests_reused: int = 0
    rehash_bytes: int = 0

    def add(self, result: FileDigest) -> None:
        if result.reused:
            self.digests_reused += 1
        elif result.md5 or (result.changing and not result.vanished):
            self.files_hashed += 1
            self.bytes_read += result.bytes_read


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
    if config.repository is None:
        from generator.demo import demo_repository  # only without --repository

        root = demo_repository()
    else:
        root = config.repository
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
    progress: Progress | None = None,
) -> RunResult:
    """Run `check`, `verify` or `build` under the state lock (and the output lock for build)."""
    clock = clock or source_clock()
    repository = repository_of(config)
    state_dir = config.state_dir(repository)
    if command == "build":
        refuse_state_in_site(state_dir, config.output)
    with hold_lock(state_dir / "lock", "state directory"):
        hashing = Hashing(state_dir, clock, digester, progress) if config.verify else None
        catalog, stats = make(config, repository, command, clock, hashing)
        if command != "build":
            return RunResult(catalog, stats, repository)
        publish_site(catalog, config)
    return RunResult(catalog, stats, repository, config.output)


@dataclass(frozen=True)
class Hashing:
    """How this run gets digests: from the state in `state_dir`, unless a digester is given."""

    state_dir: Path
    clock: Callable[[], float]
    digester: Digester | None = None
    progress: Progress | None = None


def make(
    config: Config,
    repository: Path,
    command: str,
    clock: Callable[[], float],
    hashing: Hashing | None,
) -> tuple[Catalog, RunStats]:
    """Scan, parse and verify into a catalog (no files written).

    `check` never hashes; `verify` skips descriptions (they matter to the site, not to bytes).
    """
    scanned = scan(repository, config.ignore)
    parsed = parse_all(
        scanned, known_values(config), CATALOG_FIELDS, descriptions=command != "verify"
    )
    stats = RunStats()
    digests, problems = None, list(scanned.problems)
    if command != "check" and hashing is not None:
        digests, state_problems = verify_images(config, parsed, scanned.root, hashing, stats)
        problems += state_problems
    images = [make_image(p, evaluate(p.entry, p.checksum, digests)) for p in parsed]
    return make_catalog(str(repository), iso_time(clock()) or "", images, problems), stats


def verify_images(
    config: Config, parsed: list[ParsedImage], root: Path, hashing: Hashing, stats: RunStats
) -> tuple[dict[str, FileDigest], list[Problem]]:
    """Reuse what the state can vouch for, scrub by the rehash policy, read the rest."""
    if hashing.digester is not None:
        return hash_all(parsed, root, hashing.digester, config.jobs, stats, hashing.progress), []
    state = open_state(hashing.state_dir, hashing.clock)
    try:
        on_bytes = hashing.progress.advance if hashing.progress else None
        digester = CachedDigester(state, hashing.clock, on_bytes)
        policy = RehashPolicy(config.rehash_older_than, config.rehash_budget)
        stats.rehash_bytes = digester.plan_rehash((p.entry.members for p in parsed), policy)
        digests = hash_all(parsed, root, digester, config.jobs, stats, hashing.progress)
        state.see_images([p.entry.id for p in parsed], hashing.clock())
    finally:
        state.close()
    return digests, state.problems


def hash_all(
    parsed: list[ParsedImage],
    root: Path,
    digester: Digester,
    jobs: int,
    stats: RunStats,
    progress: Progress | None = None,
) -> dict[str, FileDigest]:
    members = [m for p in parsed for m in p.entry.members]
    try:
        on_start = progress.start if progress else None
        return digest_all(root, members, digester, jobs, on_done=stats.add, on_start=on_start)
    finally:
        if progress:
            progress.finish()


def publish_site(catalog: Catalog, config: Config) -> None:
    """Render and swap in the site; imported here so `check` and `verify` start fast."""
    from generator.pages import load_content
    from generator.publish import output_lock_path, publish
    from generator.render import render_site
    from generator.resources import content_dir

    files = render_site(catalog, load_content(content_dir()), config.title)
    with hold_lock(output_lock_path(config.output), "output directory"):
        publish(files, config.output)


def refuse_state_in_site(state_dir: Path, output: Path) -> None:
    """The state must never be published (or wiped when the site is swapped in)."""
    state, site = state_dir.resolve(), output.resolve()
    if state == site or site in state.parents:
        raise ConfigError(
            f"'{state_dir}': the state directory is inside the output '{output}'; "
            "give --state a directory outside the published site"
        )
