"""The table of contents of a run: scan, parse, verify, catalog, render, publish."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator import failpoints
from generator.catalog.model import CATALOG_FIELDS, Catalog, iso_time, make_catalog, make_image
from generator.config import Config
from generator.errors import ConfigError, RepositoryError
from generator.problems import Problem
from generator.publish.lock import hold_lock
from generator.read.format_tables import FormatRules
from generator.read.names import KnownValues
from generator.read.parse import ParsedImage, ParseRules, parse_all
from generator.read.scan import scan
from generator.state.database import State, open_state
from generator.verify.cached import CachedDigester, RehashPolicy
from generator.verify.hashing import FileDigest
from generator.verify.progress import Progress
from generator.verify.report import (
    Summary,
    load_report,
    report_key,
    save_report,
    scrub_due,
    tree_signature,
)
from generator.verify.verdict import Digester, digest_all, evaluate

if TYPE_CHECKING:  # imported for real only by `build`, so `check` and `verify` start fast
    from generator.publish.copies import Published
    from generator.publish.deploy import PublishedCatalog


@dataclass
class RunStats:
    """Figures for the summary line."""

    files_hashed: int = 0
    bytes_read: int = 0
    digests_reused: int = 0
    rehash_bytes: int = 0

    def add(self, result: FileDigest) -> None:
        failpoints.reach("hashing")  # after the first digest is recorded: a crash mid-run
        if result.reused:
            self.digests_reused += 1
        elif result.md5 or (result.changing and not result.vanished):
            self.files_hashed += 1
            self.bytes_read += result.bytes_read


@dataclass
class RunResult:
    """What a run made: the catalog (None when `verify` reused its last report) and figures."""

    catalog: Catalog | None
    stats: RunStats
    repository: Path
    summary: Summary
    output: Path | None = None
    published: Published | None = None
    previous: PublishedCatalog | None = None

    def new_errors(self) -> list[Problem]:
        """Error problems the published site did not already show: what cron mail is for."""
        known = self.previous.problems if self.previous else frozenset()
        return [
            p
            for p in self.summary.problems
            if p.severity == "error" and (p.path, p.code) not in known
        ]


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


def parse_rules(config: Config, command: str) -> ParseRules:
    """What the parse stage checks against; `verify` reads neither headers nor descriptions."""
    formats = FormatRules(config.vm_formats, config.extension_formats)
    full = command != "verify"
    return ParseRules(
        known_values(config), CATALOG_FIELDS, formats, headers=full, descriptions=full
    )


def run(
    config: Config,
    command: str,
    clock: Callable[[], float] | None = None,
    digester: Digester | None = None,
    progress: Progress | None = None,
    reports: bool = False,
    publish: bool = True,
) -> RunResult:
    """Run `check`, `verify` or `build` under the state lock (and the output lock for build).

    `reports=True` (the CLI) lets `verify` answer from its last report when the tree has not
    changed (`generator.verify.report`); library callers get a full catalog unless they ask.
    `publish=False` makes `build` stop at the catalog (for callers that render it themselves).
    """
    clock = clock or source_clock()
    repository = repository_of(config)
    state_dir = config.state_dir(repository)
    if command == "build":
        refuse_state_in_site(state_dir, config.output)
    with ExitStack() as stack:
        stack.enter_context(hold_lock(state_dir / "lock", "state directory"))
        if command == "build":
            from generator.publish.copies import output_lock_path

            stack.enter_context(hold_lock(output_lock_path(config.output), "output directory"))
        hashes = command != "check" and config.verify
        state = open_state(state_dir, clock) if hashes or command == "build" else None
        if state is not None:
            stack.callback(state.close)
        if not hashes:
            result = stages(config, repository, command, clock, None)
        else:
            assert state is not None
            hashing = Hashing(state, clock, digester, progress)
            quick = reports and command == "verify" and digester is None
            verify_run = verify_tree if quick else stages
            result = verify_run(config, repository, command, clock, hashing)
        if command == "build" and publish:
            assert state is not None
            publish_site(result, config, state, clock())
    return result


@dataclass(frozen=True)
class Hashing:
    """How this run gets digests: from the state, unless a digester is given."""

    state: State
    clock: Callable[[], float]
    digester: Digester | None = None
    progress: Progress | None = None


def stages(
    config: Config,
    repository: Path,
    command: str,
    clock: Callable[[], float],
    hashing: Hashing | None,
) -> RunResult:
    """Scan, parse and verify into a catalog (no files written).

    `check` never hashes; `verify` skips descriptions (they matter to the site, not to bytes).
    """
    scanned = scan(repository, config.ignore)
    parsed = parse_all(scanned, parse_rules(config, command))
    stats = RunStats()
    digests, problems = None, list(scanned.problems)
    if command != "check" and hashing is not None:
        digests = verify_images(config, parsed, scanned.root, hashing, stats)
        problems += hashing.state.problems
    images = [make_image(p, evaluate(p.entry, p.checksum, digests)) for p in parsed]
    catalog = make_catalog(str(repository), iso_time(clock()) or "", images, problems)
    return RunResult(catalog, stats, repository, summarize(catalog, stats))


def summarize(catalog: Catalog, stats: RunStats) -> Summary:
    files = stats.files_hashed + stats.digests_reused
    return Summary(len(catalog.images), files, len(catalog.integrity_failures()), catalog.problems)


def verify_tree(
    config: Config,
    repository: Path,
    command: str,
    clock: Callable[[], float],
    hashing: Hashing,
) -> RunResult:
    """`verify`: the last report if the tree is as it was then, else a full run, then kept."""
    signature = tree_signature(repository, config.ignore, clock)
    key = report_key(signature, verdict_settings(config)) if signature else None
    now, state = clock(), hashing.state
    if key and not scrub_due(state, rehash_policy(config), now):
        summary = load_report(state, key)
        if summary is not None:
            state.touch_images(now)
            return RunResult(None, RunStats(digests_reused=summary.files), repository, summary)
    result = stages(config, repository, command, clock, hashing)
    if key and signature and signature.settled and lasting(result, state):
        save_report(state, key, result.summary, now)
    return result


def verdict_settings(config: Config) -> tuple:
    """Every setting a `verify` report depends on (with the tree and the program)."""
    return (str(config.repository), known_values(config), config.ignore, "no descriptions")


def lasting(result: RunResult, state: State) -> bool:
    """A report worth keeping: nothing changing or unreadable, no trouble with the state."""
    assert result.catalog is not None
    passing = {"changing", "unreadable"}
    return not state.problems and not any(i.status in passing for i in result.catalog.images)


def rehash_policy(config: Config) -> RehashPolicy:
    return RehashPolicy(config.rehash_older_than, config.rehash_budget)


def verify_images(
    config: Config, parsed: list[ParsedImage], root: Path, hashing: Hashing, stats: RunStats
) -> dict[str, FileDigest]:
    """Reuse what the state can vouch for, scrub by the rehash policy, read the rest."""
    if hashing.digester is not None:
        return hash_all(parsed, root, hashing.digester, config.jobs, stats, hashing.progress)
    on_bytes = hashing.progress.advance if hashing.progress else None
    digester = CachedDigester(hashing.state, hashing.clock, on_bytes)
    members = (p.entry.members for p in parsed)
    stats.rehash_bytes = digester.plan_rehash(members, rehash_policy(config))
    digests = hash_all(parsed, root, digester, config.jobs, stats, hashing.progress)
    hashing.state.see_images([p.entry.id for p in parsed], hashing.clock())
    return digests


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


def publish_site(result: RunResult, config: Config, state: State, now: float) -> None:
    """Guard against a vanished repository, record history, then render and swap in the site."""
    from generator.catalog.history import update_history, with_history
    from generator.publish.deploy import (
        SiteTarget,
        check_not_vanished,
        deploy,
        published_catalog,
    )

    assert result.catalog is not None
    result.previous = published_catalog(config.output)
    published_ids = result.previous.image_ids if result.previous else frozenset()
    check_not_vanished(
        result.catalog, published_ids | state.live_image_ids(), config.accept_removals
    )
    catalog = with_history(result.catalog, update_history(state.connection, result.catalog, now))
    target = SiteTarget(config.output, config.title, config.base_url)
    result.catalog, result.published = deploy(catalog, target, result.previous)
    result.output = config.output


def refuse_state_in_site(state_dir: Path, output: Path) -> None:
    """The state must never be published (or wiped when the site is swapped in)."""
    state, site = state_dir.resolve(), output.resolve()
    if state == site or site in state.parents:
        raise ConfigError(
            f"'{state_dir}': the state directory is inside the output '{output}'; "
            "give --state a directory outside the published site"
        )
