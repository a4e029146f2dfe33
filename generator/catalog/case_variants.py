"""Warn about a name field spelled in another case than the same value in other names.

The inventory folds case to group `SL6.4` with `sl6.4` (one filter value, one search match);
the name that is not in the repository's usual spelling gets a `case_variant` warning so the
maintainers can rename it. The usual spelling is the one most names use (`generator.case_fold`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from generator.case_fold import fold, usual_spellings
from generator.catalog.facts import ImageFacts
from generator.problems import Problem, problem

# Field (as the message names it) -> the attribute (of `ImageFacts`) that holds it.
FIELDS = {
    "VM directory": "vm",
    "operating system": "os",
    "instruction set": "arch",
    "STAR library": "star_lib",
}


def case_variants(images: Sequence[ImageFacts]) -> dict[str, list[Problem]]:
    """Image id -> a warning for each field not written the way most names write it."""
    found: dict[str, list[Problem]] = {}
    for field, attribute in FIELDS.items():
        values = [value for image in images if (value := getattr(image, attribute))]
        counts = Counter(values)
        usual = usual_spellings(values)
        for image in images:
            value = getattr(image, attribute)
            if not value or usual[fold(value)] == value:
                continue
            spelled = usual[fold(value)]
            found.setdefault(image.id, []).append(
                problem(
                    "case_variant",
                    image.path,
                    field=field,
                    value=value,
                    usual=spelled,
                    count=counts[spelled],
                )
            )
    return found
