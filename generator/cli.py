"""Command line: a thin layer that turns options into a Config and errors into exit codes."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from generator import __version__
from generator.build import RunResult, run
from generator.config import load_config
from generator.errors import EXIT_LOCKED, EXIT_OK, EXIT_PROBLEMS, CatalogError

EXIT_CODES = """exit codes:
  0   all images verified (or checked) and no error problems
  1   an error problem or an integrity failure (mismatch, unreadable, invalid checksum)
  2   usage or configuration error
  75  another run holds the lock (try again later)"""

EXAMPLES = """examples:
  star-vm-catalog build                      # catalog the bundled demo into ./site
  star-vm-catalog build --repository /star/data08/OSG/APP/vm --output /var/www/vm --quiet
  star-vm-catalog check --repository /star/data08/OSG/APP/vm"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got '{text}'")
    return value


def parser() -> argparse.ArgumentParser:
    """Options are defined once on a parent parser and shared by every command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--repository", type=Path, help="repository root (default: the bundled demo)"
    )
    common.add_argument(
        "--state", type=Path, help="state directory (default: under $XDG_STATE_HOME)"
    )
    common.add_argument("--config", type=Path, help="YAML file with the same keys as these options")
    common.add_argument(
        "--quiet", action="store_true", default=None, help="print only what needs a person"
    )
    common.add_argument("--jobs", type=_positive, help="hashing threads (default: number of cores)")
    common.add_argument(
        "--log-file", type=Path, help="append every message of every run to this file"
    )
    main = argparse.ArgumentParser(
        prog="star-vm-catalog",
        description="Catalog the STAR virtual machine image repository as a static website.",
        epilog=f"{EXIT_CODES}\n\n{EXAMPLES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", required=True)
    build = commands.add_parser(
        "build",
        parents=[common],
        help="verify and publish the site",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("--output", type=Path, help="site directory (default: ./site)")
    build.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        default=None,
        help="do not hash images; statuses become 'unverified'",
    )
    build.add_argument("--base-url", help="absolute URL of the published site, for the sitemap")
    build.add_argument(
        "--accept-removals",
        action="store_true",
        default=None,
        help="publish even when most images vanished at once (normally refused as an unmounted volume)",
    )
    for name, text in (
        ("verify", "hash images and report, no site"),
        ("check", "names and sidecars only"),
    ):
        commands.add_parser(
            name,
            parents=[common],
            help=text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    return main


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
        "accept_removals",
        "log_file",
    )
    return {name: getattr(args, name, None) for name in names}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    log = None
    try:
        config = load_config(args.config, overrides(args))
        log = Log(config.log_file, args.command)
        result = run(config, args.command)
    except CatalogError as exc:
        message = f"star-vm-catalog: {exc}"
        if log:
            log.write([message])
        if exc.exit_code != EXIT_LOCKED or not args.quiet:
            print(message, file=sys.stderr)
        return exc.exit_code
    report(result, config.quiet, log)
    return EXIT_OK if result.catalog.ok else EXIT_PROBLEMS


class Log:
    """`--log-file`: every line of every run, with a time stamp, whatever --quiet hides."""

    def __init__(self, path: Path | None, command: str) -> None:
        self.path = path
        self.command = command

    def write(self, lines: list[str]) -> None:
        if self.path is None:
            return
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.writelines(f"{stamp} {self.command}: {line}\n" for line in lines)
        except OSError as exc:
            print(
                f"star-vm-catalog: '{self.path}': cannot write the log: {exc.strerror}",
                file=sys.stderr,
            )


def report(result: RunResult, quiet: bool, log: Log) -> None:
    """Problems on stderr, then one summary line; quiet shows only errors that are new."""
    problems = [problem.line() for problem in result.catalog.problems]
    lines = [*problems, summary(result)]
    if result.output is not None:
        lines.append(f"Site at {(result.output / 'index.html').absolute()}")
    log.write(lines)
    if quiet:
        for problem in result.new_errors():
            print(problem.line(), file=sys.stderr)
        return
    for line in [*problems, summary(result)]:
        print(line, file=sys.stderr)
    if result.output is not None:
        print(f"Site written to {(result.output / 'index.html').absolute()}")


def summary(result: RunResult) -> str:
    """The one line every run ends with."""
    catalog, stats = result.catalog, result.stats
    text = (
        f"{len(catalog.images)} images, {stats.files_hashed} files hashed ({stats.bytes_read} bytes read), "
        f"{stats.digests_reused} digests reused, {len(catalog.problems)} problems, "
        f"{len(catalog.integrity_failures())} integrity failures"
    )
    published = result.published
    if published is None:
        return text
    if not published.changed:
        return f"{text}; site unchanged"
    return (
        f"{text}; site published ({published.written} files written, {published.linked} unchanged)"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
