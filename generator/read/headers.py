"""Read what each image file really is from its headers (a few KB), and compare with its name."""

from __future__ import annotations

from pathlib import Path

from generator.problems import Problem, problem
from generator.read.disk_formats import DiskFormat, FormatIssue, check_consistency, detect_format
from generator.read.format_tables import FormatRules, ImageFormat
from generator.read.names import ImageName
from generator.read.scan import ImageEntry

CONTAINERS = frozenset({"qcow", "qcow2", "vdi", "vmdk", "vhd", "vhdx", "iso9660"})
# Verification reports unreadable files with their status; saying it twice helps nobody.
LEFT_TO_VERIFY = frozenset({"unreadable"})


def inspect_image(
    root: Path, entry: ImageEntry, name: ImageName, rules: FormatRules
) -> tuple[ImageFormat, list[Problem]]:
    """Detect every member's format; the image's is its main disk's (see `main_disk`)."""
    if entry.unreadable or not entry.members:
        return ImageFormat(), []
    found = {m.relpath: detect_format(root / m.relpath, m.size, m, root) for m in entry.members}
    issues = [(path, issue) for path, fmt in found.items() for issue in fmt.issues]
    disk = main_disk(list(found.values()), sum(m.size for m in entry.members))
    consistency = check_consistency(
        entry.vm,
        name.extension,
        name.max_size_bytes,
        disk,
        rules.vm_formats,
        rules.extension_formats,
    )
    issues += [(entry.relpath, issue) for issue in consistency]
    members = (
        {path.rsplit("/", 1)[1]: fmt.format for path, fmt in found.items()} if entry.is_dir else {}
    )
    image = ImageFormat(disk.format, disk.virtual_size_bytes, disk.compression, members)
    return image, [_problem(path, i) for path, i in issues if i.code not in LEFT_TO_VERIFY]


def main_disk(formats: list[DiskFormat], total_size: int) -> DiskFormat:
    """One member's format stands for the image: the container with the largest virtual size.

    A split VMDK's text descriptor sums all its extents, so it wins over each extent; a
    directory of plain files is a raw disk as large as all of them together.
    """
    containers = [f for f in formats if f.format in CONTAINERS and not f.issues]
    if containers:
        return max(containers, key=lambda f: f.virtual_size_bytes or 0)
    if len(formats) == 1:
        return formats[0]
    return DiskFormat("raw", total_size, None, None, None)


def _problem(path: str, issue: FormatIssue) -> Problem:
    """The detector words each header issue and decides its severity; the registry adds the hint."""
    return problem(issue.code, path, severity=issue.severity, detail=issue.message)
