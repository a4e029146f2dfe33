"""Atomic publishing into two alternating copies of the site, swapped by one symlink.

Layout: `<output>` is a symlink to `.<name>.builds/a/` or `.../b/`. Each run brings the copy
that is *not* published up to date (writing only files whose bytes differ from what that copy
holds, each in place: no reader sees that copy yet) and then points the link at it with one
`rename`. A reader always sees a whole site; a run killed at any moment leaves the published
copy untouched.
Updating in place, rather than making a fresh tree, matters: a new tree of 10,000 permalink
directories costs seconds of `mkdir` and as many of `rmdir` to clean up.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator import failpoints
from generator.errors import CatalogError
from generator.publish.in_place import CREATE, link_to, make_folders, put, put_changed
from generator.publish.made_pages import MadePages
from generator.publish.manifest import (
    Manifest,
    digest_of,
    digests,
    journal_bytes,
    journal_path,
    key_path,
    manifest_parts,
    manifest_path,
    read_manifest,
)
from generator.publish.output_checks import (
    EMPTY,
    LEGACY,
    OURS,
    SLOTS,
    builds_dir,
    check_entry,
    check_output,
    is_real_dir,
    our_slot,
    reason,
    unsafe_area,
)
from generator.site.deferred import Chunked, Deferred, Digested, made_when_written, parts_of
from generator.site.page_memo import Reused, page_keys, pages_parts, pages_path, read_pages

# syncfs from the C library the interpreter already runs on: `ctypes.util.find_library` would
# run `ldconfig -p` (a program, 13 ms) at every start, an unchanged build's included.
_SYNCFS = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)


class PublishError(CatalogError):
    """The new site could not be written (disk full, permissions); the old one is untouched."""


@dataclass(frozen=True)
class Published:
    """What a publish did: nothing at all, or which copy it switched to and how."""

    changed: bool
    build: Path | None = None
    written: int = 0
    kept: int = 0


def current_build(output: Path) -> Path | None:
    """The copy the output symlink points to, or a plain directory from an older layout."""
    output = output.absolute()
    if output.is_symlink():
        target = our_slot(output)
        return target if target is not None and is_real_dir(target) else None
    return output if output.is_dir() else None


def published_key(output: Path) -> str | None:
    """The key the published copy was made with (see `deploy.site_key`), if any."""
    build = our_slot(output)
    try:
        return key_path(build).read_text() if build else None
    except OSError:
        return None


def publish(files: dict[str, bytes], output: Path, key: str = "") -> Published:
    """Bring the unpublished copy up to date, then swap it in with one rename.

    A `Deferred` file (`site.deferred`) is made when it is written and dropped right after, so
    the site is never in memory whole; a `Chunked` one is made, digested and written part by
    part. Their digests are known only then.
    """
    output = output.absolute()
    kind = check_output(output)
    new = digests({p: data for p, data in files.items() if not made_when_written(data)})
    current = our_slot(output) if kind == OURS else None
    if current is not None and is_real_dir(current) and _holds(current, files, new):
        _note_page_keys(current, files)
        return Published(changed=False)
    target = _other_slot(output, current)
    try:
        written, kept = _update(target, files, new)
        _write(key_path(target), key.encode())
        _sync(target)
        _swap(output, target)
    except OSError as exc:
        raise PublishError(
            f"'{exc.filename or target}': cannot write the new site: {reason(exc)}; "
            "the published site is unchanged"
        ) from exc
    return Published(True, target, written, kept)


def _holds(build: Path, files: Mapping[str, object], new: dict[str, str]) -> bool:
    """Whether the copy's manifest records exactly these files with these bytes.

    Deferred files are made one at a time to be digested (a chunked one part by part), and only
    once every other file matched (then the site is most likely unchanged, as when only the
    program's identity did).
    """
    manifest = read_manifest(build, share=new)
    if manifest.keys() != files.keys() or any(manifest[p] != d for p, d in new.items()):
        return False
    with MadePages(files) as pages:
        return all(
            manifest[p] == digest_of(parts_of(_made(pages, p, data)))
            for p, data in sorted(files.items())
            if made_when_written(data)
        )


def _made(pages: MadePages, relpath: str, data: Deferred | Chunked) -> bytes | Chunked:
    """A file made when written, made: a deferred file's bytes (a page as a worker rendered
    it); a chunked file as it is, since it is made part by part each time it is read."""
    return pages.bytes_of(relpath, data) if isinstance(data, Deferred) else data


def _note_page_keys(build: Path, files: Mapping[str, object]) -> None:
    """Record this run's page keys for a copy found to hold every page's bytes already.

    After an upgrade every key is new while the pages are not: the run renders each page to
    compare it, and without this the next build would find none of its keys and render them
    all again. The keys name only files just checked against the manifest.
    """
    keys = page_keys(files)
    if read_pages(build) == keys:
        return
    with contextlib.suppress(OSError):  # only a saving lost: the next build records them
        _write(pages_path(build), pages_parts(keys))


def _other_slot(output: Path, current: Path | None) -> Path:
    builds = builds_dir(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    _make_dir(builds, output)
    name = current.name if current is not None else None
    return builds / (SLOTS[1] if name == SLOTS[0] else SLOTS[0])


def _make_dir(path: Path, output: Path) -> None:
    """Create a directory of the build area, or accept a real one: never a link to elsewhere."""
    try:
        os.mkdir(path)
    except FileExistsError:
        check_entry(path, output, stat.S_ISDIR, "a directory")


def _update(target: Path, files: dict[str, bytes], new: dict[str, str]) -> tuple[int, int]:
    """Make `target` hold `files`, deleting or replacing only what its manifest says we wrote.

    A journal is written first: every path this run may touch (those whose bytes may change,
    those it adds or deletes), so a run killed half-way leaves a copy whose untrusted files the
    next run rewrites, and whose every file is still known as ours (`manifest.read_manifest`).
    The manifest is rewritten once the copy holds `files`, then the journal is let go.
    A deferred or chunked file's digest is not known before it is made: the journal lists it
    untrusted. `new` gains those digests as the files are written. A chunked file is made once,
    part by part, and compared with the copy's file as it is written (`in_place.put_changed`).
    """
    old = _adopt_slot(target, new)
    touched = _touched(old, files, new)
    # Only the touched paths' entries are asked for from here on: the rest of the old manifest
    # (27 MB at 100,000 images) is let go before any file is made.
    old = {p: old[p] for p in touched if p in old}
    _write(journal_path(target), journal_bytes(touched))
    key_path(target).unlink(missing_ok=True)
    pages_path(target).unlink(missing_ok=True)  # page keys name only files the manifest vouches for
    _make_dir(target, target.parent)
    real_dirs: set[Path] = set()
    # Only journaled paths can need deleting or writing (the others' bytes are the copy's
    # already): a handful for an edit, not the 20,000 files of a 10,000-image site.
    for relpath in reversed([p for p in touched if p not in files]):
        _refuse_links_inside(target, target / relpath, real_dirs)
        _remove(target, relpath)
    written, made = 0, set[str]()
    writes = {p: files[p] for p in touched if p in files}
    del touched
    if not writes:
        failpoints.reach("publishing")
    with MadePages(writes) as pages:  # rendered on every core, taken here in this order
        for index, (relpath, data) in enumerate(writes.items()):
            if index == len(writes) // 2:
                failpoints.reach("publishing")
            if isinstance(data, Chunked):  # made once, written where it differs
                make_folders(target, relpath, made)
                new[relpath], changed = _put_changed(target, relpath, data, old)
                written += changed
                continue
            if made_when_written(data):  # made, digested, written if new, then let go
                data = _made(pages, relpath, data)
                new[relpath] = digest_of(parts_of(data))
            if old.get(relpath) != new[relpath]:
                make_folders(target, relpath, made)
                _put(target, relpath, data, old)
                written += 1
    del old, writes
    _write(manifest_path(target), manifest_parts(new))
    journal_path(target).unlink(missing_ok=True)
    _write(pages_path(target), pages_parts(page_keys(files)))
    return written, len(new) - written


def _touched(old: Manifest, files: Mapping[str, object], new: Mapping[str, str]) -> list[str]:
    """The paths whose bytes may change, sorted: those gone, added, untrusted or of another
    digest (a deferred file's is not known yet). Without a set of every path of both
    (200,000 at 100,000 images: a 24 MB moment at the build's fullest)."""
    touched = {p for p in files if (digest := old.get(p)) is None or digest != new.get(p)}
    touched.update(p for p in old if p not in files)
    return sorted(touched)


def _put(
    target: Path, relpath: str, data: bytes | Reused | Digested | Chunked, old: Manifest
) -> None:
    """Write one file of the copy in place (see `in_place.put`); a page the other copy holds
    becomes a second name of that copy's file (`in_place.link_to`)."""
    path = _path_to_write(target, relpath, old)
    if isinstance(data, Reused):
        other_copy = data.copy != target and data.copy.parent == target.parent
        if other_copy and link_to(data.source, path, data.sha256):
            return
    put(path, parts_of(data), relpath in old)


def _put_changed(target: Path, relpath: str, data: Chunked, old: Manifest) -> tuple[str, bool]:
    """A chunked file made once: its digest, and whether the copy's file had to be written."""
    return put_changed(_path_to_write(target, relpath, old), data.parts(), relpath in old)


def _path_to_write(target: Path, relpath: str, old: Manifest) -> str:
    path = f"{target}/{relpath}"
    if relpath in old and old[relpath] is None:  # journaled by a killed run
        _temporary(Path(path)).unlink(missing_ok=True)  # (an older version wrote beside)
    return path


def _refuse_links_inside(target: Path, path: Path, real_dirs: set[Path]) -> None:
    """Refuse a folder of the copy replaced by a link: nothing is written or deleted through it.

    Each folder is looked at once per run (`real_dirs`); a missing one is made by `mkdir`.
    """
    for parent in path.parents:
        if parent == target or parent in real_dirs:
            return
        try:
            mode = os.lstat(parent).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode):
            raise unsafe_area(
                parent, target.parent, f"is a symbolic link (to '{os.readlink(parent)}')"
            )
        real_dirs.add(parent)


def _adopt_slot(target: Path, new: Mapping[str, str]) -> Manifest:
    """The slot's manifest (its digests equal to `new`'s shared, see `read_manifest`); a slot
    holding files with no manifest at all is moved aside, kept.

    Only an older version, killed while writing, leaves such a copy: its files may be ours,
    but nothing records them, so they are neither trusted nor deleted.
    """
    old = read_manifest(target, share=new)
    recorded = manifest_path(target).exists() or journal_path(target).exists()
    if old or recorded or not is_real_dir(target):
        return old
    with os.scandir(target) as entries:
        if next(entries, None) is not None:
            os.rename(target, target.parent / f"{target.name}.unrecorded-{_stamp()}")
    return {}


def _stamp() -> str:
    now = datetime.datetime.now(datetime.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{os.getpid()}"


def _write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write then rename: a reader sees the old file or the new one; no link is followed.
    `data`: the bytes, or the parts they are made in, written one after the other.

    The temporary name is created exclusively, so a link planted there is never written through.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, CREATE, 0o666)
    with open(fd, "wb") as handle:
        for part in (data,) if isinstance(data, bytes) else data:
            handle.write(part)
    os.replace(temporary, path)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _remove(target: Path, relpath: str) -> None:
    """Remove a file the new site no longer has, and directories it leaves empty."""
    path = target / relpath
    path.unlink(missing_ok=True)
    _temporary(path).unlink(missing_ok=True)  # a killed run's half-written file is ours too
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
    text = os.path.relpath(target, output.parent)
    _remove_stale_link(link, output)
    link.symlink_to(text)
    try:
        kind = check_output(output)  # again: the output may have changed while we rendered
        if kind == EMPTY:
            os.rmdir(output)  # fails, touching nothing, if a file appeared meanwhile
        elif kind == LEGACY:
            # Migrating a site of an older version: moved aside and kept, never deleted.
            os.rename(output, builds_dir(output) / f"legacy-{_stamp()}")
        os.rename(link, output)
    finally:
        if link.is_symlink():
            link.unlink()
    _fsync_dir(output.parent)


def _remove_stale_link(link: Path, output: Path) -> None:
    """A link left by a killed run with our process id is ours only if it points at a copy."""
    try:
        text = os.readlink(link)
    except FileNotFoundError:
        return
    except OSError as exc:  # not a link: someone else's file
        raise unsafe_area(link, output, f"is not a link this tool made ({reason(exc)})") from exc
    if text not in {f"{builds_dir(output).name}/{s}" for s in SLOTS}:
        raise unsafe_area(link, output, f"is a symbolic link to '{text}'")
    link.unlink()


def _sync(build: Path) -> None:
    """Make the copy durable before it becomes visible (a crash must not publish empty files).

    syncfs flushes only the output's file system, not every disk of the server.
    """
    fd = os.open(build, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        if _SYNCFS is None or _SYNCFS(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
