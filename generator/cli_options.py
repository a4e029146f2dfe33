"""The command line's options, defined once: one builder per command over shared parents.

Kept apart from `cli.py`, which runs a command and reports, so the option list reads as the
reference it is (the README's tests walk this parser to check that every flag is documented).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from generator import __version__
from generator.config import byte_size, days
from generator.export import EXPORTS
from generator.export.settings import absolute_url

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

# The options a configuration file may also set; None from argparse means "not given".
OVERRIDABLE = (
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
    "download_base_url",
)


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


def _url(text: str) -> str:
    try:
        return absolute_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got '{text}'") from None


def _path(text: str) -> Path:
    """A path option; an empty one is refused (it would mean the current directory)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


def common_options() -> argparse.ArgumentParser:
    """Options of every command that reads the repository (`build`, `verify`, `check`)."""
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
    return common


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
    main = argparse.ArgumentParser(
        prog="star-vm-catalog",
        description="Catalog the STAR virtual machine image repository as a static website.",
        epilog=f"{EXIT_CODES}\n\n{EXAMPLES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common, hashing = common_options(), hashing_options()
    build_parser(commands, [common, hashing])
    for name, text, parents in (
        ("verify", "hash images and report, no site", [common, hashing]),
        ("check", "names and sidecars only", [common]),
    ):
        _command(commands, name, text, parents)
    export_parser(commands)
    return main


def _command(
    commands: argparse._SubParsersAction,
    name: str,
    text: str,
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """A repository command: its help ends with the exit codes and an example."""
    return commands.add_parser(
        name,
        parents=parents,
        help=text,
        epilog=f"{EXIT_CODES}\n\n{COMMAND_EXAMPLES[name]}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser(
    commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """`build`: the shared options plus where and how the site is published."""
    build = _command(commands, "build", "verify and publish the site", parents)
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
        "--download-base-url",
        type=_url,
        metavar="URL",
        help="URL where the repository's files can be downloaded: each image gets a download "
        "link (<URL><vm>/<name>) on its page, in catalog.json and in the exports",
    )
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


def export_parser(commands: argparse._SubParsersAction) -> None:
    """`export FORMAT --catalog FILE --output DIR`: reads a published catalog.json only."""
    export = commands.add_parser(
        "export",
        help="write a published catalog.json in another format (csv, simplestreams, hepix, markdown)",
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
    export.add_argument(
        "--config",
        type=_path,
        metavar="FILE",
        help="the build's YAML configuration, for base-url and the hepix: endorser (hepix only)",
    )


def overrides(args: argparse.Namespace) -> dict[str, object]:
    """Only the flags the user gave (None means: keep the file's or the default value)."""
    return {name: getattr(args, name, None) for name in OVERRIDABLE}
