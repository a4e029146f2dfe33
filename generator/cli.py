"""Command line: a thin layer that turns options into a Config and errors into exit codes."""

from __future__ import annotations

import argparse
import datetime
import gc
import sys
from pathlib import Path

from generator import __version__
from generator.build import build, check, verify
from generator.config import Config, byte_size, days, load_config
from generator.errors import (
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_PUBLISH_COMMAND,
    EXIT_USAGE,
    CatalogError,
)
from generator.export import EXPORTS, export
from generator.redact import redact
from generator.session import RunResult
from generator.shell import printable
from generator.verify.progress import Progress

EXIT_INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C
EXIT_CODES = """exit codes:
  0   all images verified (or checked) and no error problems
  1   an error problem or an integrity failure (mismatch, unreadable, invalid checksum)
  2   usage or configuration error; an output or lock it may not touch (nothing changed)
  3   the repository is missing or most published images vanished (volume not mounted?):
      kept the old site, published nothing
  4   build: the site was published, but --publish-command failed
  75  another run holds the lock (try again later)
  130 interrupted (Ctrl-C); digests already read are kept"""

COMMAND_EXAMPLES = {
    "build": """example:
  star-vm-catalog build --repository /star/data08/OSG/APP/vm --output /var/www/html/vm --quiet \\
      --log-file /var/log/star-vm-catalog/catalog.log --hash-budget 2TB""",
    "verify": """example:
  star-vm-catalog verify --repository /star/data08/OSG/APP/vm --rehash-older-than 30 --rehash-budget 200GB""",
    "check": """example:
  star-vm-catalog check --repository /star/data08/OSG/APP/vm    # before copying in new images""",
}
EXAMPLES = """examples:
  star-vm-catalog build                      # catalog the bundled demo into ./site
  star-vm-catalog build --repository /star/data08/OSG/APP/vm --output /var/www/vm --quiet
  star-vm-catalog check --repository /star/data08/OSG/APP/vm
  star-vm-catalog verify --repository /star/data08/OSG/APP/vm --rehash-older-than 30 --rehash-budget 200GB
  star-vm-catalog export markdown --catalog /var/www/vm/catalog.json --output docs/vm"""
EXPORT_EXAMPLE = """example:
  star-vm-catalog export markdown --catalog /var/www/vm/catalog.json --output docs/vm

Reads only the catalog.json: no repository, no hashing, no state, no lock. DIR must be new,
empty, or hold an earlier export (it keeps a .star-vm-catalog-export.json marker); only files
an earlier export wrote are replaced or removed."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got '{text}'")
    return value


def _days(text: str) -> float:
    try:
        return days(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got '{text}'") from None


def _size(text: str) -> int:
    try:
        return byte_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got '{text}'") from None


def _path(text: str) -> Path:
    """A path option; an empty one is refused (it would mean the current directory)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


def hashing_options() -> argparse.ArgumentParser:
    """Options of the commands that hash (`build`, `verify`)."""
    hashing = argparse.ArgumentParser(add_help=False)
    hashing.add_argument(
        "--rehash-older-than",
        type=_days,
        metavar="DAYS",
        help="read again images whose bytes were last read over DAYS days ago (finds bit rot)",
    )
    hashing.add_argument(
        "--rehash-budget",
        type=_size,
        metavar="SIZE",
        help="read at most SIZE (e.g. 200GB) per run: changed files first, then the images "
        "read longest ago",
    )
    hashing.add_argument(
        "--hash-budget",
        type=_size,
        metavar="SIZE",
        help="read at most SIZE per run, new and changed files included; the rest are "
        "published as 'pending' and read by the next runs (spreads a first run over days)",
    )
    hashing.add_argument(
        "--keep-cache",
        action="store_true",
        default=None,
        help="leave hashed files in the page cache (by default their pages are dropped behind "
        "the reader, so a run does not evict what the server caches for others)",
    )
    return hashing


def parser() -> argparse.ArgumentParser:
    """Options are defined once on a parent parser and shared by every command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--repository", type=_path, help="repository root (default: the bundled demo)"
    )
    common.add_argument(
        "--state", type=_path, help="state directory (default: under $XDG_STATE_HOME)"
    )
    common.add_argument(
        "--config", type=_path, help="YAML file with the same keys as these options"
    )
    common.add_argument(
        "--quiet", action="store_true", default=None, help="print only what needs a person"
    )
    common.add_argument("--jobs", type=_positive, help="hashing threads (default: number of cores)")
    common.add_argument(
        "--log-file",
        type=_path,
        help="append news to this file: problems that appeared or were resolved, one summary line",
    )
    common.add_argument(
        "--verbose",
        action="store_true",
        default=None,
        help="log every message of every run (with --log-file), not only news",
    )
    main = argparse.ArgumentParser(
        prog="star-vm-catalog",
        description="Catalog the STAR virtual machine image repository as a static website.",
        epilog=f"{EXIT_CODES}\n\n{EXAMPLES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", required=True)
    hashing = hashing_options()
    build = commands.add_parser(
        "build",
        parents=[common, hashing],
        help="verify and publish the site",
        epilog=f"{EXIT_CODES}\n\n{COMMAND_EXAMPLES['build']}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("--output", type=_path, help="site directory (default: ./site)")
    build.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        default=None,
        help="do not hash images; statuses become 'unverified'",
    )
    build.add_argument("--base-url", help="absolute URL of the published site, for the sitemap")
    build.add_argument(
        "--private-output",
        type=Path,
        metavar="DIR",
        help="also publish members-only image pages with unredacted descriptions into DIR "
        "(serve it behind authentication)",
    )
    build.add_argument(
        "--private-base-url",
        metavar="URL",
        help="absolute URL of the members-only copy; public pages link to it where a secret was removed",
    )
    build.add_argument(
        "--publish-command",
        metavar="CMD",
        help="shell command run after each build with the live copy's path as $1 (and in "
        "$STAR_VM_CATALOG_SITE), e.g. rsync to the web server; failure: exit code 4",
    )
    build.add_argument(
        "--accept-removals",
        action="store_true",
        default=None,
        help="publish even when most images vanished at once (normally refused: an unmounted volume)",
    )
    for name, text, parents in (
        ("verify", "hash images and report, no site", [common, hashing]),
        ("check", "names and sidecars only", [common]),
    ):
        commands.add_parser(
            name,
            parents=parents,
            help=text,
            epilog=f"{EXIT_CODES}\n\n{COMMAND_EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    export_parser(commands)
    return main


def export_parser(commands: argparse._SubParsersAction) -> None:
    """`export FORMAT --catalog FILE --output DIR`: reads a published catalog.json only."""
    export = commands.add_parser(
        "export",
        help="write a published catalog.json in another format (markdown)",
        epilog=EXPORT_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("format", choices=sorted(EXPORTS), help="the format to write")
    export.add_argument(
        "--catalog",
        type=Path,
        required=True,
        metavar="FILE",
        help="a catalog.json that build published",
    )
    export.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="directory to write into"
    )


def overrides(args: argparse.Namespace) -> dict[str, object]:
    """Only the flags the user gave (None means: keep the file's or the default value)."""
    names = (
        "repository",
        "state",
        "quiet",
        "jobs",
        "output",
        "verify",
        "base_url",
        "rehash_older_than",
        "rehash_budget",
        "hash_budget",
        "keep_cache",
        "accept_removals",
        "log_file",
        "private_output",
        "private_base_url",
        "verbose",
        "publish_command",
    )
    return {name: getattr(args, name, None) for name in names}


def main(argv: list[str] | None = None) -> int:
    # A run builds one large structure without reference cycles; the cyclic collector would
    # walk it again and again as it grows (15-20% of a 10,000-image run). Refcounting suffices.
    gc.disable()
    try:
        return command(argv)
    finally:
        gc.enable()


def command(argv: list[str] | None) -> int:
    """Parse the options, run the command, report; library errors become exit codes."""
    args = parser().parse_args(argv)
    if args.command == "export":
        return export_command(args)
    log = Log(None, args.command)
    try:
        config = load_config(args.config, overrides(args))
        log = Log(config.log_file, args.command)
        result = run(config, args.command, progress_bar(config.quiet))
    except CatalogError as exc:
        message = printable(redact(f"star-vm-catalog: {exc}"))
        log.write([message])
        if exc.exit_code != EXIT_LOCKED or not args.quiet:
            print(message, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\nstar-vm-catalog: interrupted; digests already read are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    report(result, config, log)
    if result.publish_error:
        message = f"star-vm-catalog: {result.publish_error}"
        log.write([message])
        print(message, file=sys.stderr)
        return EXIT_PUBLISH_COMMAND
    return EXIT_OK if result.summary.ok else EXIT_PROBLEMS


def export_command(args: argparse.Namespace) -> int:
    """No configuration, repository or state: the catalog file and the output directory only."""
    try:
        written = export(args.format, args.catalog, args.output)
    except CatalogError as exc:
        print(f"star-vm-catalog: {exc}", file=sys.stderr)
        return exc.exit_code
    print(
        f"{args.format} export written to {args.output.absolute()} "
        f"({written.written} files written, {written.unchanged} unchanged, "
        f"{written.removed} old files removed)"
    )
    return EXIT_OK


def run(config: Config, command: str, progress: Progress | None) -> RunResult:
    """The library call behind each command (the CLI answers `verify` from its last report)."""
    if command == "check":
        return check(config)
    if command == "verify":
        return verify(config, progress=progress, reuse_report=True)
    return build(config, progress=progress)


def progress_bar(quiet: bool) -> Progress | None:
    """A progress bar only for a person at a terminal: never under --quiet, cron or a pipe."""
    if quiet or not sys.stderr.isatty():
        return None
    return Progress(sys.stderr)


class Log:
    """`--log-file`: lines with a time stamp, whatever --quiet hides (see `log_lines`).

    Each line is escaped as on the terminal, so a name cannot forge a line of the log.
    Opened in append mode for each write and closed again, so logrotate can simply move the
    file away: the next write creates a new one (no copytruncate, no signal needed).
    """

    def __init__(self, path: Path | None, command: str) -> None:
        self.path = path
        self.command = command

    def write(self, lines: list[str]) -> None:
        if self.path is None:
            return
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.writelines(
                    f"{stamp} {self.command}: {printable(redact(line))}\n" for line in lines
                )
        except OSError as exc:
            print(
                printable(f"star-vm-catalog: '{self.path}': cannot write the log: {exc.strerror}"),
                file=sys.stderr,
            )


def report(result: RunResult, config: Config, log: Log) -> None:
    """Problems on stderr, then one summary line; --quiet shows only errors that are new."""
    problems = [problem.line() for problem in result.summary.problems]
    where = (
        printable(f"Site written to {(result.output / 'index.html').absolute()}")
        if result.output
        else None
    )
    if config.verbose:
        log.write([*problems, summary_line(result), *([where] if where else [])])
    else:
        log.write(log_lines(result))
    if config.quiet:
        for problem in result.new_errors():
            print(problem.line(), file=sys.stderr)
        return
    for line in [*problems, summary_line(result)]:
        print(line, file=sys.stderr)
    if where:
        print(where)


def log_lines(result: RunResult) -> list[str]:
    """News only: problems that appeared or were resolved since the last run, then the summary.

    So an unchanged hourly run logs one line. Problems are told apart by path and code; the
    last run's are recorded in the state (all are new on a first run or without a state).
    """
    before = {(p.path, p.code): p for p in result.last_problems or ()}
    now = {(p.path, p.code): p for p in result.summary.problems}
    lines = [f"new: {p.line()}" for key, p in now.items() if key not in before]
    lines += [f"resolved: {p.line()}" for key, p in before.items() if key not in now]
    return [*lines, summary_line(result)]


def summary_line(result: RunResult) -> str:
    """The one line every run ends with."""
    summary, stats = result.summary, result.stats
    text = (
        f"{summary.images} images, {stats.files_hashed} files hashed ({stats.bytes_read} bytes read), "
        f"{stats.digests_reused} digests reused, {len(summary.problems)} problems, "
        f"{summary.failures} integrity failures"
    )
    if stats.files_pending:
        text += f", {stats.files_pending} files pending (--hash-budget; read by the next runs)"
    published = result.published
    if published is None:
        return text
    if not published.changed:
        text = f"{text}; site unchanged"
    else:
        text = f"{text}; site published ({published.written} files written, {published.kept} unchanged)"
    private = result.private
    if private is not None and private.changed:
        text += f"; members-only copy published ({private.written} files written)"
    return text


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

__all__ = ["EXIT_USAGE", "main"]
