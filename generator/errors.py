"""Exceptions that end a whole run; each carries the exit code the CLI returns."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_VANISHED = 3  # a separate code: the one failure a timer must page someone for
EXIT_PUBLISH_COMMAND = 4  # --publish-command failed: the other host may serve an old site
EXIT_LOCKED = 75
EXIT_CRASH = 70  # a bug (sysexits' EX_SOFTWARE): not 1, which a timer takes as routine problems


class CatalogError(Exception):
    """A run-ending failure; only the CLI turns it into an exit code."""

    exit_code = EXIT_PROBLEMS


class ConfigError(CatalogError):
    """Bad configuration file or option values (all reported in one message)."""

    exit_code = EXIT_USAGE


class LockHeldError(CatalogError):
    """Another run holds the lock on the same state directory or output."""

    exit_code = EXIT_LOCKED


class LockFileError(CatalogError):
    """The lock file cannot be created or opened (a read-only folder, permissions)."""

    exit_code = EXIT_USAGE


class RepositoryVanished(CatalogError):
    """Most published images vanished at once (an unmounted volume?): nothing was published.

    Exit 1 means "problems in the repository" and is routine for a cron job; this is not.
    """

    exit_code = EXIT_VANISHED


class CatalogFileError(CatalogError):
    """A catalog.json given to `export` that is missing, too large, not JSON or of another shape."""

    exit_code = EXIT_USAGE


class ExportRefusedError(CatalogError):
    """An export output directory holding files the tool did not write: nothing is touched."""

    exit_code = EXIT_USAGE
