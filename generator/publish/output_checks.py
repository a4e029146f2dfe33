"""What the output and its build area may be before a publish touches them.

Only a link this tool made, an empty folder, or a site of an older version may be replaced; a
build area holding a symbolic link or a stranger is refused. Nothing is followed or deleted.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from generator.errors import ConfigError
from generator.publish.manifest import journal_path, key_path, manifest_path

SLOTS = ("a", "b")
ABSENT, OURS, EMPTY, LEGACY = "absent", "ours", "empty", "legacy"


class UnsafeOutputError(ConfigError):
    """The output or its build area holds what this tool did not make: refused, left untouched."""


def builds_dir(output: Path) -> Path:
    output = output.absolute()
    return output.parent / f".{output.name}.builds"


def output_lock_path(output: Path) -> Path:
    """The lock file guarding one output directory (beside it, never inside the site)."""
    output = output.absolute()
    return output.parent / f".{output.name}.lock"


def our_slot(output: Path) -> Path | None:
    """The copy `output` links to, when it is a link this tool made (text `.NAME.builds/a|b`)."""
    output = output.absolute()
    try:
        text = os.readlink(output)
    except OSError:
        return None
    builds = builds_dir(output)
    return next((builds / s for s in SLOTS if text == f"{builds.name}/{s}"), None)


def check_output(output: Path) -> str:
    """What `output` is (ABSENT, OURS, EMPTY or LEGACY); anything else is refused, untouched.

    Only a link this tool made, an empty folder, or a folder holding a catalog.json of ours
    (a site of an older version) may be replaced: never a web root or a home directory.
    """
    output = output.absolute()
    try:
        info = os.lstat(output)
    except FileNotFoundError:
        kind = ABSENT
    except OSError as exc:
        raise _refused(output, f"cannot be examined ({reason(exc)})") from exc
    else:
        kind = _existing_kind(output, info)
    check_build_area(output)
    return kind


def _existing_kind(output: Path, info: os.stat_result) -> str:
    if stat.S_ISLNK(info.st_mode):
        if our_slot(output) is None:
            raise _refused(output, f"is a symbolic link to '{os.readlink(output)}'")
        return OURS
    if not stat.S_ISDIR(info.st_mode):
        raise _refused(output, "is not a directory")
    try:
        with os.scandir(output) as entries:
            if next(entries, None) is None:
                return EMPTY
    except OSError as exc:
        raise _refused(output, f"cannot be listed ({reason(exc)})") from exc
    if _is_our_catalog(output / "catalog.json"):
        return LEGACY
    raise _refused(output, "holds files this tool did not write")


def _is_our_catalog(path: Path) -> bool:
    """A catalog.json an older version of this tool wrote: a regular file with schema_version."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "schema_version" in data and "images" in data


def _refused(output: Path, what: str) -> UnsafeOutputError:
    return UnsafeOutputError(
        f"'{output}': {what}: not a site this tool published, so nothing in it was touched. "
        "Give --output a new or empty folder (it becomes a link to the tool's copies of the "
        "site), or move this one away first"
    )


def check_build_area(output: Path) -> None:
    """Refuse a build area holding a symbolic link or a stranger: it is never followed."""
    builds = builds_dir(output)
    for path in (builds, *(builds / s for s in SLOTS)):
        check_entry(path, output, stat.S_ISDIR, "a directory")
    for slot in SLOTS:
        build = builds / slot
        for path in (manifest_path(build), journal_path(build), key_path(build)):
            check_entry(path, output, stat.S_ISREG, "a regular file")


def check_entry(path: Path, output: Path, is_kind: Callable[[int], bool], kind: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise unsafe_area(path, output, f"cannot be examined ({reason(exc)})") from exc
    if stat.S_ISLNK(mode):
        raise unsafe_area(path, output, f"is a symbolic link (to '{os.readlink(path)}')")
    if not is_kind(mode):
        raise unsafe_area(path, output, f"is not {kind}")


def unsafe_area(path: Path, near: Path, what: str) -> UnsafeOutputError:
    """`near`: the output, or the build area itself."""
    return UnsafeOutputError(
        f"'{path}': {what}, in the build area of '{near}' where this tool keeps only what it "
        "made; nothing was followed or deleted. Remove it, then run again"
    )


def reason(exc: OSError) -> str:
    """The system's words for an error, never 'None'."""
    return exc.strerror or str(exc) or type(exc).__name__


def is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
