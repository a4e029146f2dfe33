"""A problem's fix hint split into words and the command it names, so pages can offer a
copy button for the command instead of making people select it out of a sentence.

The command's place is read from the code's hint template (`KINDS`): it follows
"run: " or is the `chmod` the template starts with. Only the literal text around it is
matched, so a hint that does not fit its template (redacted, say) keeps no button.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass

from generator.problems import KINDS, Problem

# Where a command starts, and whether that marker is part of the words before it.
COMMAND_STARTS = (("run: ", True), ("chmod ", False))
IN_REPOSITORY = "in the repository, run:"  # a hint that is only a command (paths from the top)


@dataclass(frozen=True)
class Fix:
    """The hint as text before the command, the command, and any text after it."""

    id: str  # the element id of the command, unique in its page
    before: str
    command: str = ""
    after: str = ""


@functools.cache
def command_frame(code: str) -> tuple[str, str] | None:
    """The literal text before and after the command in `code`'s hint template."""
    template = KINDS[code].hint
    for marker, in_words in COMMAND_STARTS:
        at = template.find(marker)
        if at < 0 or "{" in template[:at]:
            continue
        prefix = template[: at + len(marker)] if in_words else template[:at]
        pieces = list(string.Formatter().parse(template[len(prefix) :]))
        suffix = pieces[-1][0] if pieces and pieces[-1][1] is None else ""
        return prefix, suffix
    return None


def fix_of(problem: Problem, element_id: str) -> Fix:
    """The hint of `problem`, its command apart when the template names one."""
    hint = problem.hint
    frame = command_frame(problem.code)
    if frame is not None:
        prefix, suffix = frame
        end = len(hint) - len(suffix)
        if hint.startswith(prefix) and hint.endswith(suffix) and end > len(prefix):
            after = suffix.lstrip(", ;")
            after = f"{after[:1].upper()}{after[1:]}." if after else ""
            before = prefix.removesuffix(" ") or IN_REPOSITORY
            return Fix(element_id, before, hint[len(prefix) : end], after)
    return Fix(element_id, hint)
