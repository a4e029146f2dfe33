"""Atomic publishing into two alternating copies of the site, swapped by one symlink.

Layout: `<output>` is a symlink to `.<name>.builds/a/` or `.../b/`. Each run brings the copy
that is *not* published up to date (writing only files whose bytes differ from what that copy
holds, each by write-then-rename) and then points the link at it with one `rename`. A reader
always sees a whole site; a run killed at any moment leaves the published copy untouched.
Updating in place, rather than making a fresh tree, matters: a new tree of 10,000 permalink
directories costs seconds of `mkdir` and as many of `rmdir` to clean up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator import failpoints
from generator.errors import CatalogError

SLOTS = ("a", "b")
_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME, use_errno=True) if _LIBC_NAME else None


class PublishError(CatalogError):
    """The new site could not be written (disk full, permissions); the old one is untouched."""


@dataclass(frozen=True)
class Published:
    """What a publish did: nothing at all, or which copy it switched to and how."""

    changed: bool
    build: Path | None = None
    written: int = 0
    kept: int = 0


def builds_dir(output: Path) -> Path:
    output = output.absolute()
    return output.parent / f".{output.name}.builds"


def output_lock_path(output: Path) -> Path:
    """The lock file guarding one output directory (beside it, never inside the site)."""
    output = output.absolute()
    return output.parent / f".{output.name}.lock"


def current_build(output: Path) -> Path | None:
    """The copy the output symlink points to, or a plain directory from an older layout."""
    output = output.absolute()
    if output.is_symlink():
        target = output.parent / os.readlink(output)
        return target if target.is_dir() else None
    return output if output.is_dir() else None


def published_bytes(output: Path, relpath: str) -> bytes | None:
    """A file of the published site, or None."""
    build = current_build(output)
    try:
        return (build / relpath).read_bytes() if build else None
    except OSError:
        return None


def published_key(output: Path) -> str | None:
    """The key the published copy was made with (see `deploy.site_key`), if any."""
    build = current_build(output)
    try:
        return _key_path(build).read_text() if build else None
    except OSError:
        return None


def digests(files: dict[str, bytes]) -> dict[str, str]:
    return {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())}


def publish(files: dict[str, bytes], output: Path, key: str = "") -> Published:
    """Bring the unpublished copy up to date, then swap it in with one rename."""
    output = output.absolute()
    new = digests(files)
    current = current_build(output)
    if current is not None and _manifest(current) == new:
        return Published(changed=False)
    target = _other_slot(output, current)
    try:
        written, kept = _update(target, files, new)
        _key_path(target).write_text(key)
        _sync(target)
        _swap(output, target)
    except OSError as exc:
        raise PublishError(
            f"'{target}': cannot write the new site: {exc.strerror}; the published site is unchanged"
        ) from exc
    _remove_strays(builds_dir(output), keep={target, current})
    return Published(True, target, written, kept)


def _other_slot(output: Path, current: Path | None) -> Path:
    builds = builds_dir(output)
    builds.mkdir(parents=True, exist_ok=True)
    name = current.name if current is not None and current.parent == builds else None
    return builds / (SLOTS[1] if name == SLOTS[0] else SLOTS[0])


def _update(target: Path, files: dict[str, bytes], new: dict[str, str]) -> tuple[int, int]:
    """Make `target` hold exactly `files`; its manifest says what it holds, when it can be trusted.

    The manifest is removed first: a run killed half-way leaves a copy that is never trusted
    again, so the next run rewrites it whole.
    """
    old = _manifest(target)
    _manifest_path(target).unlink(missing_ok=True)
    _key_path(target).unlink(missing_ok=True)
    if not old and target.exists():
        shutil.rmtree(target)  # left by a killed run: its contents are unknown
    target.mkdir(exist_ok=True)
    for relpath in sorted(set(old) - set(new), reverse=True):
        _remove(target, relpath)
    written = 0
    for index, relpath in enumerate(sorted(new)):
        if index == len(new) // 2:
            failpoints.reach("publishing")
        if old.get(relpath) != new[relpath]:
            _write(target / relpath, files[relpath])
            written += 1
    _manifest_path(target).write_text(json.dumps(new, indent=0, sort_keys=True))
    return written, len(new) - written


def _write(path: Path, data: bytes) -> None:
    """Write then rename: a reader still inside this copy sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _remove(target: Path, relpath: str) -> None:
    """Remove a file the new site no longer has, and directories it leaves empty."""
    path = target / relpath
    path.unlink(missing_ok=True)
    for parent in path.parents:
        if parent == target:
            break
        try:
            parent.rmdir()
        except OSError:
            break  # not empty: other files live there


def _swap(output: Path, target: Path) -> None:
    """Point `output` at `target` with one rename of a symlink: atomic for every reader."""
    link = output.parent / f".{output.name}.link-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(target, output.parent))
    if output.exists() and not output.is_symlink():
        # Migrating from a plain directory: the only non-atomic moment, once per installation.
        os.rename(output, builds_dir(output) / "legacy")
    os.rename(link, output)
    _fsync_dir(output.parent)


def _remove_strays(builds: Path, keep: set[Path | None]) -> None:
    """Delete anything in the builds directory that is neither copy (a migrated old site)."""
    wanted = {p.name for p in keep if p is not None} | set(SLOTS)
    for path in builds.iterdir():
        name = path.name.split(".", 1)[0]
        if name not in wanted:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _manifest_path(build: Path) -> Path:
    """Beside the copy, not inside it: the manifest is never published."""
    return build.parent / f"{build.name}.manifest.json"


def _key_path(build: Path) -> Path:
    return build.parent / f"{build.name}.key"


def _manifest(build: Path | None) -> dict[str, str]:
    if build is None:
        return {}
    try:
        return json.loads(_manifest_path(build).read_text())
    except (OSError, ValueError):
        return {}


def _sync(build: Path) -> None:
    """Make the copy durable before it becomes visible (a crash must not publish empty files).

    syncfs flushes only the output's file system, not every disk of the server.
    """
    fd = os.open(build, os.O_RDONLY)
    try:
        if _LIBC is None or _LIBC.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
