"""Problem kinds: each code's severity, meaning (as in the README) and wording templates.

Every code lives in one module of this package by where it is found; KINDS joins them.
"""

from __future__ import annotations

from generator.problem_kinds.case_variants import CASE_KINDS
from generator.problem_kinds.checks import CHECK_KINDS
from generator.problem_kinds.kind import ERROR, SEVERITIES, WARNING, Kind
from generator.problem_kinds.lifecycle import LIFECYCLE_KINDS
from generator.problem_kinds.names import NAME_KINDS
from generator.problem_kinds.sidecars import SIDECAR_KINDS
from generator.problem_kinds.signing import SIGNING_KINDS

# Every problem code; the README lists them all (a test checks it).
KINDS: dict[str, Kind] = {
    **NAME_KINDS,
    **SIDECAR_KINDS,
    **CHECK_KINDS,
    **SIGNING_KINDS,
    **LIFECYCLE_KINDS,
    **CASE_KINDS,
}

__all__ = ["ERROR", "KINDS", "SEVERITIES", "WARNING", "Kind"]
