"""Atomic publishing: build the new site beside the old one, then swap one symlink.

Layout: `<output>` is a symlink to `.<name>.builds/<build id>/`. A reader (the web server)
always sees a whole site; a run killed at any moment leaves the previous site in place.
Files whose bytes did not change are hard-linked from the published build, not rewritten.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from generator import failpoints
from generator.errors import CatalogError

_LIBC = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if ctypes.util.find_library("c")
    else None
)
KEEP_BUILDS = 2  # the current one and the one before, for readers still inside it


class PublishError(CatalogError):
    """The new site could not be written (disk full, permissions); the old one is untouched."""


@dataclass(frozen=True)
class Published:
    """What a publish did: nothing at all, or which build it switched to and how."""

    changed: bool
    build: Path | None = None
    written: int = 0
    linked: int = 0


def builds_dir(output: Path) -> Path:
    output = output.absolute()
    return output.parent / f".{output.name}.builds"


def output_lock_path(output: Path) -> Path:
    """The lock file guarding one output directory (beside it, never inside the site)."""
    output = output.absolute()
    return output.parent / f".{output.name}.lock"


def current_build(output: Path) -> Path | None:
    """The build the output symlink points to, or a plain directory from an older layout."""
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


def digests(files: dict[str, bytes]) -> dict[str, str]:
    return {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())}


def unchanged(files: dict[str, bytes], output: Path) -> bool:
    """True when the published build holds exactly these files with these bytes."""
    build = current_build(output)
    return build is not None and _manifest(build) == digests(files)


def publish(files: dict[str, bytes], output: Path) -> Published:
    """Write a new build (linking unchanged files), swap it in, then remove stale builds."""
    output = output.absolute()
    if unchanged(files, output):
        return Published(changed=False)
    builds = builds_dir(output)
    builds.mkdir(parents=True, exist_ok=True)
    previous = current_build(output)
    build = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-"), dir=builds))
    build.chmod(0o755)
    try:
        written, linked = _write_build(files, build, previous)
        _swap(output, build)
    except OSError as exc:
        shutil.rmtree(build, ignore_errors=True)
        raise PublishError(
            f"'{build}': cannot write the new site: {exc.strerror}; the published site is unchanged"
        ) from exc
    _remove_stale(builds, keep={build, *([previous] if previous else [])})
    return Published(True, build, written, linked)


def _write_build(files: dict[str, bytes], build: Path, previous: Path | None) -> tuple[int, int]:
    """Hard-link files whose bytes are already published; write only the rest."""
    old = _manifest(previous) if previous else {}
    new = digests(files)
    written = linked = 0
    for index, (relpath, data) in enumerate(sorted(files.items())):
        if index == len(files) // 2:
            failpoints.reach("publishing")
        path = build / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if previous and old.get(relpath) == new[relpath] and _link(previous / relpath, path):
            linked += 1
            continue
        path.write_bytes(data)
        written += 1
    _manifest_path(build).write_text(json.dumps(new, indent=0, sort_keys=True))
    _fsync_tree(build)
    return written, linked


def _link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def _swap(output: Path, build: Path) -> None:
    """Point `output` at `build` with one rename of a symlink: atomic for every reader."""
    link = output.parent / f".{output.name}.link-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(build, output.parent))
    if output.exists() and not output.is_symlink():
        # Migrating from a plain directory: the only non-atomic moment, once per installation.
        os.rename(output, builds_dir(output) / f"legacy-{os.getpid()}")
    os.rename(link, output)
    _fsync_dir(output.parent)


def _remove_stale(builds: Path, keep: set[Path]) -> None:
    """Delete builds no reader can reach, newest kept first; half-written ones of killed runs too."""
    names = sorted((p for p in builds.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    kept = {p.resolve() for p in keep}
    for path in names:
        if path.resolve() in kept:
            continue
        if len(kept) < KEEP_BUILDS and _manifest_path(path).exists():
            kept.add(path.resolve())
            continue
        shutil.rmtree(path, ignore_errors=True)
        _manifest_path(path).unlink(missing_ok=True)


def _manifest_path(build: Path) -> Path:
    """Beside the build, not inside it: the manifest is never published."""
    return build.parent / f"{build.name}.manifest.json"


def _manifest(build: Path | None) -> dict[str, str]:
    if build is None:
        return {}
    try:
        return json.loads(_manifest_path(build).read_text())
    except (OSError, ValueError):
        return {}


def _fsync_tree(build: Path) -> None:
    """Make the build durable before it becomes visible (a crash must not publish empty files).

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
