"""Kinds found by the image lifecycle: front-matter fields, replacements, duplicates, sizes."""

from __future__ import annotations

from generator.problem_kinds.kind import WARNING, Kind

LIFECYCLE_KINDS: dict[str, Kind] = {
    "invalid_field_value": Kind(
        WARNING,
        "a lifecycle or key-parameter front-matter value of the wrong kind (a date, a size, a "
        "kernel version)",
        "front matter '{key}' is '{value}', not {expected}; it is left out",
        "write it like '{key}: {example}' in the description's front matter",
    ),
    "replacement_missing": Kind(
        WARNING,
        "a replaced_by naming no image of the repository",
        "replaced_by names '{target}', which is not an image of the repository",
        "write the replacement as <vm>/<name without extension>, as in its page's address",
    ),
    "duplicate_content": Kind(
        WARNING,
        "two images in the repository with the same content",
        "same content as '{other}' ({digest})",
        "remove one copy, or say in its description why both are kept",
    ),
    "sizes_exceed_max": Kind(
        WARNING,
        "front-matter sizes (os_size, swap, software_size) adding up to more than the maximum size",
        "the declared sizes add up to {declared}, more than the maximum size {maximum}",
        "correct the sizes in the description, or the maximum size in the name",
    ),
}
