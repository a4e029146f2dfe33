"""Warn about a name field spelled in another case than the same value in other names.

The inventory folds case to group `SL6.4` with `sl6.4` (one filter value, one search match);
the name that is not in the repository's usual spelling gets a `case_variant` warning so the
maintainers can rename it. The usual spelling is the one most names use (`generator.case_fold`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from generator.case_fold import fold, usual_spellings
from generator.problems import problem

if TYPE_CHECKING:
    from generator.read.parse import ParsedImage

# Field (as the message names it) -> how to read it from a parsed image.
FIELDS: dict[str, Callable[[ParsedImage], str | None]] = {
    "VM directory": lambda p: p.entry.vm,
    "operating system": lambda p: p.name.os,
    "instruction set": lambda p: p.name.arch,
    "STAR library": lambda p: p.name.star_lib,
}


def attach_case_variants(parsed: list[ParsedImage]) -> None:
    """Add a warning to each image whose field is not written the way most names write it."""
    for field, read in FIELDS.items():
        values = [value for value in map(read, parsed) if value]
        counts = Counter(values)
        usual = usual_spellings(values)
        for image in parsed:
            value = read(image)
            if not value or usual[fold(value)] == value:
                continue
            spelled = usual[fold(value)]
            image.problems.append(
                problem(
                    "case_variant",
                    image.entry.relpath,
                    field=field,
                    value=value,
                    usual=spelled,
                    count=counts[spelled],
                )
            )
