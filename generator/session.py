"""One run's resources and results: locks, the state, the clock, and what the run made.

`generator.build` is the table of contents; this module holds what its few lines stand on.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from generator import failpoints
from generator.catalog.model import CATALOG_FIELDS, Catalog
from generator.config import Config
from generator.digests import algorithm_set
from generator.errors import RepositoryVanished
from generator.problems import Problem, from_rows, to_rows
from generator.publish.lock import hold_lock
from generator.publish.overlaps import Place, output_places, refuse_log_in_output, refuse_nested
from generator.read.format_tables import FormatRules
from generator.read.names import KnownValues
from generator.read.parse import ParseRules
from generator.read.scan import ImageEntry
from generator.state.database import State, open_state
from generator.verify.cached import CachedDigester, RehashPolicy
from generator.verify.hashing import FileDigest
from generator.verify.progress import Progress
from generator.verify.report import Summary
from generator.verify.verdict import Digester, digest_all

if TYPE_CHECKING:  # imported for real only by `build`, so `check` and `verify` start fast
    from generator.publish.copies import Published
    from generator.publish.published import PublishedCatalog


@dataclass(frozen=True)
class Reading:
    """What a command reads: `verify` skips headers and descriptions, `check` hashes nothing."""

    headers: bool
    descriptions: bool
    hashes: bool


CHECK = Reading(headers=True, descriptions=True, hashes=False)
VERIFY = Reading(headers=False, descriptions=False, hashes=True)
BUILD = Reading(headers=True, descriptions=True, hashes=True)


@dataclass
class RunStats:
    """Figures for the summary line."""

    files_hashed: int = 0
    bytes_read: int = 0
    digests_reused: int = 0
    rehash_bytes: int = 0
    files_pending: int = 0  # left unread by --hash-budget
    files_lacking: int = 0  # digests reused without an algorithm added to `digests` since

    def add(self, result: FileDigest) -> None:
        failpoints.reach("hashing")  # after the first digest is recorded: a crash mid-run
        if result.reused:
            self.digests_reused += 1
        elif result.deferred:
            self.files_pending += 1
        elif result.digests or (result.changing and not result.vanished):
            self.files_hashed += 1
            self.bytes_read += result.bytes_read


@dataclass(frozen=True)
class RunResult:
    """What a run made: the catalog (None when `verify` reused its last report) and figures."""

    catalog: Catalog | None
    stats: RunStats
    repository: Path
    summary: Summary
    output: Path | None = None
    published: Published | None = None
    previous: PublishedCatalog | None = None
    private: Published | None = None  # the members-only copy (`--private-output`)
    # the problems the last run of this command had (None: no record), for --log-file news
    last_problems: tuple[Problem, ...] | None = None
    publish_error: str | None = None  # --publish-command failed (the site here is published)

    def new_errors(self) -> list[Problem]:
        """Error problems the published site did not already show: what cron mail is for."""
        known = self.previous.problems if self.previous else frozenset()
        return [
            p
            for p in self.summary.problems
            if p.severity == "error" and (p.path, p.code) not in known
        ]


def with_last_problems(session: Session, command: str, result: RunResult) -> RunResult:
    """Swap the problems recorded by the last run of `command` for this run's.

    With --log-file, the log tells news: a problem when it appears and when it is resolved,
    not every hour. The record is a row of the state's snapshots, written only when it changes.
    """
    if session.config.log_file is None or session.state is None:
        return result
    name = f"log:{command}"
    stored = session.state.snapshot(name, "problems")
    text = json.dumps(to_rows(result.summary.problems))
    if stored != text:
        session.state.save_snapshot(name, "problems", text, session.clock())
    return replace(result, last_problems=problems_of(stored) if stored is not None else None)


def problems_of(stored: str) -> tuple[Problem, ...] | None:
    """The recorded problems; None when the record cannot be read."""
    try:
        return from_rows(json.loads(stored))
    except (ValueError, TypeError):
        return None


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
        raise RepositoryVanished(
            f"'{root}': repository is not a directory; check --repository or the mount"
        )
    return root


def known_values(config: Config) -> KnownValues:
    return KnownValues(
        config.known_vms, config.known_os, config.known_arch, config.known_word_sizes
    )


def parse_rules(config: Config, reading: Reading) -> ParseRules:
    """What the parse stage checks against, and which files it opens."""
    formats = FormatRules(config.vm_formats, config.extension_formats)
    known = known_values(config)
    return ParseRules(
        known,
        CATALOG_FIELDS,
        formats,
        headers=reading.headers,
        descriptions=reading.descriptions,
        settings=json.dumps(
            [known.vms, known.os_families, known.arches, known.word_sizes, sorted(CATALOG_FIELDS)]
            + [{k: sorted(v) for k, v in table.items()} for table in formats.__dict__.values()],
            sort_keys=True,
        ),
    )


@dataclass(frozen=True)
class Session:
    """What one run works with: its settings, repository, clock, and (when it hashes or
    publishes) the state database, held under the state directory's lock."""

    config: Config
    repository: Path
    clock: Callable[[], float]
    state: State | None = None
    digester: Digester | None = None
    progress: Progress | None = None


@contextmanager
def opened(
    config: Config,
    clock: Callable[[], float] | None,
    *,
    state: bool,
    output: bool = False,
    digester: Digester | None = None,
    progress: Progress | None = None,
) -> Iterator[Session]:
    """Lock the state directory (and the output, for `build`), open the state, and close all."""
    clock = clock or source_clock()
    repository = repository_of(config)
    state_dir = config.state_dir(repository)
    refuse_unsafe_paths(config, output, repository, state_dir)
    with ExitStack() as stack:
        stack.enter_context(hold_lock(state_dir / "lock", "state directory"))
        if output:
            from generator.publish.output_checks import output_lock_path

            stack.enter_context(hold_lock(output_lock_path(config.output), "output directory"))
            if config.private_output is not None:
                lock = output_lock_path(config.private_output)
                stack.enter_context(hold_lock(lock, "private output"))
        database = open_state(state_dir, clock) if state or output else None
        if database is not None:
            stack.callback(database.close)
        yield Session(config, repository, clock, database, digester, progress)


def rehash_policy(config: Config) -> RehashPolicy:
    """Scrubbing within --rehash-budget, and never beyond --hash-budget (which caps all reads)."""
    budgets = [b for b in (config.rehash_budget, config.hash_budget) if b is not None]
    smallest = min(budgets) if budgets else None
    if config.rehash_older_than is None and config.rehash_budget is None:
        return RehashPolicy(upgrade_budget=smallest)
    return RehashPolicy(config.rehash_older_than, smallest, smallest)


def digest_algorithms(config: Config) -> tuple[str, ...]:
    """The digests each file read yields: the `digests` setting (MD5 always among it), and
    SHA-512 when a HEPiX list is exported (its consumers check that digest)."""
    hepix = ("sha512",) if "hepix" in config.exports else ()
    return algorithm_set((*config.digests, *hepix))


def verdict_settings(config: Config) -> tuple:
    """Every setting a `verify` report depends on (with the tree and the program)."""
    trust = (config.trusted_groups, config.owners)
    settings = (str(config.repository), known_values(config), config.ignore, "no descriptions")
    return (*settings, trust, digest_algorithms(config))


def build_settings(config: Config) -> str:
    """Every setting a build depends on, as text (how it reports is not among them)."""
    quiet = replace(config, quiet=False, verbose=False, log_file=None, jobs=1)
    values = {f.name: getattr(quiet, f.name) for f in fields(quiet)}
    return json.dumps(values, sort_keys=True, default=_plain)


def _plain(value: object) -> object:
    """Sets in a stable order (their own order changes with each process), the rest as text."""
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def verify_images(
    session: Session, entries: list[ImageEntry], root: Path, stats: RunStats
) -> dict[str, FileDigest]:
    """Reuse what the state can vouch for, scrub by the rehash policy, read the rest.

    Before a file is read, the kept record of its image is dropped: a record kept under its
    vouched key (`catalog.kept`) stands for its files' digests only while none is read again.
    """
    config, state = session.config, session.state
    if session.digester is not None:
        if state is not None:
            state.forget_kept([entry.id for entry in entries])
        return hash_all(
            entries,
            root,
            session.digester,
            config.jobs,
            stats,
            session.progress,
            config.hash_budget,
        )
    assert state is not None
    on_bytes = session.progress.advance if session.progress else None
    algorithms = digest_algorithms(config)
    paths = [member.relpath for entry in entries for member in entry.members]
    drop = not config.keep_cache
    digester = CachedDigester(state, session.clock, on_bytes, drop, algorithms, paths)
    members = (entry.members for entry in entries)
    stats.rehash_bytes, stats.files_lacking = digester.plan_rehash(members, rehash_policy(config))
    state.forget_kept([e.id for e in entries if any(map(digester.will_read, e.members))])
    digests = hash_all(
        entries, root, digester, config.jobs, stats, session.progress, config.hash_budget
    )
    state.flush()  # hashing is over: no group-commit timer may write while the run reads on
    state.forget_files()  # nor are the file rows asked for again
    return digests


def vouching(session: Session) -> bool:
    """Whether this run may take vouched records without verifying their images (`catalog.kept`):
    not when it scrubs (every image is looked at) or hashes with a digester of its own."""
    return session.digester is None and not rehash_policy(session.config).active


def hash_all(
    entries: list[ImageEntry],
    root: Path,
    digester: Digester,
    jobs: int,
    stats: RunStats,
    progress: Progress | None = None,
    budget: int | None = None,
) -> dict[str, FileDigest]:
    members = [m for entry in entries for m in entry.members]
    try:
        on_start = progress.start if progress else None
        return digest_all(
            root, members, digester, jobs, on_done=stats.add, on_start=on_start, budget=budget
        )
    finally:
        if progress:
            progress.finish()


def refuse_unsafe_paths(config: Config, output: bool, repository: Path, state_dir: Path) -> None:
    """Before any lock or read: no overlap of repository, state and outputs, no foreign output.

    The outputs are checked here too, so a folder that will be refused is refused at once,
    not after an hour of hashing.
    """
    places = [
        Place("repository", "--repository", repository),
        Place("state directory", "--state", state_dir),
    ]
    if not output:
        refuse_nested(places)
        return
    from generator.publish.output_checks import builds_dir, check_output

    outputs = output_places(config.output, builds_dir(config.output))
    private = config.private_output
    if private is not None:
        outputs += output_places(private, builds_dir(private), "private output")
    refuse_nested([*outputs, *places])
    refuse_log_in_output(config.log_file, outputs)
    for path in (config.output, private):
        if path is not None:
            check_output(path)
