"""Problems an image gets from outside its own files: from the other images (a field spelled in
another case than usual) and from the scan (someone else can replace its files)."""

from __future__ import annotations

from generator.catalog.case_variants import case_variants
from generator.catalog.model import Image, with_fields
from generator.problems import Problem, sorted_problems
from generator.read.scan import ImageEntry
from generator.read.trust import TRUST_CODES


def with_cross_checks(
    images: list[Image], entries: list[ImageEntry], scan_problems: list[Problem]
) -> list[Image]:
    """The images, each with the problems the others and the scan found about it."""
    found = case_variants(images)
    trust = [p for p in scan_problems if p.code in TRUST_CODES]
    if trust:
        for image_id, problems in _trust(entries, trust).items():
            found.setdefault(image_id, []).extend(problems)
    if not found:
        return images
    return [
        with_fields(image, problems=sorted_problems([*image.problems, *found[image.id]]))
        if image.id in found
        else image
        for image in images
    ]


def _trust(entries: list[ImageEntry], trust: list[Problem]) -> dict[str, list[Problem]]:
    """Show on each image page who else could replace its files (the scan found them)."""
    by_path: dict[str, list[Problem]] = {}
    for problem in trust:
        by_path.setdefault(problem.path, []).append(problem)
    found = {}
    for entry in entries:
        paths = [entry.relpath, *(m.relpath for m in entry.members)]
        paths += [s.relpath for s in (entry.checksum, entry.description) if s is not None]
        problems = [p for path in dict.fromkeys(paths) for p in by_path.get(path, ())]
        if problems:
            found[entry.id] = problems
    return found
