"""Values that differ only in case (`SL6.4`, `sl6.4`) are one value for grouping and matching.

Shared by the reader (which warns about the spelling that is not the usual one) and the site
(which groups facet values): both must agree on which spelling is the usual one. Folding never
changes what is stored or published: URLs and catalog.json keep each name's own spelling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def fold(value: str) -> str:
    """The key values are grouped and matched by."""
    return value.casefold()


def usual_spellings(values: Iterable[str]) -> dict[str, str]:
    """Folded value -> the spelling most names use (a tie goes to the lower-case one)."""
    counts = Counter(values)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] != kv[0].lower(), kv[0]))
    usual: dict[str, str] = {}
    for value, _ in ranked:
        usual.setdefault(fold(value), value)
    return usual
