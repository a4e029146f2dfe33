"""Shell commands printed for people: check a copy, create a missing `.checksum`.

Every command is derived from the image's actual files and `.checksum` lines, quotes every name
with `generator.shell.quote` and puts `--` before names, so it works when pasted as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.read.checksum import ChecksumFile, escape_line, strip_dot
from generator.read.scan import ImageEntry
from generator.shell import quote


@dataclass(frozen=True)
class CheckCommand:
    """What to copy into an empty folder, and the command to run there."""

    copy: tuple[str, ...]  # paths relative to the VM directory, copied side by side
    command: str
    note: str  # why the command looks the way it does


def q(name: str) -> str:
    """A name as the shell reads it back, even with control characters in it."""
    return quote(name)


def member_names(entry: ImageEntry) -> list[str]:
    """Member names inside a directory image (the file name for a single file)."""
    return [m.relpath.rsplit("/", 1)[-1] for m in entry.members]


def create_command(entry: ImageEntry) -> str:
    """Run in the VM directory: writes `<stem>.checksum` beside the image, for files and dirs.

    `md5sum DIR` fails, and `*` would catch nested directories and inner sidecars, so the
    members are listed one by one.
    """
    target = q(f"{entry.stem}.checksum")
    if not entry.is_dir:
        return f"md5sum -- {q(entry.name)} > {target}"
    names = " ".join(q(n) for n in member_names(entry))
    return f"cd -- {q(entry.name)} && md5sum -- {names} > ../{target}"


def sidecar_inside(entry: ImageEntry) -> bool:
    return bool(entry.checksum and entry.checksum.relpath.count("/") == 2)


def check_command(entry: ImageEntry, checksum: ChecksumFile | None) -> CheckCommand | None:
    """The "check your copy" command: md5sum -c on the sidecar when it reads as written there,
    else the expected digests fed to md5sum -c on its standard input."""
    if checksum is None or checksum.error or not checksum.expected or entry.checksum is None:
        return None
    return _direct(entry, checksum) or _embedded(entry, checksum)


def _direct(entry: ImageEntry, checksum: ChecksumFile) -> CheckCommand | None:
    """`md5sum -c STEM.checksum`, from the folder or from inside the copied directory."""
    if not checksum.plain or checksum.absolute or checksum.extra or checksum.renamed:
        return None
    names = {strip_dot(line.name or "") for line in checksum.lines}
    inside = sidecar_inside(entry)
    sidecar = f"{entry.stem}.checksum"
    copy = (entry.name,) if inside else (entry.name, sidecar)
    members = member_names(entry)
    from_folder = {f"{entry.name}/{n}" for n in members} if entry.is_dir else {entry.name}
    note = "The command reads the .checksum file" + (" inside the directory." if inside else ".")
    if names <= from_folder:
        path = f"{entry.name}/{sidecar}" if inside else sidecar
        return CheckCommand(copy, f"md5sum -c -- {q(path)}", note)
    if entry.is_dir and names <= set(members):
        path = sidecar if inside else f"../{sidecar}"
        return CheckCommand(copy, f"cd -- {q(entry.name)} && md5sum -c -- {q(path)}", note)
    return None


def _embedded(entry: ImageEntry, checksum: ChecksumFile) -> CheckCommand:
    """`printf '%s\\n' 'HASH  NAME' | md5sum -c -`: the .checksum's digests, the copy's names."""
    lines = []
    for member in entry.members:
        name = member.relpath.rsplit("/", 1)[-1]
        lines += [escape_line(want.hex, name) for want in checksum.expected.get(member.relpath, ())]
    command = f"printf '%s\\n' {' '.join(q(line) for line in lines)} | md5sum -c -"
    if entry.is_dir:
        command = f"cd -- {q(entry.name)} && {command}"
    note = (
        "md5sum -c cannot read this .checksum as written in a copy, so the command carries "
        "the MD5 values it gives."
    )
    return CheckCommand((entry.name,), command, note)
