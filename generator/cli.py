"""Command line: a thin layer that turns options into a Config and errors into exit codes."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn, TextIO

from generator import failpoints
from generator.allocator import return_large_blocks
from generator.build import build, check, verify
from generator.cli_options import overrides, parser
from generator.config import Config, load_config
from generator.errors import (
    EXIT_CRASH,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_PUBLISH_COMMAND,
    EXIT_USAGE,
    CatalogError,
)
from generator.export import export
from generator.export.settings import ExportSettings
from generator.redact import redact
from generator.session import RunResult
from generator.shell import printable
from generator.verify.progress import Progress

EXIT_INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C


def main(argv: list[str] | None = None) -> int:
    # A run builds one large structure without reference cycles; the cyclic collector would
    # walk it again and again as it grows (15-20% of a 10,000-image run). Refcounting suffices.
    gc.disable()
    try:
        return command(argv)
    finally:
        gc.enable()


def main_and_exit() -> NoReturn:
    """The program itself (the console script, `python -m generator`): `main`, then exit
    without collecting what a completed run left in reference cycles.

    Part of a run's objects end up in cycles (jinja2's environment holds the site's page memo,
    which holds every image), so only the cyclic collector frees them: at 10,000 images about
    190,000 objects and 0.3 s, spent when the collector is enabled again, on memory the
    process hands back a moment later anyway. Frozen, the collector never visits them.
    Only after a run that completed (exit 0 or 1): it has closed every file, log and the
    state's SQLite connection (its `with` blocks) and taken every chunk of its workers. An
    interrupted or failed run may leave a generator suspended in a cycle whose `finally`
    stops workers (`parallel.shared_chunks`), so it is collected as usual. The interpreter
    still flushes stdout and stderr and exits normally. `main` frees everything, for callers
    that go on running (tests).
    """
    return_large_blocks()  # a process-wide choice: the program's, not a library caller's
    gc.disable()
    try:
        code = command(None)
    except BaseException:  # --help, --version, a bug: collected as usual
        gc.enable()
        raise
    if code in (EXIT_OK, EXIT_PROBLEMS):
        gc.freeze()
    gc.enable()
    raise SystemExit(code)


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
        return finished(result, config, log)
    except CatalogError as exc:
        message = printable(redact(f"star-vm-catalog: {exc}"))
        log.write([message])
        if exc.exit_code != EXIT_LOCKED or not args.quiet:
            say(message)
        return exc.exit_code
    except KeyboardInterrupt:
        say("\nstar-vm-catalog: interrupted; digests already read are kept")
        return EXIT_INTERRUPTED
    except Exception as exc:  # its own exit code, so a timer does not take it as routine
        return crashed(exc, log)


def finished(result: RunResult, config: Config, log: Log) -> int:
    """Report a run that completed; its exit code."""
    report(result, config, log)
    if result.publish_error:
        message = f"star-vm-catalog: {result.publish_error}"
        log.write([message])
        say(message)
        return EXIT_PUBLISH_COMMAND
    return EXIT_OK if result.summary.ok else EXIT_PROBLEMS


def crashed(exc: Exception, log: Log | None) -> int:
    """Report an error nothing expected: the traceback on stderr, one line in the log, both
    redacted as a whole (a key block quoted in the error spans lines). Should that fail in
    turn (even by a Ctrl-C), a fixed line says so and nothing of the error's text is shown.
    `EXIT_CRASH`."""
    try:
        text = redact("".join(traceback.format_exception(exc)))
        lines = [printable(line) for line in text.splitlines()]
        what = "".join(traceback.format_exception_only(exc)).strip()
        message = printable(redact(f"star-vm-catalog: unexpected error: {what}"))
    except BaseException:  # even a Ctrl-C here: the error must not show unredacted
        lines, message = (
            [],
            "star-vm-catalog: unexpected error (its text could not be shown safely)",
        )
    message += (
        "; the live site is a whole one (the last published). Unless the machine is at fault"
        " (a full disk, a permission), this is a bug: please report it"
    )
    with contextlib.suppress(Exception):
        if log is not None:
            log.write([message])
    say(*lines, message)
    return EXIT_CRASH


def say(*lines: str, out: TextIO | None = None) -> None:
    """Lines on stderr (or `out`). A stream that is gone (a closed pipe: journald restarted,
    `| head`) loses them, never the run's exit code: its descriptor then writes to /dev/null,
    so the flush when the program exits cannot fail either."""
    out = sys.stderr if out is None else out
    try:
        for line in lines:
            print(line, file=out)
        out.flush()
    except OSError:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
            os.close(devnull)


def export_command(args: argparse.Namespace) -> int:
    """No repository or state: the catalog file, the output directory, and (`--config`) the
    settings an export names (base-url, the HEPiX endorser)."""
    try:
        settings = ExportSettings()
        if args.config is not None:
            config = load_config(args.config, {})
            settings = ExportSettings(config.base_url, config.title, config.hepix)
        written = export(args.format, args.catalog, args.output, settings)
    except CatalogError as exc:
        say(f"star-vm-catalog: {exc}")
        return exc.exit_code
    except Exception as exc:  # as for the other commands
        return crashed(exc, None)
    say(
        f"{args.format} export written to {args.output.absolute()} "
        f"({written.written} files written, {written.unchanged} unchanged, "
        f"{written.removed} old files removed)",
        out=sys.stdout,
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
            say(printable(f"star-vm-catalog: '{self.path}': cannot write the log: {exc.strerror}"))


def report(result: RunResult, config: Config, log: Log) -> None:
    """Problems on stderr, then one summary line; --quiet shows only errors that are new."""
    failpoints.reach("reporting")
    where = (
        printable(f"Site written to {(result.output / 'index.html').absolute()}")
        if result.output
        else None
    )
    if log.path is not None:  # the lines of a large catalog cost time: made only for a log
        problems = [problem.line() for problem in result.summary.problems]
        verbose = [*problems, summary_line(result), *([where] if where else [])]
        log.write(verbose if config.verbose else log_lines(result))
    if config.quiet:
        say(*(problem.line() for problem in result.new_errors()))
        return
    say(*(problem.line() for problem in result.summary.problems), summary_line(result))
    if where:
        say(where, out=sys.stdout)


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
