"""Write an export into a directory without ever touching a file the tool did not write.

The directory must be missing, empty, or hold an earlier export of ours: a marker file lists
what that export wrote. Only those files are replaced or removed; a directory holding
anything else is refused before a single byte is written.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.errors import CatalogError, ExportRefusedError

MARKER = ".star-vm-catalog-export.json"


@dataclass(frozen=True)
class Written:
    """What an export run did to its directory."""

    written: int
    unchanged: int
    removed: int


def write_export(output: Path, files: dict[str, bytes], export_format: str) -> Written:
    """Make `output` hold `files` (and the marker); refuse a directory that is not ours."""
    previous = previous_export(output)
    for relpath in sorted(files):
        _check_target(output, relpath, previous)
    try:
        output.mkdir(parents=True, exist_ok=True)
        # Claim every path first: a run killed half-way leaves files the next run recognises.
        _write_marker(output, export_format, previous | set(files))
        written = sum(_update(output, relpath, data) for relpath, data in sorted(files.items()))
        stale = sorted(previous - set(files), reverse=True)
        removed = sum(_remove(output, relpath) for relpath in stale)
        _write_marker(output, export_format, set(files))
    except OSError as exc:
        where = exc.filename or output
        raise CatalogError(f"'{where}': cannot write the export: {exc.strerror}") from exc
    return Written(written, len(files) - written, removed)


def previous_export(output: Path) -> set[str]:
    """The files an earlier export wrote here; empty for a new directory; refuses a foreign one."""
    if not os.path.lexists(output):
        return set()
    if output.is_symlink():
        raise _refuse(output, "is a symbolic link (give the directory it leads to)")
    if not output.is_dir():
        raise _refuse(output, "is not a directory")
    marker = output / MARKER
    if not os.path.lexists(marker):
        if any(output.iterdir()):
            raise _refuse(output, f"is not empty and holds no {MARKER} of an earlier export")
        return set()
    return _read_marker(output, marker)


def _read_marker(output: Path, marker: Path) -> set[str]:
    try:
        if marker.is_symlink():
            raise ValueError("a symbolic link")
        data = json.loads(marker.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, list) or not all(safe_relpath(f) for f in files):
            raise ValueError("an unexpected file list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _refuse(output, f"has a {MARKER} that cannot be trusted ({exc})") from exc
    return set(files)


def safe_relpath(relpath: object) -> bool:
    """A relative path of plain components: nothing absolute, hidden, `..` or empty."""
    if not isinstance(relpath, str) or not relpath or "\0" in relpath or "\\" in relpath:
        return False
    parts = PurePosixPath(relpath).parts
    return relpath == "/".join(parts) and not any(p.startswith(".") or p == "/" for p in parts)


def _check_target(output: Path, relpath: str, previous: set[str]) -> None:
    """Refuse to write over anything we did not write, or through a symbolic link."""
    if not safe_relpath(relpath):
        raise _refuse(output, f"would receive the unsafe path '{relpath}'")
    odd = _odd_parent(output, relpath)
    if odd is not None:
        raise _refuse(output, f"has '{odd}', which is not a directory of ours")
    target = output / relpath
    if os.path.lexists(target) and relpath not in previous:
        raise _refuse(output, f"already has '{relpath}', which an earlier export did not write")


def _update(output: Path, relpath: str, data: bytes) -> int:
    """Write one file unless it already holds exactly `data` (a re-export touches only changes)."""
    path = output / relpath
    try:
        same = stat.S_ISREG(path.lstat().st_mode) and path.read_bytes() == data
    except OSError:
        same = False
    if same:
        return 0
    _write(output, relpath, data)
    return 1


def _odd_parent(output: Path, relpath: str) -> Path | None:
    """The first folder on the way to `relpath` that is a symbolic link or not a folder."""
    path = output
    for part in PurePosixPath(relpath).parts[:-1]:
        path = path / part
        if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
            return path
    return None


def _write(output: Path, relpath: str, data: bytes) -> None:
    """Write then rename: a reader sees the old file or the new one, never a symlink's target."""
    path = output / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove(output: Path, relpath: str) -> int:
    """Remove one file an earlier export wrote (if it is still a plain file), then empty dirs."""
    path = output / relpath
    if _odd_parent(output, relpath) is not None:
        return 0  # never through a link: the file it reaches is not ours
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return 0
    except FileNotFoundError:
        return 0
    path.unlink()
    for parent in path.parents:
        if parent == output:
            break
        try:
            parent.rmdir()
        except OSError:
            break  # not empty: something else lives there
    return 1


def _write_marker(output: Path, export_format: str, files: set[str]) -> None:
    data = {"format": export_format, "files": sorted(files)}
    _write(output, MARKER, (json.dumps(data, indent=1) + "\n").encode("utf-8"))


def _refuse(output: Path, problem: str) -> ExportRefusedError:
    return ExportRefusedError(
        f"'{output}': {problem}; nothing was written: give a new or empty directory, "
        "or one an earlier export wrote"
    )
