"""Problems are data: every per-file failure becomes one Problem, never an exception that stops
the run. `problem()` words one from its code's kind (`generator.problem_kinds`) and details."""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable
from dataclasses import dataclass, fields
from operator import attrgetter

from generator.problem_kinds import ERROR, KINDS, SEVERITIES, WARNING, Kind
from generator.redact import redact
from generator.shell import printable

__all__ = ["ERROR", "KINDS", "SEVERITIES", "WARNING", "Kind", "Problem", "problem"]


def problem(code: str, path: str, *, severity: str | None = None, **details: object) -> Problem:
    """The one way to make a Problem: the code's kind words it from the details given.

    `severity` overrides the kind's only where the finder decides it (header issues).
    Raises ValueError for an unknown code, a missing detail or one no template uses.
    """
    kind = KINDS.get(code)
    if kind is None:
        raise ValueError(
            f"unknown problem code {code!r}: register it in generator/problems.py KINDS"
        )
    unused = set(details) - placeholders(kind.message) - placeholders(kind.hint)
    if unused:
        raise ValueError(f"problem {code!r} got details no template uses: {sorted(unused)}")
    try:
        message, hint = kind.message.format(**details), kind.hint.format(**details)
    except KeyError as exc:
        raise ValueError(f"problem {code!r} needs the detail {exc.args[0]!r}") from None
    return Problem(path, code, severity or kind.severity, message, hint)


@functools.cache
def placeholders(template: str) -> frozenset[str]:
    """The names a template's `{name}` fields use (cached: a run makes thousands of problems)."""
    return frozenset(
        {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    )


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, with what to do about it."""

    path: str
    code: str
    severity: str
    message: str
    hint: str = ""

    def __post_init__(self) -> None:
        if self.code not in KINDS or self.severity not in SEVERITIES:
            raise ValueError(
                f"unregistered problem code or severity: {self.code!r}, {self.severity!r}"
            )
        # The one choke point: every message reaches stderr, the log, the site and the state
        # through a Problem, and may quote a file's bytes or a name that holds a secret.
        for name in ("path", "message", "hint"):
            object.__setattr__(self, name, redact(getattr(self, name)))

    def line(self) -> str:
        """One-line message for stderr: quoted path first, then the problem, then the fix.

        Control characters are escaped: a name must not drive the terminal or forge a line.
        """
        text = f"'{self.path}': {self.severity}: {self.message}"
        return printable(f"{text} ({self.hint})" if self.hint else text)


# A problem's field values in turn, as a tuple made in C. As a sort key it is the dataclass's own
# order, where `<` on Problems builds two tuples in Python per comparison (15,000 problems: half
# the time); as rows it is ten times quicker than `dataclasses.astuple`, which copies deeply.
PROBLEM_ORDER = attrgetter(*(f.name for f in fields(Problem)))


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once, in the order `sorted` gives Problems."""
    return sorted(set(problems), key=PROBLEM_ORDER)


def to_rows(problems: Iterable[Problem]) -> list[list[str]]:
    """Problems as plain rows, for a record kept in the state (JSON)."""
    return [list(PROBLEM_ORDER(p)) for p in problems]


def from_rows(rows: Iterable[list[str]]) -> tuple[Problem, ...]:
    """Problems recorded by an earlier run; a code this version no longer knows is left out."""
    restored = []
    for values in rows:
        try:
            restored.append(Problem(*values))
        except (TypeError, ValueError):
            continue
    return tuple(restored)
