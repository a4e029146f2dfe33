"""The table of contents of a run: read -> verify -> catalog, then (for `build`) publish.

`check`, `verify` and `build` are a few lines each over `catalog_of`, which scans, parses and
verifies (recording digests in the state as they are computed) and writes no file of the
site. Publishing is a separate step over its result. What these lines stand on (locks, the
state, the clock, figures) is in `generator.session`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from generator import failpoints
from generator.catalog.cross_checks import with_cross_checks
from generator.catalog.kept import catalog_images, vouched_images
from generator.catalog.lifecycle import apply_lifecycle
from generator.catalog.model import Catalog, Image, iso_time, make_catalog
from generator.config import Config
from generator.problems import Problem, sorted_problems
from generator.read.listing import TreeListing
from generator.read.parse import ParseRules
from generator.read.scan import ScanResult, scan
from generator.read.trust import trust_rules
from generator.read.withhold import withhold_secret_names
from generator.session import (
    BUILD,
    CHECK,
    VERIFY,
    Reading,
    RunResult,
    RunStats,
    Session,
    build_settings,
    digest_algorithms,
    opened,
    parse_rules,
    rehash_policy,
    verdict_settings,
    verify_images,
    vouching,
    with_last_problems,
)
from generator.state.stored_reads import StateReadStore
from generator.verify.progress import Progress
from generator.verify.report import (
    Summary,
    TreeSignature,
    load_report,
    report_key,
    save_report,
    scrub_due,
    signed_tree,
)
from generator.verify.verdict import Digester

if TYPE_CHECKING:  # publishing is imported only when a run publishes
    from generator.publish.published import PublishedCatalog
    from generator.site.image_memo import ImageMemo
    from generator.state.database import State

Clock = Callable[[], float]


def check(config: Config, clock: Clock | None = None) -> RunResult:
    """Names, sidecars and headers: nothing hashed, nothing written (but, with --log-file, the
    record of which problems were logged, kept in the state)."""
    with opened(config, clock, state=config.log_file is not None) as session:
        return with_last_problems(session, "check", catalog_of(session, CHECK))


def verify(
    config: Config,
    clock: Clock | None = None,
    digester: Digester | None = None,
    progress: Progress | None = None,
    reuse_report: bool = False,
) -> RunResult:
    """Hash and report, no site; `reuse_report` answers from the last report of an unchanged tree."""
    with opened(config, clock, state=config.verify, digester=digester, progress=progress) as s:
        if not reuse_report or s.state is None or digester is not None:
            return with_last_problems(s, "verify", catalog_of(s, VERIFY))
        signature, listing = signed_tree(s.repository, config.ignore, s.clock)  # before reading
        result = reported(s, signature) or remembered(s, signature, catalog_of(s, VERIFY, listing))
        return with_last_problems(s, "verify", result)


def build(
    config: Config,
    clock: Clock | None = None,
    digester: Digester | None = None,
    progress: Progress | None = None,
    publish: bool = True,
) -> RunResult:
    """Read and verify into a catalog, then publish it (unless `publish` is False).

    A build whose inputs are all as at the last one answers with that build's report
    (`publish.unchanged_run`).
    """
    with opened(config, clock, state=True, output=True, digester=digester, progress=progress) as s:
        if not publish or digester is not None:
            result = catalog_of(s, BUILD)
            return with_last_problems(s, "build", publish_site(result, s) if publish else result)
        from generator.publish.unchanged_run import build_key

        signature, listing = signed_tree(s.repository, config.ignore, s.clock)  # before reading
        key = build_key(signature, build_settings(config), s.clock()) if signature else None
        result = repeated(s, key)
        if result is None:
            result = publish_site(catalog_of(s, BUILD, listing), s)
            remember_build(s, signature, key, result)
        return with_last_problems(s, "build", result)


def catalog_of(session: Session, reading: Reading, listing: TreeListing | None = None) -> RunResult:
    """Scan, parse and verify into a catalog; digests are recorded as they are computed.

    `listing`: what the walk that signed the tree listed, so the scan need not list it again.
    """
    failpoints.reach("reading")
    config, stats = session.config, RunStats()
    rules = trust_rules(config.trusted_groups, config.owners)
    scanned = scan(session.repository, config.ignore, rules, listing)
    scanned = withhold_secret_names(scanned)
    images, problems = _images(session, reading, scanned, stats)
    generated_at = iso_time(session.clock()) or ""
    algorithms = digest_algorithms(config)
    catalog = make_catalog(str(session.repository), generated_at, images, problems, algorithms)
    catalog = apply_lifecycle(catalog, session.clock())
    return RunResult(catalog, stats, session.repository, summarize(catalog, stats))


def _images(
    session: Session, reading: Reading, scanned: ScanResult, stats: RunStats
) -> tuple[list[Image], list[Problem]]:
    """Each scanned image's record (kept ones from the state), and the run's other problems."""
    config, state, entries = session.config, session.state, scanned.images
    rules, stores = parse_rules(config, reading), []
    if state is not None and reading.headers and reading.descriptions:
        now = session.clock()
        stores = [StateReadStore(state, now), StateReadStore(state, now, "kept_images")]
        rules = replace(rules, store=stores[0])
    kept = stores[1] if stores else None
    verifying = reading.hashes and config.verify and state is not None
    images = _records(session, scanned, rules, kept, stats, verifying)
    for store in stores:
        store.save(entry.id for entry in entries)
    if state is not None and state.replaced:  # the file rows records stand for were moved aside
        state.forget_kept([entry.id for entry in entries])
    problems = list(scanned.problems)
    if verifying:
        problems += state.problems
    return with_cross_checks(images, entries, scanned.problems), problems


def _records(
    session: Session,
    scanned: ScanResult,
    rules: ParseRules,
    kept: StateReadStore | None,
    stats: RunStats,
    verifying: bool,
) -> list[Image]:
    """The images: those whose records are vouched for (`catalog.kept`) first, then the others
    verified (when `verifying`) and kept, looked up by their digests, or made."""
    config, state, entries = session.config, session.state, scanned.images
    algorithms = digest_algorithms(config)
    settings = " ".join(algorithms)
    vouched = algorithms if verifying and kept is not None and vouching(session) else ()
    found: list[Image | None] = [None] * len(entries)
    reads = None
    if vouched:
        found, reads = vouched_images(entries, kept, rules.settings + settings)
    unsure_at = [n for n, image in enumerate(found) if image is None]
    unsure = [entries[n] for n in unsure_at]
    digests = None
    if verifying:
        digests = verify_images(session, unsure, scanned.root, stats)
        stats.digests_reused += sum(len(e.members) for e in entries) - len(digests)  # vouched
        if session.digester is None:
            state.see_images([entry.id for entry in entries], session.clock())
    unsure_reads = [reads[n] for n in unsure_at] if reads is not None else None
    made = iter(
        catalog_images(scanned.root, unsure, rules, digests, kept, settings, vouched, unsure_reads)
    )
    return [image if image is not None else next(made) for image in found]


def summarize(catalog: Catalog, stats: RunStats) -> Summary:
    files = stats.files_hashed + stats.digests_reused
    return Summary(len(catalog.images), files, len(catalog.integrity_failures()), catalog.problems)


def reported(session: Session, signature: TreeSignature | None) -> RunResult | None:
    """`verify`'s last report, when the tree and settings are exactly as they were then."""
    state, now = session.state, session.clock()
    if signature is None or scrub_due(state, rehash_policy(session.config), now):
        return None
    summary = load_report(state, report_key(signature, verdict_settings(session.config)))
    if summary is None:
        return None
    state.touch_images(now)
    return RunResult(None, RunStats(digests_reused=summary.files), session.repository, summary)


def remembered(session: Session, signature: TreeSignature | None, result: RunResult) -> RunResult:
    """Keep a full `verify` report for the next run, when the tree was settled and it lasts."""
    if signature is not None and signature.settled and lasting(result, session):
        key = report_key(signature, verdict_settings(session.config))
        save_report(session.state, key, result.summary, session.clock())
    return result


def lasting(result: RunResult, session: Session) -> bool:
    """A report worth keeping: nothing changing, unreadable or pending, no file still lacking
    a configured digest, no trouble with the state."""
    assert result.catalog is not None
    if result.stats.files_lacking:
        return False
    passing = {"changing", "unreadable", "pending"}
    images = result.catalog.images
    return not session.state.problems and not any(i.status in passing for i in images)


def repeated(session: Session, key: str | None) -> RunResult | None:
    """The last build's result, when this build's inputs are exactly its inputs."""
    from generator.publish.copies import Published
    from generator.publish.published import PublishedCatalog
    from generator.publish.unchanged_run import still_standing

    config, state, now = session.config, session.state, session.clock()
    if key is None or scrub_due(state, rehash_policy(config), now):
        return None
    last = still_standing(state, key, config.output, config.private_output)
    if last is None:
        return None
    state.touch_images(now)
    shown = frozenset((p.path, p.code) for p in last.summary.problems)
    private = Published(changed=False) if config.private_output is not None else None
    return RunResult(
        None,
        RunStats(digests_reused=last.summary.files),
        session.repository,
        last.summary,
        output=config.output,
        published=Published(changed=False),
        previous=PublishedCatalog(None, frozenset(), shown),
        private=private,
        publish_error=copy_elsewhere(config),
    )


def remember_build(
    session: Session, signature: TreeSignature | None, key: str | None, result: RunResult
) -> None:
    """Keep this build's report for the next run, when its inputs alone made it (see `lasting`)."""
    from generator.publish.unchanged_run import (
        LastBuild,
        forget_last_build,
        published_keys,
        save_last_build,
    )

    config, state, now = session.config, session.state, session.clock()
    site, private = published_keys(config.output, config.private_output)
    if (
        key is None
        or signature is None
        or not signature.settled
        or result.stats.files_pending
        or not site
        or (config.private_output is not None and not private)
        or not lasting(result, session)
    ):
        forget_last_build(state, now)
        return
    save_last_build(state, LastBuild(key, result.summary, site, private), now)


def publish_site(result: RunResult, session: Session) -> RunResult:
    """Guard against a vanished repository, record history, then render and swap in the site
    (and the members-only copy, when configured)."""
    from generator.publish.deploy import (
        SiteTarget,
        check_not_vanished,
        deploy,
        deploy_private,
    )
    from generator.publish.published_memo import live_catalog, remember_published

    config, state = session.config, session.state
    previous = live_catalog(config.output, state)
    published_ids = previous.image_ids if previous else frozenset()
    check_not_vanished(
        result.catalog, published_ids | state.live_image_ids(), config.accept_removals
    )
    catalog = site_catalog(result.catalog, session, previous)
    result = replace(result, catalog=catalog)  # from here the site's: the read one is let go
    target = SiteTarget(
        config.output,
        config.title,
        config.base_url,
        config.private_base_url,
        config.sign_with,
        exports=config.exports,
        hepix=config.hepix,
    )
    images = site_memo(state)
    catalog, published = deploy(catalog, target, previous, images)
    if published.changed:  # the next build reads what it published from the state
        remember_published(state, config.output, catalog)
    private = None
    if config.private_output is not None:
        private = deploy_private(catalog, target, config.private_output, images)
    summary = replace(result.summary, problems=catalog.problems)
    result = replace(
        result,
        catalog=catalog,
        summary=summary,
        published=published,
        previous=previous,
        output=config.output,
        private=private,
    )
    return replace(result, publish_error=copy_elsewhere(config))


def site_memo(state: State | None) -> ImageMemo:
    """What the site made of each image, kept in the state between builds (`image_memo`)."""
    from generator.site.image_memo import ImageMemo
    from generator.state.image_pieces import StatePieceStore

    return ImageMemo(StatePieceStore(state) if state is not None else None)


def site_catalog(catalog: Catalog, session: Session, previous: PublishedCatalog | None) -> Catalog:
    """The catalog as the site shows it: with its history (recorded now), aliases and links."""
    from generator.catalog.aliases import with_aliases
    from generator.catalog.history import published_history, with_history
    from generator.catalog.links import link_fields

    config = session.config
    history, late = published_history(catalog, session.state, previous, session.clock())
    links = link_fields(config.base_url, config.download_base_url)
    catalog = with_history(with_problems(catalog, late), history, links)
    return with_aliases(catalog, previous.alias_paths if previous else ())


def with_problems(catalog: Catalog, late: list[Problem]) -> Catalog:
    """The catalog with problems found after it was made (the state's, while publishing)."""
    return (
        replace(catalog, problems=sorted_problems([*catalog.problems, *late])) if late else catalog
    )


def copy_elsewhere(config: Config) -> str | None:
    """Run --publish-command on the live copy (every build, so a failed copy is retried)."""
    from generator.publish.copies import current_build
    from generator.publish.hook import run_publish_command

    live = current_build(config.output)
    if config.publish_command is None or live is None:
        return None
    return run_publish_command(config.publish_command, live)
