"""Kinds about names that spell a value in another case than the rest of the repository."""

from __future__ import annotations

from generator.problem_kinds.kind import RENAME, WARNING, Kind

CASE_KINDS: dict[str, Kind] = {
    "case_variant": Kind(
        WARNING,
        "a name field in another case than the same value elsewhere (`SL6.4` beside `sl6.4`)",
        "{field} is written {value}, while {count} other names write it {usual}; the inventory "
        "groups them as one value",
        RENAME + " (write {usual})",
    ),
}
