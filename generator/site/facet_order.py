"""Facet values as people look for them: case variants as one value, OS versions in order.

Values that differ only in case are one facet value, shown and linked in the usual spelling
(`generator.case_fold`); the browser script matches them by their folded form, so `os=SL6.4`
and `os=sl6.4` select the same images. Operating systems are grouped by family and sorted by
version naturally (5.3 < 5.10 < 6.2), STAR libraries by release (sl05c < sl10k < SL13b), word
sizes by number; the other facets put the most common value first. "" (the name did not give
the field) always comes last.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from generator.case_fold import fold, usual_spellings
from generator.convention import OS_RE
from generator.site.labels import OS_FAMILIES, facet_label

SHOWN = 8  # values of a facet shown before its "show N more" control


@dataclass(frozen=True)
class FacetValue:
    value: str  # the usual spelling: what a checkbox puts in the URL
    label: str
    count: int
    group: str = ""  # a heading above the first value of a group (OS families)
    extra: bool = False  # beyond the first SHOWN values: behind "show N more"


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """`5.10` after `5.3`: digit runs compare as numbers, the rest without case."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.findall(r"\d+|\D+", fold(text))
    )


def os_family(value: str) -> str:
    """The family heading of an OS value: `sl5.3` -> `Scientific Linux`."""
    match = OS_RE.fullmatch(value)
    if not match:
        return value
    family = match["family"]
    return OS_FAMILIES.get(family.lower(), family)


def _by_count(counts: Counter[str]) -> list[str]:
    return sorted(counts, key=lambda v: (-counts[v], natural_key(v)))


def _by_name(counts: Counter[str]) -> list[str]:
    return sorted(counts, key=natural_key)


def _by_family(counts: Counter[str]) -> list[str]:
    return sorted(counts, key=lambda v: (fold(os_family(v)), natural_key(v)))


ORDERS: dict[str, Callable[[Counter[str]], list[str]]] = {
    "os": _by_family,
    "star_lib": _by_name,
    "word_size": _by_name,
    "kernel": _by_name,
    "min_ram": _by_name,
}


def facet_values(name: str, values: list[str]) -> list[FacetValue]:
    """One entry per case-folded value, in the facet's order, with counts."""
    usual = usual_spellings(v for v in values if v)
    counts = Counter(usual[fold(v)] if v else "" for v in values)
    unknown = counts.pop("", 0)
    ordered = ORDERS.get(name, _by_count)(counts)
    if unknown:
        ordered.append("")
    families = Counter(os_family(v) for v in ordered if v) if name == "os" else Counter()
    result = []
    previous_group = ""
    for index, value in enumerate(ordered):
        group = os_family(value) if name == "os" and value else ""
        heading = group if group != previous_group and families[group] > 1 else ""
        previous_group = group
        count = counts[value] if value else unknown
        result.append(FacetValue(value, facet_label(name, value), count, heading, index >= SHOWN))
    return result
