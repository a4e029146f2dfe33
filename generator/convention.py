"""The naming convention's vocabulary, shared by the stage that parses names and the one
that labels them: the operating-system and STAR-library patterns and the size units.

Names are parsed in `generator.read.names`; the site labels values with these same patterns
without importing the reader.
"""

from __future__ import annotations

import re

SIZE_UNITS = {"K": 10, "M": 20, "G": 30, "T": 40, "P": 50}

OS_RE = re.compile(r"(?P<family>[A-Za-z]+)(?P<version>\d+(?:\.\d+)*[A-Za-z]?)?")
STAR_LIB_USUAL_RE = re.compile(r"(?i)sl\d{2}[a-z]")
MAX_SIZE_RE = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>[KMGTP])(?:i?B)?", re.IGNORECASE)


def parse_max_size(text: str) -> int | None:
    """`8GB` -> 8 * 2**30 bytes (binary units, as disk tools mean them); None if malformed."""
    match = MAX_SIZE_RE.fullmatch(text)
    if not match:
        return None
    return int(float(match["number"]) * (1 << SIZE_UNITS[match["unit"].upper()]))
